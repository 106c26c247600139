"""Reading the audit log: filters, pages, Japan-time display and a CSV export table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, func, select

from surveys.exports.spreadsheet import write_csv
from surveys.exports.table import Table
from surveys.models import AuditEvent

TOKYO = ZoneInfo("Asia/Tokyo")
PER_PAGE = 50
EXPORT_LIMIT = 100_000


@dataclass(frozen=True)
class AuditFilter:
    """What to show: all fields optional; dates are Japanese calendar dates, both inclusive."""

    action: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_detail(self) -> dict[str, str]:
        """Return the filters that are set, for the export's own audit event."""
        values = {
            "action": self.action,
            "actor": self.actor,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class AuditPage:
    """One page of events, newest first."""

    events: list[AuditEvent]
    page: int
    pages: int
    total: int


def start_of_japan_day(day: date) -> datetime:
    """Return the UTC moment a Japanese calendar day begins."""
    return datetime.combine(day, time.min, TOKYO).astimezone(UTC)


def japan_time(moment: datetime) -> str:
    """Format a stored UTC moment in Japan time with its zone: 2026-11-28 09:05:00 JST."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S JST")


def _where(query, f: AuditFilter):
    """Apply the filters to a query on AuditEvent."""
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.actor:
        escaped = f.actor.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(col(AuditEvent.actor_label).ilike(f"%{escaped}%", escape="\\"))
    if f.target_type:
        query = query.where(AuditEvent.target_type == f.target_type)
    if f.target_id:
        query = query.where(AuditEvent.target_id == f.target_id)
    if f.date_from:
        query = query.where(col(AuditEvent.at) >= start_of_japan_day(f.date_from))
    if f.date_to:
        query = query.where(col(AuditEvent.at) < start_of_japan_day(f.date_to + timedelta(1)))
    return query


def find_events(session: Session, f: AuditFilter, page: int = 1) -> AuditPage:
    """Return one page of matching events, newest first."""
    total = session.exec(_where(select(func.count()).select_from(AuditEvent), f)).one()
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(1, page), pages)
    query = _where(select(AuditEvent), f).order_by(col(AuditEvent.id).desc())
    events = session.exec(query.offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return AuditPage(list(events), page, pages, total)


def all_events(session: Session, f: AuditFilter) -> list[AuditEvent]:
    """Return every matching event (up to EXPORT_LIMIT), newest first."""
    query = _where(select(AuditEvent), f).order_by(col(AuditEvent.id).desc())
    return list(session.exec(query.limit(EXPORT_LIMIT)))


def actions_present(session: Session) -> list[str]:
    """Return the distinct actions in the log, sorted."""
    return sorted(session.exec(select(AuditEvent.action).distinct()))


def target_types_present(session: Session) -> list[str]:
    """Return the distinct target types in the log, sorted."""
    rows = session.exec(select(AuditEvent.target_type).distinct())
    return sorted(t for t in rows if t)


def _show(value: Any) -> str:
    """Render a detail value compactly (JSON for lists and mappings)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def detail_lines(detail: dict[str, Any]) -> list[str]:
    """Render an event's detail: 'key: before → after' for changes, 'key: value' otherwise."""
    lines = []
    for key, value in sorted((detail or {}).items()):
        if key == "changes" and isinstance(value, dict):
            for field, pair in sorted(value.items()):
                if isinstance(pair, list | tuple) and len(pair) == 2:
                    lines.append(f"{field}: {_show(pair[0])} → {_show(pair[1])}")
                else:
                    lines.append(f"{field}: {_show(pair)}")
        else:
            lines.append(f"{key}: {_show(value)}")
    return lines


def export_table(events: list[AuditEvent], headers: list[str], label) -> Table:
    """Build the export table; `label(action)` gives the readable action name."""
    rows = [
        [
            japan_time(e.at),
            e.actor_label,
            e.action,
            label(e.action),
            e.target_type,
            e.target_id,
            "\n".join(detail_lines(e.detail)),
        ]
        for e in events
    ]
    return Table(headers, rows)


def export_csv(events: list[AuditEvent], headers: list[str], label) -> bytes:
    """Return the events as CSV (UTF-8 with BOM, formula-like text kept as text)."""
    return write_csv(export_table(events, headers, label))
