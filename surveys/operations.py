"""Survey operations: answer, confirm, read history. No request globals; the caller commits."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from surveys import audit
from surveys.database import hold_write_lock
from surveys.errors import AnswerError, NothingToConfirm, VersionConflict, WrongQuestionnaire
from surveys.models import Facility, IndexOutbox, QuestionnaireVersion, SurveyResponse, utcnow
from surveys.network import link_directory
from surveys.questionnaire import Questionnaire

TOKYO = ZoneInfo("Asia/Tokyo")


def today_in_japan(now: datetime | None = None) -> date:
    """Return the calendar date in Japan (verification dates are Japanese dates)."""
    return (now or utcnow()).astimezone(TOKYO).date()


def ensure_questionnaire(session: Session, questionnaire: Questionnaire) -> QuestionnaireVersion:
    """Return the database row of this edition, registering it on first use."""
    query = select(QuestionnaireVersion).where(
        QuestionnaireVersion.version == questionnaire.version
    )
    row = session.exec(query).first()
    if row is not None:
        return row
    row = QuestionnaireVersion(
        version=questionnaire.version,
        title=questionnaire.title_ja,
        definition=questionnaire.source,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # registered by a concurrent first save
        return session.exec(query).one()
    return row


def lock_facility(session: Session, facility_id: int) -> None:
    """Hold the facility's answers against other writers until the transaction ends.

    PostgreSQL locks the facility row; SQLite takes the database write lock. Reads after
    this see the latest committed version, so a version check cannot be overtaken.
    """
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        hold_write_lock(connection)
    else:
        session.exec(select(Facility.id).where(Facility.id == facility_id).with_for_update())


def current_response(session: Session, facility_id: int) -> SurveyResponse | None:
    """Return the latest version of a facility's answers, or None if it never answered."""
    return session.exec(
        select(SurveyResponse)
        .where(SurveyResponse.facility_id == facility_id)
        .order_by(col(SurveyResponse.version_no).desc())
    ).first()


def current_responses(session: Session, facility_ids: Iterable[int]) -> dict[int, SurveyResponse]:
    """Return the latest response of each facility that has one."""
    ids = list(facility_ids)
    latest = (
        select(SurveyResponse.facility_id, func.max(SurveyResponse.version_no).label("v"))
        .where(col(SurveyResponse.facility_id).in_(ids))
        .group_by(SurveyResponse.facility_id)
        .subquery()
    )
    query = select(SurveyResponse).join(
        latest,
        (SurveyResponse.facility_id == latest.c.facility_id)
        & (SurveyResponse.version_no == latest.c.v),
    )
    return {r.facility_id: r for r in session.exec(query)}


def history(session: Session, facility_id: int) -> list[SurveyResponse]:
    """Return every version of a facility's answers, newest first."""
    return list(
        session.exec(
            select(SurveyResponse)
            .where(SurveyResponse.facility_id == facility_id)
            .order_by(col(SurveyResponse.version_no).desc())
        )
    )


def submit_answers(
    session: Session,
    facility: Facility,
    questionnaire: Questionnaire,
    answers: dict[str, Any],
    actor: audit.Actor,
    base_version: int,
    now: datetime | None = None,
) -> SurveyResponse:
    """Store a new version of the answers on top of `base_version` (0 when none yet).

    Facilities named by `facility_links` items must be offered now or already named by the
    facility's current answers (surveys/network).
    """
    if questionnaire.respondent != facility.category:
        raise WrongQuestionnaire()
    cleaned, errors = questionnaire.clean(
        answers, directory=_directory(session, facility, questionnaire)
    )
    if errors:
        raise AnswerError(errors)
    lock_facility(session, facility.id)
    latest = current_response(session, facility.id)
    if _is_repeat(latest, base_version, cleaned, actor):
        return latest
    _check_base(latest, base_version)
    questionnaire_row = ensure_questionnaire(session, questionnaire)
    row = _append_row(session, facility, questionnaire_row, cleaned, actor, base_version, now)
    audit.record(
        session,
        actor,
        "survey.answer",
        facility,
        version=row.version_no,
        changes=_diff(latest.answers if latest else {}, cleaned),
    )
    return row


def _directory(session: Session, facility: Facility, questionnaire: Questionnaire):
    """What the facility may choose in `facility_links` items: offered, or named by it already."""
    current = current_response(session, facility.id)  # read before the lock: it only widens
    return link_directory(session, questionnaire, current.answers if current else {})


def confirm_still_accurate(
    session: Session,
    facility: Facility,
    actor: audit.Actor,
    base_version: int,
    now: datetime | None = None,
) -> SurveyResponse:
    """Record that the current answers are still true, setting today's verification date."""
    lock_facility(session, facility.id)
    latest = current_response(session, facility.id)
    if latest is None:
        raise NothingToConfirm()
    if _is_repeat_confirm(latest, base_version, now):
        return latest
    _check_base(latest, base_version)
    questionnaire_row = session.get(QuestionnaireVersion, latest.questionnaire_id)
    row = _append_row(
        session, facility, questionnaire_row, latest.answers, actor, base_version, now, "confirm"
    )
    audit.record(
        session,
        actor,
        "survey.confirm",
        facility,
        version=row.version_no,
        changes={"verified_on": [latest.verified_on.isoformat(), row.verified_on.isoformat()]},
    )
    return row


def _is_repeat(latest: SurveyResponse | None, base: int, cleaned: dict, actor) -> bool:
    """A form posted twice: the version right after `base` already holds these answers."""
    return (
        latest is not None
        and latest.version_no == base + 1
        and latest.answers == cleaned
        and latest.submitted_by_label == actor.label
    )


def _is_repeat_confirm(latest: SurveyResponse, base: int, now: datetime | None) -> bool:
    """'Still accurate' pressed twice: today's confirmation already follows `base`."""
    return (
        latest.kind == "confirm"
        and latest.version_no == base + 1
        and latest.verified_on == today_in_japan(now)
    )


def _check_base(latest: SurveyResponse | None, base_version: int) -> None:
    """Refuse to save over a version the user has not seen."""
    current = latest.version_no if latest else 0
    if current != base_version:
        raise VersionConflict()


def _append_row(
    session, facility, questionnaire_row, answers, actor, base, now, kind="answer"
) -> SurveyResponse:
    """Insert version `base` + 1 plus its outbox row; a concurrent save becomes a conflict.

    The number comes from the base the user saw, never from a fresh read: if another save
    took it, the unique (facility, version) constraint refuses this one.
    """
    moment = now or utcnow()
    row = SurveyResponse(
        facility_id=facility.id,
        version_no=base + 1,
        questionnaire_id=questionnaire_row.id,
        kind=kind,
        answers=dict(answers),
        verified_on=today_in_japan(moment),
        submitted_by_user_id=actor.user_id,
        submitted_via_invitation_id=actor.invitation_id,
        submitted_by_label=actor.label,
        submitted_at=moment,
    )
    session.add(row)
    session.add(IndexOutbox(facility_id=facility.id, created_at=moment))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise VersionConflict() from exc
    return row


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """Return {key: [before, after]} for the answers that changed."""
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}
