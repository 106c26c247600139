"""Referral outcomes without patient data: "referred today", then one question two weeks later.

A referral holds the facility, the referrer's organisation and municipality, the date and, once
answered, an outcome code: nothing about the person referred. Operations never commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from surveys import audit, reports
from surveys.bilingual import bilingual
from surveys.errors import SurveyError
from surveys.models import OUTCOME_CODES, Facility, IndexOutbox, Referral, User, utcnow
from surveys.operations import today_in_japan

FOLLOW_UP_DAYS = 14
OUTCOME_LABELS = {
    "seen": ("はい", "Yes"),
    "no_appointment": ("予約が取れなかった", "Could not get an appointment"),
    "refused": ("断られた", "Turned away"),
    "did_not_go": ("本人が行かなかった", "The person did not go"),
    "unknown": ("わからない", "Don't know"),
}


class ReferralError(SurveyError):
    """A referral or outcome that cannot be stored as given."""

    status = 400
    message_ja = "紹介の記録を確認してください。"
    message_en = "Please check the referral."


class ReferralFacilityGone(ReferralError):
    """The facility was removed (or never existed)."""

    status = 404
    message_ja = "この医療機関は掲載されていないため、紹介を記録できませんでした。"
    message_en = "This facility is no longer listed, so the referral was not recorded."


class NotReferrable(ReferralError):
    """Referrals go to psychiatric facilities; obstetric units and contact points take none."""

    message_ja = "紹介の記録は精神科・心療内科の医療機関に対してのみ付けられます。"
    message_en = "Referrals can be recorded only for psychiatric facilities."


class DuplicateReferral(ReferralError):
    """The same referrer already marked this facility today."""

    status = 409
    message_ja = "この医療機関への本日の紹介は既に記録されています。"
    message_en = "Today's referral to this facility has already been recorded."


class ReferralNotFound(ReferralError):
    """No referral with this id."""

    status = 404
    message_ja = "この紹介の記録は見つかりません。"
    message_en = "This referral was not found."


class OtherOrganisation(ReferralError):
    """The user is neither the referrer nor from the referrer's organisation."""

    status = 403
    message_ja = "この紹介の結果は、紹介した方と同じ機関の方だけが回答できます。"
    message_en = "Only people from the referring organisation can answer for this referral."


class OutcomeAlreadyAnswered(ReferralError):
    """The outcome was given before (perhaps by a colleague)."""

    status = 409
    message_ja = "この紹介の結果は既に回答されています。ご協力ありがとうございます。"
    message_en = "This referral's outcome has already been answered. Thank you."


class OutcomeNotDue(ReferralError):
    """The question is asked only two weeks after the referral."""

    status = 409
    message_ja = f"結果は紹介の{FOLLOW_UP_DAYS}日後からお聞きします。"
    message_en = f"The outcome is asked from {FOLLOW_UP_DAYS} days after the referral."


class OutcomeInvalid(ReferralError):
    """An outcome code that is not one of the choices."""

    status = 422
    message_ja = "回答を選んでください。"
    message_en = "Please choose an answer."


def outcome_label(code: str, lang: str = "ja") -> str:
    """Return the label of an outcome code."""
    ja, en = OUTCOME_LABELS.get(code, (code, code))
    return bilingual(lang, ja, en)


def create_referral(
    session: Session, facility_id: int, user: User, actor: audit.Actor, now=None
) -> Referral:
    """Record that this user referred someone to the facility today (Japan)."""
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise ReferralFacilityGone()
    if facility.category != "psychiatric":
        raise NotReferrable()
    moment = now or utcnow()
    referral = Referral(
        facility_id=facility_id, referrer_user_id=user.id, organisation=user.organisation,
        municipality_code=user.municipality_code, referred_on=today_in_japan(moment),
        created_at=moment,
    )  # fmt: skip
    session.add(referral)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise DuplicateReferral() from exc
    audit.record(session, actor, "referral.create", referral, facility_id=facility_id)
    return referral


def due_on(referral: Referral) -> date:
    """Return the day from which the outcome question is asked."""
    return referral.referred_on + timedelta(days=FOLLOW_UP_DAYS)


def due_questions(
    session: Session, user: User, now: datetime | None = None
) -> list[tuple[Referral, str]]:
    """Return the user's own unanswered referrals whose question is due, with facility names."""
    cutoff = today_in_japan(now) - timedelta(days=FOLLOW_UP_DAYS)
    query = (
        select(Referral, Facility.name)
        .join(Facility, col(Facility.id) == Referral.facility_id)
        .where(Referral.referrer_user_id == user.id, Referral.outcome == "")
        .where(Referral.referred_on <= cutoff)
        .order_by(col(Referral.referred_on), col(Referral.id))
    )
    return [(referral, name) for referral, name in session.exec(query)]


def waiting(session: Session, user: User, now: datetime | None = None):
    """Return the user's unanswered referrals whose question is not due yet, with names."""
    cutoff = today_in_japan(now) - timedelta(days=FOLLOW_UP_DAYS)
    query = (
        select(Referral, Facility.name)
        .join(Facility, col(Facility.id) == Referral.facility_id)
        .where(Referral.referrer_user_id == user.id, Referral.outcome == "")
        .where(Referral.referred_on > cutoff)
        .order_by(col(Referral.referred_on))
    )
    return list(session.exec(query))


def may_answer(referral: Referral, user: User) -> bool:
    """The referrer, or a colleague of the same organisation and municipality, may answer."""
    if referral.referrer_user_id == user.id:
        return True
    return bool(referral.organisation) and (referral.organisation, referral.municipality_code) == (
        user.organisation,
        user.municipality_code,
    )


def answer_outcome(
    session: Session, referral_id: int, user: User, outcome: str, actor: audit.Actor, now=None
) -> Referral:
    """Store the outcome once; "no appointment" also opens an access report (re-verification)."""
    referral = _answerable(session, referral_id, user, outcome, now)
    moment = now or utcnow()
    result = session.exec(
        update(Referral)
        .where(Referral.id == referral.id, Referral.outcome == "")
        .values(outcome=outcome, answered_on=today_in_japan(moment), answered_by_user_id=user.id)
    )
    if result.rowcount != 1:
        raise OutcomeAlreadyAnswered()
    session.refresh(referral)
    session.add(IndexOutbox(facility_id=referral.facility_id, created_at=moment))
    audit.record(
        session, actor, "referral.outcome", referral, facility_id=referral.facility_id,
        outcome=outcome,
    )  # fmt: skip
    if outcome == "no_appointment":
        _open_report(session, referral, audit.Actor(actor.label, user.id), moment)
    return referral


def _answerable(session, referral_id, user, outcome, now) -> Referral:
    """Return the referral if this user may answer it now with this code, else raise why not."""
    if outcome not in OUTCOME_CODES:
        raise OutcomeInvalid()
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise ReferralNotFound()
    if not may_answer(referral, user):
        raise OtherOrganisation()
    if referral.outcome:
        raise OutcomeAlreadyAnswered()
    if today_in_japan(now) < due_on(referral):
        raise OutcomeNotDue()
    return referral


def _open_report(session, referral: Referral, actor, moment) -> None:
    """Open a "could not get an appointment" report, as the facility page's report does."""
    facility = session.get(Facility, referral.facility_id)
    # A report by the same user today already exists: it is open anyway.
    with contextlib.suppress(reports.DuplicateReport):
        reports.create_report(session, facility, "no_capacity", "", actor, moment)


@dataclass
class OutcomeCounts:
    """Referrals to a facility (or a municipality's facilities) and their outcomes."""

    referrals: int = 0
    seen: int = 0
    no_appointment: int = 0
    refused: int = 0
    did_not_go: int = 0
    unknown: int = 0

    @property
    def answered(self) -> int:
        """Return how many outcomes were answered."""
        return self.seen + self.no_appointment + self.refused + self.did_not_go + self.unknown

    @property
    def pending(self) -> int:
        """Return how many referrals still await their outcome."""
        return self.referrals - self.answered

    def add(self, other: OutcomeCounts) -> None:
        """Add another set of counts to this one."""
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def outcome_counts(
    session: Session, facility_ids: Iterable[int] | None = None
) -> dict[int, OutcomeCounts]:
    """Return the counts per facility (all facilities with referrals, or these)."""
    query = select(Referral.facility_id, Referral.outcome, func.count()).group_by(
        Referral.facility_id, Referral.outcome
    )
    if facility_ids is not None:
        query = query.where(col(Referral.facility_id).in_(list(facility_ids)))
    counts: dict[int, OutcomeCounts] = {}
    for facility_id, outcome, n in session.exec(query):
        row = counts.setdefault(facility_id, OutcomeCounts())
        row.referrals += n
        if outcome:
            setattr(row, outcome, getattr(row, outcome) + n)
    return counts


def counts_by_municipality(session: Session) -> dict[str, OutcomeCounts]:
    """Return the counts per municipality of the facilities referred to."""
    per_facility = outcome_counts(session)
    places = dict(
        session.exec(
            select(Facility.id, Facility.municipality_code).where(
                col(Facility.id).in_(list(per_facility))
            )
        ).all()
    )
    totals: dict[str, OutcomeCounts] = {}
    for facility_id, counts in per_facility.items():
        totals.setdefault(places.get(facility_id, ""), OutcomeCounts()).add(counts)
    return dict(sorted(totals.items()))
