"""Access reports ("could not get an appointment"): create, list, resolve. The caller commits.

A report is open until the admin resolves it or the clinic re-verifies its answers after the
report (a newer survey version, by saving answers or by "内容に変更なし"): reports older than the
facility's latest verification count as addressed, so no hook in the clinic portal is needed.
`resolve_after_verification` stamps them (with audit events) for callers that want it stored.
Creating or resolving a report writes an outbox row: the search index holds each facility's
open-report count, which the default order weighs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from surveys import audit
from surveys.bilingual import bilingual
from surveys.errors import SurveyError
from surveys.models import (
    REPORT_REASONS,
    AccessReport,
    Facility,
    IndexOutbox,
    SurveyResponse,
    User,
    utcnow,
)
from surveys.operations import today_in_japan

COMMENT_MAX = 200
REASON_LABELS = {
    "no_capacity": ("受け入れ枠がない（予約がいっぱい）", "No capacity (fully booked)"),
    "no_answer": ("電話がつながらない・返事がない", "No answer"),
    "refused_pregnant": (
        "妊娠中・産後であることを理由に断られた",
        "Refused because the patient is pregnant or postpartum",
    ),
    "other": ("その他", "Other"),
}


class ReportError(SurveyError):
    """A report cannot be stored as given."""

    status = 400
    message_ja = "報告の内容を確認してください。"
    message_en = "Please check the report."


class DuplicateReport(ReportError):
    """The same user already reported this facility today."""

    status = 409
    message_ja = (
        "この医療機関については、本日すでにご報告いただいています。ご協力ありがとうございます。"
    )
    message_en = "You have already reported this facility today. Thank you."


class ReportNotFound(ReportError):
    """No report with this id."""

    status = 404
    message_ja = "この報告は見つかりません。"
    message_en = "This report was not found."


def reason_label(reason: str, lang: str = "ja") -> str:
    """Return the label of a reason in the given language."""
    ja, en = REASON_LABELS.get(reason, (reason, reason))
    return bilingual(lang, ja, en)


@dataclass(frozen=True)
class ReportRow:
    """A report as the admin list shows it."""

    report: AccessReport
    facility_name: str
    reporter: str
    verified_after: datetime | None  # when the clinic re-verified after the report

    @property
    def status(self) -> str:
        """Return 'verified' (the clinic re-verified since), 'resolved' (admin) or 'open'."""
        if self.verified_after is not None:
            return "verified"
        return "resolved" if self.report.resolved_at is not None else "open"


def create_report(
    session: Session,
    facility: Facility,
    reason: str,
    comment: str,
    actor: audit.Actor,
    now: datetime | None = None,
) -> AccessReport:
    """Store a report by a signed-in user; a second one the same day raises DuplicateReport."""
    comment = _check(reason, comment, actor)
    moment = now or utcnow()
    report = AccessReport(
        facility_id=facility.id,
        reason=reason,
        comment=comment,
        reporter_user_id=actor.user_id,
        reported_on=today_in_japan(moment),
        created_at=moment,
    )
    _insert_once(session, report)
    session.add(IndexOutbox(facility_id=facility.id, created_at=moment))  # search ranks by it
    audit.record(
        session, actor, "access_report.create", report, facility_id=facility.id, reason=reason
    )
    return report


def _check(reason: str, comment: str, actor: audit.Actor) -> str:
    """Return the trimmed comment, or raise ReportError."""
    comment = (comment or "").strip().replace("\r\n", "\n")
    if reason not in REPORT_REASONS or len(comment) > COMMENT_MAX or actor.user_id is None:
        raise ReportError()
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in comment):
        raise ReportError()
    return comment


def _insert_once(session: Session, report: AccessReport) -> None:
    """Insert the report; the unique constraint turns a same-day repeat into DuplicateReport."""
    session.add(report)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise DuplicateReport() from exc


def _latest_verification():
    """Subquery: each facility's latest survey version time."""
    return (
        select(
            SurveyResponse.facility_id.label("facility_id"),
            func.max(SurveyResponse.submitted_at).label("at"),
        )
        .group_by(SurveyResponse.facility_id)
        .subquery()
    )


def _is_open(latest):
    """SQL condition: not resolved, and the facility has not re-verified since the report."""
    return and_(
        col(AccessReport.resolved_at).is_(None),
        or_(latest.c.at.is_(None), col(AccessReport.created_at) > latest.c.at),
    )


def open_reports(session: Session, facility_ids: Iterable[int]) -> dict[int, list[AccessReport]]:
    """Return the open reports of these facilities, oldest first."""
    latest = _latest_verification()
    query = (
        select(AccessReport)
        .outerjoin(latest, latest.c.facility_id == AccessReport.facility_id)
        .where(col(AccessReport.facility_id).in_(list(facility_ids)), _is_open(latest))
        .order_by(col(AccessReport.created_at))
    )
    found: dict[int, list[AccessReport]] = {}
    for report in session.exec(query):
        found.setdefault(report.facility_id, []).append(report)
    return found


def reports_for_admin(session: Session, limit: int = 300) -> list[ReportRow]:
    """Return reports for the admin: every open one first, then the others, newest first."""
    latest = _latest_verification()
    query = (
        select(AccessReport, Facility.name, User.email, latest.c.at)
        .join(Facility, col(Facility.id) == AccessReport.facility_id)
        .join(User, col(User.id) == AccessReport.reporter_user_id)
        .outerjoin(latest, latest.c.facility_id == AccessReport.facility_id)
        .order_by(case((_is_open(latest), 0), else_=1), col(AccessReport.created_at).desc())
        .limit(limit)
    )
    return [_row(*values) for values in session.exec(query)]


def _row(report: AccessReport, name: str, email: str, latest_at: datetime | None) -> ReportRow:
    """Build an admin row; the clinic re-verified when its latest version is newer."""
    verified = latest_at if latest_at is not None and latest_at > report.created_at else None
    return ReportRow(report, name, email, verified)


def resolve_report(
    session: Session, report_id: int, actor: audit.Actor, now: datetime | None = None
) -> AccessReport:
    """Mark one report resolved (the admin followed it up); resolving twice changes nothing."""
    report = session.get(AccessReport, report_id)
    if report is None:
        raise ReportNotFound()
    if report.resolved_at is None:
        _stamp(session, report, actor, now or utcnow(), via="admin")
    return report


def resolve_after_verification(
    session: Session, facility_id: int, actor: audit.Actor, now: datetime | None = None
) -> list[AccessReport]:
    """Mark a facility's open reports resolved because the clinic re-verified its answers."""
    moment = now or utcnow()
    query = (
        select(AccessReport)
        .where(AccessReport.facility_id == facility_id)
        .where(col(AccessReport.resolved_at).is_(None))
        .where(col(AccessReport.created_at) <= moment)
    )
    reports = list(session.exec(query))
    for report in reports:
        _stamp(session, report, actor, moment, via="clinic_verification")
    return reports


def _stamp(session: Session, report: AccessReport, actor, moment: datetime, via: str) -> None:
    """Set the resolution and record it."""
    report.resolved_at = moment
    report.resolved_by_label = actor.label[:200]
    session.add(report)
    session.add(IndexOutbox(facility_id=report.facility_id, created_at=moment))
    audit.record(
        session, actor, "access_report.resolve", report, facility_id=report.facility_id, via=via
    )
