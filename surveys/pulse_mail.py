"""The monthly capacity pulse mail: open the month's round, queue one mail per accepting
facility with an address, send resumably (the campaign mail's claim and delivery).

Like campaign mail these commit as they go: each queued message is committed, and each is
marked sent (its body, which holds the links, emptied) right after the server accepted it.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from string import Template

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from surveys import audit
from surveys.bilingual import bilingual
from surveys.campaign_mail import (
    LANGUAGES,
    QueueReport,
    SendReport,
    claim,
    closing_date,
    deliver,
    send_each,
)
from surveys.mail import MailSettings, Transport
from surveys.models import Facility, PulseMail, PulseRound, utcnow
from surveys.operations import TOKYO, current_responses, today_in_japan
from surveys.pulse import PulseLink, make_token

TEMPLATES = Path(__file__).parent / "mail" / "templates"
DEFAULT_LINK_DAYS = 31
ACCEPTING = ("yes", "conditional")


def month_of(now: datetime | None = None) -> str:
    """Return the month in Japan as "YYYY-MM"."""
    return today_in_japan(now).strftime("%Y-%m")


def is_due(send_day: int, now: datetime | None = None) -> bool:
    """Tell whether this month's pulse may go out (from day `send_day` of the month, in Japan)."""
    return today_in_japan(now).day >= send_day


def open_round(
    session: Session, link_days: int = DEFAULT_LINK_DAYS, now: datetime | None = None
) -> PulseRound:
    """Return this month's round, creating it (committed) on first use."""
    month = month_of(now)
    query = select(PulseRound).where(PulseRound.month == month)
    found = session.exec(query).first()
    if found is not None:
        return found
    moment = now or utcnow()
    pulse_round = PulseRound(
        month=month, links_expire_at=moment + timedelta(days=link_days), created_at=moment
    )
    session.add(pulse_round)
    try:
        session.commit()
    except IntegrityError:  # another run opened it meanwhile
        session.rollback()
        return session.exec(query).one()
    return pulse_round


def accepting_with_email(session: Session) -> list[Facility]:
    """Return facilities with an address whose answers accept pregnant or postpartum women."""
    facilities = session.exec(
        select(Facility)
        .where(Facility.email != "", Facility.category == "psychiatric")
        .order_by(Facility.id)
    ).all()
    answers = current_responses(session, [f.id for f in facilities])
    return [f for f in facilities if f.id in answers and _accepts(answers[f.id].answers)]


def _accepts(answers: dict) -> bool:
    """Tell whether answers accept pregnant or postpartum patients (yes or conditional)."""
    return answers.get("pregnant") in ACCEPTING or answers.get("postpartum") in ACCEPTING


def render(lang: str, facility: Facility, pulse_round: PulseRound, links: dict[str, str]):
    """Return (subject, body) of a pulse mail (the template's first line is the subject)."""
    lang = lang if lang in LANGUAGES else "ja"
    text = (TEMPLATES / lang / "pulse.txt").read_text(encoding="utf-8")
    month = int(pulse_round.month[5:])
    expires = pulse_round.links_expire_at.astimezone(TOKYO).date()
    filled = Template(text).safe_substitute(
        facility=facility.name,
        month=bilingual(lang, f"{month}月", calendar.month_name[month]),
        expires=closing_date(expires, lang),
        **{f"link_{code}": url for code, url in links.items()},
    )
    subject, _, body = filled.partition("\n")
    return subject.strip(), body.lstrip("\n")


def answer_links(secret: str, base_url: str, pulse_round: PulseRound, facility_id: int):
    """Return the three signed answer links {code: url} of one facility."""
    base = base_url.rstrip("/")
    return {
        code: f"{base}/pulse/{facility_id}/"
        + make_token(
            secret, PulseLink(pulse_round.id, facility_id, code, pulse_round.links_expire_at)
        )
        for code in ("room", "little", "none")
    }


def queue_round(
    session: Session,
    pulse_round: PulseRound,
    secret: str,
    base_url: str,
    actor: audit.Actor,
    language: str = "ja",
) -> QueueReport:
    """Queue one mail per accepting facility with an address that has none this round."""
    report = QueueReport("pulse", 0)
    have = set(
        session.exec(select(PulseMail.facility_id).where(PulseMail.round_id == pulse_round.id))
    )
    for facility in accepting_with_email(session):
        if facility.id in have:
            report.already += 1
        elif _queue_one(session, pulse_round, facility, secret, base_url, language):
            report.queued += 1
        else:
            report.already += 1
    audit.record(
        session, actor, "pulse.queue", pulse_round, queued=report.queued, already=report.already
    )
    session.commit()
    return report


def _queue_one(session, pulse_round, facility, secret, base_url, language) -> bool:
    """Queue and commit one facility's mail; False if another run queued it first."""
    links = answer_links(secret, base_url, pulse_round, facility.id)
    subject, body = render(language, facility, pulse_round, links)
    session.add(
        PulseMail(
            round_id=pulse_round.id, facility_id=facility.id, to_address=facility.email,
            language=language, subject=subject, body=body,
        )
    )  # fmt: skip
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return False
    return True


def _pending(pulse_round: PulseRound, retry_failed: bool) -> tuple:
    """Return the conditions of a message a send run should (still) send."""
    statuses = ["queued", "failed"] if retry_failed else ["queued"]
    return (PulseMail.round_id == pulse_round.id, col(PulseMail.status).in_(statuses))


def pending_count(session: Session, pulse_round: PulseRound, retry_failed: bool = False) -> int:
    """Return how many messages a send run would send."""
    query = select(func.count(col(PulseMail.id))).where(*_pending(pulse_round, retry_failed))
    return session.exec(query).one()


def send_round(
    session: Session,
    pulse_round: PulseRound,
    settings: MailSettings,
    actor: audit.Actor,
    retry_failed: bool = False,
    advance: Callable[[int], object] | None = None,
    time_budget: float | None = None,
) -> SendReport:
    """Send the round's queued messages one by one, committing each; resumable."""
    query = select(PulseMail.id).where(*_pending(pulse_round, retry_failed)).order_by(PulseMail.id)
    ids = list(session.exec(query))
    report = SendReport(total=len(ids))
    lease = timedelta(seconds=settings.send_lease)

    def send_one(transport: Transport, message_id: int) -> None:
        if claim(session, message_id, retry_failed, lease, model=PulseMail):
            message = session.get(PulseMail, message_id, populate_existing=True)
            key = f"pmh.pulse{pulse_round.id}.message{message.id}"
            deliver(session, transport, settings, message, key, report)

    try:
        send_each(ids, settings, report, send_one, advance, time_budget)
    finally:
        session.rollback()
        report.remaining = pending_count(session, pulse_round, retry_failed)
        audit.record(
            session, actor, "pulse.send", pulse_round, sent=report.sent, failed=report.failed,
            remaining=report.remaining,
        )  # fmt: skip
        session.commit()
    return report
