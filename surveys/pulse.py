"""Capacity pulse answers: signed one-click links, the portal form, the latest answer, rates.

Operations take explicit arguments and never commit; each answer is stored with an index
outbox row (and an audit event) in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from surveys import audit
from surveys.bilingual import bilingual
from surveys.errors import SurveyError
from surveys.models import (
    CAPACITY_CODES,
    Facility,
    IndexOutbox,
    PulseAnswer,
    PulseMail,
    PulseRound,
    utcnow,
)
from surveys.operations import today_in_japan

SALT = "pmh-capacity-pulse"
WAIT_MAX = 365
CAPACITY_LABELS = {
    "room": ("あり", "room"),
    "little": ("少し", "a little"),
    "none": ("なし", "none"),
}


class PulseError(SurveyError):
    """A pulse link or answer that cannot be used as given."""

    status = 400
    message_ja = "このリンクは正しくありません。メールのリンクを省略せずに開いてください。"
    message_en = "This link is not valid. Open the whole link from the e-mail."


class PulseLinkExpired(PulseError):
    """The round's links have stopped working."""

    status = 410
    message_ja = (
        "このリンクは有効期限が切れています。"
        "医療機関ポータルから更新するか、次回のメールをお待ちください。"
    )
    message_en = (
        "This link has expired. Update the answer from the clinic portal, or wait for next "
        "month's e-mail."
    )


class PulseLinkUsed(PulseError):
    """This round's mail was answered already (by any of its three links)."""

    status = 409
    message_ja = (
        "このメールからの回答は既に記録されています。"
        "変更する場合は医療機関ポータルから更新してください。"
    )
    message_en = (
        "An answer from this e-mail has already been recorded. "
        "To change it, update it from the clinic portal."
    )


class PulseWrongFacility(PulseError):
    """The link was made for another facility than the one in the address."""

    message_ja = (
        "このリンクは別の医療機関のものです。届いたメールのリンクをそのまま開いてください。"
    )
    message_en = "This link belongs to another facility. Open the link exactly as it was mailed."


class PulseFacilityGone(PulseError):
    """The facility no longer exists."""

    status = 404
    message_ja = "この医療機関は掲載されていません。事務局にお問い合わせください。"
    message_en = "This facility is no longer listed. Please contact the programme office."


class PulseAnswerInvalid(PulseError):
    """The answer or the wait days are not among the accepted values."""

    status = 422
    message_ja = "新規枠は「あり・少し・なし」から選び、待ち日数は0〜365の数字で入力してください。"
    message_en = "Choose room, a little or none, and give the wait as a number from 0 to 365."


@dataclass(frozen=True)
class PulseLink:
    """What a link says: this round, this facility, this answer, until then."""

    round_id: int
    facility_id: int
    capacity: str
    expires_at: datetime


def capacity_label(code: str, lang: str = "ja") -> str:
    """Return the label of an answer code ("少し")."""
    ja, en = CAPACITY_LABELS.get(code, (code, code))
    return bilingual(lang, ja, en)


def make_token(secret: str, link: PulseLink) -> str:
    """Sign a link's content (nothing is stored for it)."""
    expires = int(link.expires_at.timestamp())
    payload = [link.round_id, link.facility_id, link.capacity, expires]
    return URLSafeSerializer(secret, salt=SALT).dumps(payload)


def read_link(
    session: Session, secret: str, facility_id: int, token: str, now: datetime | None = None
) -> PulseLink:
    """Return the link if it may still be used for this facility, else raise why not."""
    link = _unsigned(secret, token)
    if link.facility_id != facility_id:
        raise PulseWrongFacility()
    if session.get(Facility, facility_id) is None:
        raise PulseFacilityGone()
    if (now or utcnow()) >= link.expires_at:
        raise PulseLinkExpired()
    if _round_answer(session, link) is not None:
        raise PulseLinkUsed()
    return link


def _unsigned(secret: str, token: str) -> PulseLink:
    """Check the signature and the shape of a token."""
    if not token or len(token) > 200:
        raise PulseError()
    try:
        round_id, facility_id, capacity, expires = URLSafeSerializer(secret, salt=SALT).loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise PulseError() from exc
    if capacity not in CAPACITY_CODES or not all(
        isinstance(n, int) for n in (round_id, facility_id, expires)
    ):
        raise PulseError()
    return PulseLink(round_id, facility_id, capacity, datetime.fromtimestamp(expires, UTC))


def _round_answer(session: Session, link: PulseLink) -> PulseAnswer | None:
    """Return the answer already given through this round's mail, if any."""
    query = select(PulseAnswer).where(
        PulseAnswer.round_id == link.round_id, PulseAnswer.facility_id == link.facility_id
    )
    return session.exec(query).first()


def record_from_link(
    session: Session,
    secret: str,
    facility_id: int,
    token: str,
    wait_days: int | None = None,
    now: datetime | None = None,
) -> PulseAnswer:
    """Store the answer a mail link carries (once per round and facility)."""
    link = read_link(session, secret, facility_id, token, now)
    actor = audit.Actor(f"pulse-link:{link.round_id}")
    return _store(session, facility_id, link.capacity, wait_days, actor, "mail", link.round_id, now)


def record_from_portal(
    session: Session,
    facility: Facility,
    capacity: str,
    wait_days: int | None,
    actor: audit.Actor,
    now: datetime | None = None,
) -> PulseAnswer:
    """Store an answer a signed-in clinic gave on its portal."""
    return _store(session, facility.id, capacity, wait_days, actor, "portal", None, now)


def _store(session, facility_id, capacity, wait_days, actor, via, round_id, now) -> PulseAnswer:
    """Insert the answer, its outbox row and its audit event; a repeat raises PulseLinkUsed."""
    if capacity not in CAPACITY_CODES or not _wait_ok(wait_days):
        raise PulseAnswerInvalid()
    moment = now or utcnow()
    answer = PulseAnswer(
        facility_id=facility_id, capacity=capacity, wait_days=wait_days,
        answered_on=today_in_japan(moment), via=via, round_id=round_id, answered_at=moment,
    )  # fmt: skip
    session.add(answer)
    session.add(IndexOutbox(facility_id=facility_id, created_at=moment))
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the same round's mail answered meanwhile
        raise PulseLinkUsed() from exc
    audit.record(
        session, actor, "pulse.answer", answer, facility_id=facility_id, capacity=capacity, via=via
    )
    return answer


def _wait_ok(wait_days: int | None) -> bool:
    """Tell whether an optional wait in days is acceptable."""
    return wait_days is None or (isinstance(wait_days, int) and 0 <= wait_days <= WAIT_MAX)


def latest_answers(session: Session, facility_ids: Iterable[int]) -> dict[int, PulseAnswer]:
    """Return each facility's newest pulse answer."""
    ids = list(facility_ids)
    if not ids:
        return {}
    newest = (
        select(func.max(PulseAnswer.id).label("id"))
        .where(col(PulseAnswer.facility_id).in_(ids))
        .group_by(PulseAnswer.facility_id)
        .subquery()
    )
    query = select(PulseAnswer).join(newest, col(PulseAnswer.id) == newest.c.id)
    return {a.facility_id: a for a in session.exec(query)}


@dataclass(frozen=True)
class MonthRate:
    """One round: facilities mailed, how many answered that month, and what they said."""

    month: str
    mailed: int
    answered: int
    counts: dict[str, int]

    @property
    def rate(self) -> float:
        """Return answered / mailed (0 when nothing was mailed)."""
        return self.answered / self.mailed if self.mailed else 0.0


def monthly_rates(session: Session) -> list[MonthRate]:
    """Return the response rate of every round, newest month first."""
    rounds = session.exec(select(PulseRound).order_by(col(PulseRound.month).desc())).all()
    return [_month_rate(session, r) for r in rounds]


def _month_rate(session: Session, pulse_round: PulseRound) -> MonthRate:
    """Count a round: mailed facilities whose newest answer in that month says what."""
    mailed = set(
        session.exec(
            select(PulseMail.facility_id).where(
                PulseMail.round_id == pulse_round.id, PulseMail.status == "sent"
            )
        )
    )
    first, last = month_bounds(pulse_round.month)
    answers = session.exec(
        select(PulseAnswer)
        .where(col(PulseAnswer.facility_id).in_(mailed))
        .where(PulseAnswer.answered_on >= first, PulseAnswer.answered_on <= last)
        .order_by(PulseAnswer.id)
    ).all()
    newest = {a.facility_id: a.capacity for a in answers}
    counts = {code: list(newest.values()).count(code) for code in CAPACITY_CODES}
    return MonthRate(pulse_round.month, len(mailed), len(newest), counts)


def month_bounds(month: str) -> tuple[date, date]:
    """Return the first and last day of a "YYYY-MM" month."""
    year, number = (int(part) for part in month.split("-"))
    first = date(year, number, 1)
    following = date(year + number // 12, number % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)
