"""Anchoring the audit chain outside the database, and re-chaining rows under the audit key.

A checkpoint is the chain's head (row count, last id, its MAC, the time) written to a file that
is kept off the database host. The keyed chain stops anyone without the key from rewriting rows;
the checkpoint catches what the chain alone cannot: rows removed from the end.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, select

from surveys import audit
from surveys.errors import UserFacingError
from surveys.models import AuditEvent, utcnow

FORMAT = "pmh-audit-checkpoint/1"


class AuditAnchorError(UserFacingError):
    """A checkpoint cannot be made or read, or the chain cannot be re-chained."""


@dataclass(frozen=True)
class Checkpoint:
    """The head of the chain at one moment."""

    count: int
    last_id: int
    mac: str
    at: str
    format: str = FORMAT

    def to_json(self) -> str:
        """Serialise for a file (one JSON object)."""
        return json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, content: str) -> Checkpoint:
        """Read a checkpoint written by `to_json`; refuse anything else with a clear message."""
        try:
            data = json.loads(content)
            if data.get("format") != FORMAT:
                raise ValueError(data.get("format"))
            return cls(int(data["count"]), int(data["last_id"]), str(data["mac"]), str(data["at"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise AuditAnchorError(
                "監査ログのチェックポイントファイルとして読めません。",
                "This is not an audit checkpoint file (pmh audit checkpoint writes one).",
            ) from None


def checkpoint(session: Session, key: bytes) -> Checkpoint:
    """Return the head of a chain that verifies (a broken chain is not worth anchoring)."""
    report = audit.verify_chain(session, key)
    if not report.ok:
        raise AuditAnchorError(
            f"監査ログの連鎖が行 {report.bad_id} で壊れているため、チェックポイントを作りません。",
            f"The audit chain is broken at row {report.bad_id} ({report.problem}); "
            "no checkpoint written.",
        )
    last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)).first()
    last_id, mac = (last.id, last.row_hash) if last else (0, audit.GENESIS)
    return Checkpoint(report.count, last_id, mac, utcnow().isoformat(timespec="seconds"))


def compare(session: Session, mark: Checkpoint) -> str:
    """Return what no longer matches the checkpoint (empty when the chain still holds it)."""
    if mark.last_id == 0:
        return ""
    row = session.get(AuditEvent, mark.last_id)
    if row is None:
        return (
            f"row {mark.last_id}, the last one at the checkpoint ({mark.at}), is gone: "
            "rows were removed from the end of the log"
        )
    if not hmac.compare_digest(row.row_hash, mark.mac):
        return f"row {mark.last_id} no longer has the MAC it had at the checkpoint ({mark.at})"
    count = session.exec(select(func.count()).where(AuditEvent.id <= mark.last_id)).one()
    if count != mark.count:
        return f"{count} rows up to row {mark.last_id}, but {mark.count} at the checkpoint"
    return ""


@dataclass(frozen=True)
class RekeyReport:
    """How many rows were re-chained, and how many of them were unkeyed before."""

    count: int
    unkeyed: int


def rekey(session: Session, key: bytes) -> RekeyReport:
    """Check the chain as it stands, then chain every row under `key` (once, after upgrading).

    Unkeyed rows are accepted only before the first keyed one: rows from before the upgrade.
    """
    count, unkeyed = _check_for_rekey(session, key)
    if unkeyed:
        conn = session.connection()
        audit.lock_chain(conn)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL pmh.audit_maintenance = 'on'"))
        audit.chain_existing(conn, key)
        audit.record(session, audit.CLI_ACTOR, "audit.rekeyed", None, rows=count, unkeyed=unkeyed)
    return RekeyReport(count, unkeyed)


def needs_rekey(session: Session, key: bytes) -> bool:
    """Tell whether the chain starts with a row hashed without a key (an upgraded instance)."""
    first = next(audit.rows(session), None)
    if first is None:
        return False
    values = {name: getattr(first, name) for name in audit.HASHED}
    keyed = hmac.compare_digest(audit.row_mac(values, key), first.row_hash)
    return not keyed and audit.legacy_hash(values) == first.row_hash


def _check_for_rekey(session: Session, key: bytes) -> tuple[int, int]:
    """Walk the chain accepting unkeyed rows up to the first keyed one; return both counts."""
    prev, count, unkeyed, keyed_seen = audit.GENESIS, 0, 0, False
    for row in audit.rows(session):
        count += 1
        values = {name: getattr(row, name) for name in audit.HASHED}
        keyed = hmac.compare_digest(audit.row_mac(values, key), row.row_hash)
        legacy = not keyed_seen and audit.legacy_hash(values) == row.row_hash
        if row.prev_hash != prev or not (keyed or legacy):
            _refuse_rekey(row.id)
        keyed_seen, unkeyed, prev = keyed_seen or keyed, unkeyed + legacy, row.row_hash
    return count, unkeyed


def _refuse_rekey(row_id: Any) -> None:
    """Stop a rekey at a row that fits neither the old nor the keyed chain."""
    raise AuditAnchorError(
        f"監査ログの行 {row_id} が連鎖に合わないため、鍵付きの連鎖に移行しません。",
        f"Audit row {row_id} fits neither the unkeyed nor the keyed chain "
        "(changed, removed or inserted); nothing was re-chained.",
    )
