"""Applying parsed records to the facility master (never deleting), and the report of it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from surveys import audit, corrections
from surveys.errors import FacilityImportError, ImportProblem
from surveys.models import Facility, ImportEdition, IndexOutbox, utcnow

from .messages import problem
from .records import FacilityRecord, ParsedImport


@dataclass
class FacilityChange:
    """A facility the import creates or changes: field -> (before, after)."""

    source_id: str
    name: str
    fields: dict[str, tuple[Any, Any]]


@dataclass
class ImportReport:
    """The outcome of applying (or dry-running) an import."""

    source: str
    dry_run: bool
    new: list[FacilityChange] = field(default_factory=list)
    changed: list[FacilityChange] = field(default_factory=list)
    unchanged: int = 0
    skipped_not_psychiatric: int = 0
    skipped_other_prefecture: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    # Fields where the file differs from a correction the office approved: (source id, name,
    # field, approved value, file's value). Kept unless the admin chose to take the file's.
    conflicts: list[tuple[str, str, str, Any, Any]] = field(default_factory=list)
    keep_corrections: bool = True
    in_force: dict[tuple[int, str], Any] = field(default_factory=dict, repr=False)

    def counts(self) -> dict[str, int]:
        """Return the counts, as stored in the audit event."""
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "skipped_not_psychiatric": self.skipped_not_psychiatric,
            "skipped_other_prefecture": self.skipped_other_prefecture,
            "missing": len(self.missing),
        }


def apply_import(
    session: Session,
    parsed: ParsedImport,
    actor: audit.Actor,
    dry_run: bool = False,
    force: bool = False,
    keep_corrections: bool = True,
) -> ImportReport:
    """Create and update facilities from parsed records; never deletes; the caller commits.

    An 医療情報ネット edition older than the last one applied is refused unless `force`. A field
    a clinic corrected (approved by the office) is listed as a conflict and kept, unless
    `keep_corrections` is False (then the file's value wins).
    """
    if parsed.problems:
        raise FacilityImportError(parsed.problems)
    _check_edition(session, parsed, force)
    report = ImportReport(
        source=parsed.source,
        dry_run=dry_run,
        warnings=list(parsed.warnings),
        skipped_not_psychiatric=parsed.skipped_not_psychiatric,
        skipped_other_prefecture=parsed.skipped_other_prefecture,
        keep_corrections=keep_corrections,
        in_force=corrections.in_force(session),
    )
    existing = {f.source_id: f for f in session.exec(select(Facility))}
    written = [_apply_record(session, report, existing.get(r.source_id), r) for r in parsed.records]
    report.missing = _missing(existing, parsed)
    if not dry_run and (report.new or report.changed):
        _note_writes(session, actor, parsed, report, [f for f in written if f is not None])
    if not dry_run:
        _note_edition(session, parsed)
    return report


def _check_edition(session: Session, parsed: ParsedImport, force: bool) -> None:
    """Refuse an edition older than the one last applied for its kind, unless forced."""
    if parsed.edition is None or force:
        return
    for kind in sorted(parsed.kinds):
        last = session.get(ImportEdition, kind)
        if last is not None and parsed.edition < last.edition:
            found = problem("older_edition", edition=parsed.edition, last=last.edition)
            raise FacilityImportError([found])


def _note_edition(session: Session, parsed: ParsedImport) -> None:
    """Remember the edition applied for each kind the file lists."""
    if parsed.edition is None:
        return
    for kind in parsed.kinds:
        stored = session.get(ImportEdition, kind) or ImportEdition(
            kind=kind, edition=parsed.edition
        )
        stored.edition, stored.source, stored.applied_at = parsed.edition, parsed.source, utcnow()
        session.add(stored)


def _apply_record(
    session: Session, report: ImportReport, facility: Facility | None, record: FacilityRecord
) -> Facility | None:
    """Create or update one facility; return it when it was written."""
    if facility is None:
        return _create(session, report, record)
    return _update(report, facility, record)


def _create(session: Session, report: ImportReport, record: FacilityRecord) -> Facility | None:
    """Report a new facility and, unless dry-running, add it."""
    fields = {k: (None, v) for k, v in record.values.items() if v not in ("", None)}
    report.new.append(FacilityChange(record.source_id, record.values["name"], fields))
    if report.dry_run:
        return None
    facility = Facility(source_id=record.source_id, **record.values)
    session.add(facility)
    return facility


def _update(report: ImportReport, facility: Facility, record: FacilityRecord) -> Facility | None:
    """Report the fields of a facility that differ and, unless dry-running, set them."""
    changes = _diff(facility, record.values)
    _corrected(report, facility, changes)
    if not changes:
        report.unchanged += 1
        return None
    report.changed.append(FacilityChange(record.source_id, facility.name, changes))
    if report.dry_run:
        return None
    for name, (_before, after) in changes.items():
        setattr(facility, name, after)
    facility.updated_at = utcnow()
    return facility


def _corrected(report: ImportReport, facility: Facility, changes: dict) -> None:
    """List changes to fields an approved correction set; drop them when corrections are kept."""
    for name in list(changes):
        approved = report.in_force.get((facility.id, name))
        if approved is not None and approved == changes[name][0]:
            report.conflicts.append((facility.source_id, facility.name, name, *changes[name]))
            if report.keep_corrections:
                del changes[name]


def _note_writes(
    session: Session,
    actor: audit.Actor,
    parsed: ParsedImport,
    report: ImportReport,
    written: list[Facility],
) -> None:
    """Queue the written facilities for the search index and record one audit event."""
    session.flush()  # ids for the outbox rows of new facilities
    session.add_all(IndexOutbox(facility_id=f.id) for f in written)
    detail = {"source": parsed.source, "format": parsed.format, **report.counts()}
    if parsed.edition:
        detail["edition"] = parsed.edition.isoformat()
    audit.record(session, actor, "facility.import", None, **detail)


def _diff(facility: Facility, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Return {field: (stored, new)} for the fields that differ."""
    return {
        name: (getattr(facility, name), value)
        for name, value in values.items()
        if not _same(getattr(facility, name), value)
    }


def _same(stored: Any, new: Any) -> bool:
    """Compare values, coordinates to about a centimetre."""
    if isinstance(stored, float) and isinstance(new, float):
        return math.isclose(stored, new, abs_tol=1e-7)
    return stored == new


def _missing(existing: dict[str, Facility], parsed: ParsedImport) -> list[tuple[str, str]]:
    """Facilities of this prefecture and kind that the file does not (or no longer) list."""
    listed = {r.source_id for r in parsed.records}
    return sorted(
        (f.source_id, f.name)
        for f in existing.values()
        if f.prefecture_code == parsed.prefecture_code
        and f.kind in parsed.kinds
        and f.source_id not in listed
    )
