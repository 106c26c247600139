"""Campaign e-mail: queue invitations and reminders, then send them one by one, resumably.

Unlike most operations these commit as they go: a queued message is committed with its
invitation, and each message is marked sent (its body, which holds the clear link, emptied)
right after the server accepted it, so an interrupted run resumes without sending twice.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from string import Template

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from surveys import audit
from surveys.bilingual import bilingual
from surveys.campaigns import answered_ids, campaign_category, check_open, in_scope
from surveys.errors import SurveyError
from surveys.invitations import create_invitation
from surveys.mail import MailError, MailSettings, Transport, build_message, open_transport
from surveys.models import Campaign, Facility, MailMessage, utcnow
from surveys.office import OfficeContact
from surveys.operations import TOKYO

TEMPLATES = Path(__file__).parent / "mail" / "templates"
LANGUAGES = ("ja", "en")
WEEKDAYS_JA = "月火水木金土日"


class SendInterrupted(SurveyError):
    """The server could not be reached or asked to try later: the run stopped, resumable."""

    status = 503


class RoundAlreadyQueued(SurveyError):
    """A reminder round was asked for twice (e.g. a form posted twice)."""

    status = 409
    message_ja = "この督促は既に作成されています。"
    message_en = "These reminders have already been queued."


class MessagesPending(SurveyError):
    """Reminders cannot start while earlier messages still wait to be sent."""

    status = 409
    message_ja = "送信待ちのメールがあります。先に送信を完了してから督促してください。"
    message_en = "Some messages are still waiting to be sent: finish sending before reminding."


@dataclass
class QueueReport:
    """What a queue step did: messages queued, already there, facilities without an address."""

    kind: str
    round: int
    queued: int = 0
    already: int = 0
    without_email: list[tuple[int, str]] = field(default_factory=list)
    office: OfficeContact | None = None  # the contact the messages end with


@dataclass
class SendReport:
    """What a send step did."""

    total: int = 0
    sent: int = 0
    failed: int = 0
    remaining: int = 0  # still queued when the run stopped (its time budget ran out)


def invitation_link(base_url: str, token: str) -> str:
    """Return the facility's own invitation address."""
    return f"{base_url.rstrip('/')}/clinic/invite/{token}"


def closing_date(day: date, lang: str) -> str:
    """Write a date as 2026年12月25日（金） or Friday 25 December 2026."""
    return bilingual(
        lang,
        f"{day.year}年{day.month}月{day.day}日（{WEEKDAYS_JA[day.weekday()]}）",
        f"{day:%A} {day.day} {day:%B %Y}",
    )


def clinics_page(link: str) -> str:
    """Return the 'for clinics' page address on the same site as an invitation link."""
    return link.split("/clinic/invite/")[0].split("/invite/")[0] + "/clinics"


def render(
    kind: str,
    lang: str,
    facility: Facility,
    campaign: Campaign,
    link: str,
    office: OfficeContact | None = None,
):
    """Return (subject, body) of an invitation or reminder (template's first line: subject)."""
    lang = lang if lang in LANGUAGES else "ja"
    hearing = campaign_category(campaign) != "psychiatric"  # obstetric units, contact points
    name = f"hearing_{kind}" if hearing else kind
    text = (TEMPLATES / lang / f"{name}.txt").read_text(encoding="utf-8")
    filled = Template(text).safe_substitute(
        facility=facility.name,
        campaign=campaign.name,
        closes=closing_date(campaign.closes_at.astimezone(TOKYO).date(), lang),
        link=link,
        clinics_url=clinics_page(link),
        office=(office or OfficeContact()).text(lang),
    )
    subject, _, body = filled.partition("\n")
    return subject.strip(), body.lstrip("\n")


def queue_invitations(
    session: Session,
    campaign: Campaign,
    actor: audit.Actor,
    base_url: str,
    language: str = "ja",
    office: OfficeContact | None = None,
) -> QueueReport:
    """Queue one invitation (round 0) per in-scope facility with an address not yet queued."""
    check_open(campaign)
    targets = list(session.exec(in_scope(campaign)))
    report = QueueReport("invitation", 0, office=office)
    report = _queue(session, campaign, actor, targets, report, base_url, language)
    _record_queue(session, actor, "campaign.queue", campaign, report)
    return report


def next_reminder_round(session: Session, campaign: Campaign) -> int:
    """Return the number the next reminder round gets (1, 2, ...)."""
    last = session.exec(
        select(func.max(MailMessage.round)).where(MailMessage.campaign_id == campaign.id)
    ).one()
    return (last or 0) + 1


def queue_reminders(
    session: Session,
    campaign: Campaign,
    actor: audit.Actor,
    base_url: str,
    language: str = "ja",
    expected_round: int | None = None,
    office: OfficeContact | None = None,
) -> QueueReport:
    """Queue a new reminder round, with fresh links, for in-scope facilities yet to answer."""
    check_open(campaign)
    if pending_count(session, campaign, retry_failed=False):
        raise MessagesPending()
    round_no = next_reminder_round(session, campaign)
    if expected_round is not None and expected_round != round_no:
        raise RoundAlreadyQueued()
    answered = answered_ids(session, campaign)
    targets = [f for f in session.exec(in_scope(campaign)) if f.id not in answered]
    report = QueueReport("reminder", round_no, office=office)
    report = _queue(session, campaign, actor, targets, report, base_url, language)
    _record_queue(session, actor, "campaign.remind", campaign, report)
    return report


def _queue(session, campaign, actor, targets, report, base_url, language) -> QueueReport:
    """Queue a message for each target with an address; each one in its own transaction."""
    have = set(
        session.exec(
            select(MailMessage.facility_id).where(
                MailMessage.campaign_id == campaign.id,
                MailMessage.kind == report.kind,
                MailMessage.round == report.round,
            )
        )
    )
    for facility in targets:
        if not facility.email:
            report.without_email.append((facility.id, facility.name))
        elif facility.id in have:
            report.already += 1
        elif _queue_one(session, campaign, facility, actor, report, base_url, language):
            report.queued += 1
        else:
            report.already += 1
    return report


def _queue_one(session, campaign, facility, actor, report, base_url, language) -> bool:
    """Create the invitation and its message and commit; False if another run was first."""
    invitation, token = create_invitation(
        session, facility, campaign, actor, facility.email, channel="email"
    )
    link = invitation_link(base_url, token)
    subject, body = render(report.kind, language, facility, campaign, link, report.office)
    session.add(
        MailMessage(
            campaign_id=campaign.id,
            facility_id=facility.id,
            invitation_id=invitation.id,
            kind=report.kind,
            round=report.round,
            to_address=facility.email,
            language=language,
            subject=subject,
            body=body,
        )
    )
    try:
        session.commit()
    except IntegrityError:  # the same message queued meanwhile (a double post)
        session.rollback()
        return False
    return True


def _record_queue(session, actor, action, campaign, report: QueueReport) -> None:
    """Record and commit the audit event of a queue step."""
    audit.record(
        session,
        actor,
        action,
        campaign,
        round=report.round,
        queued=report.queued,
        already=report.already,
        without_email=len(report.without_email),
    )
    session.commit()


def _pending(campaign: Campaign, retry_failed: bool) -> tuple:
    """Return the conditions of a message a send run should (still) send."""
    statuses = ["queued", "failed"] if retry_failed else ["queued"]
    return (MailMessage.campaign_id == campaign.id, col(MailMessage.status).in_(statuses))


def _pending_query(campaign: Campaign, retry_failed: bool):
    """Select ids of the messages a send run should (still) send, in id order."""
    return select(MailMessage.id).where(*_pending(campaign, retry_failed)).order_by(MailMessage.id)


def pending_count(session: Session, campaign: Campaign, retry_failed: bool = False) -> int:
    """Return how many messages a send run would send."""
    query = select(func.count(col(MailMessage.id))).where(*_pending(campaign, retry_failed))
    return session.exec(query).one()


def send_pending(
    session: Session,
    campaign: Campaign,
    settings: MailSettings,
    actor: audit.Actor,
    retry_failed: bool = False,
    advance: Callable[[int], object] | None = None,
    time_budget: float | None = None,
) -> SendReport:
    """Send queued (and with retry_failed, failed) messages one by one, committing each.

    With a time budget (seconds) the run stops once it is spent; running again continues.
    """
    check_open(campaign)
    ids = list(session.exec(_pending_query(campaign, retry_failed)))
    report = SendReport(total=len(ids))

    def send_one(transport: Transport, message_id: int) -> None:
        _send_one(session, campaign, transport, settings, message_id, report, retry_failed)

    try:
        send_each(ids, settings, report, send_one, advance, time_budget)
    finally:
        session.rollback()
        report.remaining = pending_count(session, campaign, retry_failed)
        audit.record(
            session, actor, "campaign.send", campaign, sent=report.sent, failed=report.failed,
            remaining=report.remaining,
        )  # fmt: skip
        session.commit()
    return report


def send_each(
    ids: list[int],
    settings: MailSettings,
    report: SendReport,
    send_one: Callable[[Transport, int], object],
    advance: Callable[[int], object] | None = None,
    time_budget: float | None = None,
) -> None:
    """Call send_one(transport, id) for each message over one transport, until the time budget
    (seconds) is spent; a transport that fails to open or write raises SendInterrupted."""
    deadline = time.monotonic() + time_budget if time_budget is not None else None
    try:
        with open_transport(settings) as transport:
            for message_id in ids:
                send_one(transport, message_id)
                if advance:
                    advance(1)
                if deadline is not None and time.monotonic() > deadline:
                    break  # at least one message per run, so pressing again always advances
    except OSError as exc:  # e.g. the file backend's folder cannot be written
        raise interrupted(report, type(exc).__name__) from exc


def _send_one(session, campaign, transport: Transport, settings, message_id, report, retry) -> None:
    """Claim, send and mark one message; a permanent refusal marks it failed and goes on."""
    session.refresh(campaign)
    check_open(campaign)  # closed by someone else meanwhile
    # A run claims a message for settings.send_lease seconds before sending it; a run that died
    # mid-message leaves the claim behind, and another run takes the message over after that.
    if not claim(session, message_id, retry, timedelta(seconds=settings.send_lease)):
        return  # another run has it, or sent it already
    message = session.get(MailMessage, message_id, populate_existing=True)
    deliver(
        session,
        transport,
        settings,
        message,
        f"pmh.campaign{campaign.id}.message{message.id}",
        report,
    )


def deliver(session: Session, transport: Transport, settings, message, key: str, report) -> None:
    """Send one claimed message (MailMessage or PulseMail) and mark it sent or failed; commit.

    A temporary failure gives the message back and raises SendInterrupted.
    """
    email = build_message(settings, message.to_address, message.subject, message.body, key)
    try:
        transport.send(email)
    except MailError as exc:
        if not _refused_for_good(exc):
            _release(session, message, _describe(exc))
            raise interrupted(report, _describe(exc)) from exc
        message.status, message.last_error, message.sent_at = "failed", _describe(exc), None
        session.commit()
        report.failed += 1
        return
    message.status, message.sent_at, message.body, message.last_error = "sent", utcnow(), "", ""
    session.commit()
    report.sent += 1


def claim(
    session: Session, message_id: int, retry_failed: bool, lease: timedelta, model=MailMessage
) -> bool:
    """Take a message of `model` for this run (a lease in sent_at while still queued); commit."""
    now = utcnow()
    statuses = ["queued", "failed"] if retry_failed else ["queued"]
    result = session.exec(
        update(model)
        .where(
            model.id == message_id,
            col(model.status).in_(statuses),
            or_(col(model.sent_at).is_(None), col(model.sent_at) < now - lease),
        )
        .values(sent_at=now, attempts=model.attempts + 1)
    )
    session.commit()
    return result.rowcount == 1


def _release(session: Session, message: MailMessage, error: str) -> None:
    """Give a message back to the queue after a temporary failure."""
    message.sent_at, message.last_error = None, error[:500]
    session.commit()


def _refused_for_good(exc: MailError) -> bool:
    """Tell whether the server permanently refused this message: 5xx at RCPT or at DATA
    (e.g. a policy rejection), so that one bad message does not stop every later run."""
    cause = exc.__cause__
    if isinstance(cause, smtplib.SMTPDataError):
        return cause.smtp_code >= 500
    return (
        isinstance(cause, smtplib.SMTPRecipientsRefused)
        and bool(cause.recipients)
        and all(code >= 500 for code, _text in cause.recipients.values())
    )


def _describe(exc: MailError) -> str:
    """Return the server's reply (code and text) or the kind of failure, for the office."""
    cause = exc.__cause__
    if isinstance(cause, smtplib.SMTPRecipientsRefused) and cause.recipients:
        code, text = next(iter(cause.recipients.values()))
    elif isinstance(cause, smtplib.SMTPResponseException):
        code, text = cause.smtp_code, cause.smtp_error
    else:
        return exc.message_en[:500]
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}"[:500]


def interrupted(report: SendReport, reason: str) -> SendInterrupted:
    """Say the run stopped, what it did, and that running it again continues."""
    done = f"{report.sent}/{report.total}"
    return SendInterrupted(
        f"メールサーバーとの通信に失敗したため送信を中断しました（{done}通送信済み、"
        f"理由: {reason}）。時間をおいてもう一度送信すると、未送信の分から続けます。",
        f"Sending stopped: the mail server could not be reached or asked to try later "
        f"({done} sent; reason: {reason}). Send again later to continue with the rest.",
    )
