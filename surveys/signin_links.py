"""Sign-in links a clinic requests for itself: mailed only to the facility's registered
address, single use, short-lived. Unknown addresses get the same answer and no mail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from surveys import audit, users
from surveys.bilingual import bilingual
from surveys.errors import SurveyError
from surveys.mail import MailError, MailSettings, build_message, open_transport
from surveys.models import Facility, SignInLink, User, utcnow
from surveys.office import OfficeContact
from surveys.tokens import hash_token, new_token

TEMPLATES = Path(__file__).parent / "mail" / "templates"


class SignInLinkError(SurveyError):
    """A sign-in link that cannot be used (changed, cut short or unknown)."""

    status = 404
    message_ja = (
        "このログイン用リンクは無効です。メールのリンクを省略せずに開くか、"
        "「医療機関の方へ」ページから新しいリンクを依頼してください。"
    )
    message_en = (
        "This sign-in link is not valid. Open the whole link from the e-mail, or ask for a new "
        "one on the 'For clinics' page."
    )


class SignInLinkUsed(SignInLinkError):
    """The link was used once already."""

    status = 410
    message_ja = (
        "このログイン用リンクは既に使用されています。"
        "「医療機関の方へ」ページから新しいリンクを依頼してください。"
    )
    message_en = "This sign-in link has already been used. Ask for a new one on 'For clinics'."


class SignInLinkExpired(SignInLinkError):
    """The link is older than its lifetime."""

    status = 410
    message_ja = (
        "このログイン用リンクは有効期限が切れています。"
        "「医療機関の方へ」ページから新しいリンクを依頼してください。"
    )
    message_en = "This sign-in link has expired. Ask for a new one on the 'For clinics' page."


@dataclass(frozen=True)
class LinkRequest:
    """What a request did: how many facilities got a link (never shown to the requester)."""

    mailed: int
    error: MailError | None = None


def signin_url(base_url: str, token: str) -> str:
    """Return the address of a sign-in link."""
    return f"{base_url.rstrip('/')}/clinics/signin/{token}"


def facilities_for_address(session: Session, email: str) -> list[Facility]:
    """Return the facilities whose registered survey contact is this address."""
    address = (email or "").strip().lower()
    if not address:
        return []
    query = select(Facility).where(func.lower(col(Facility.email)) == address)
    return list(session.exec(query.order_by(Facility.id)))


def create_link(
    session: Session, facility: Facility, minutes: int, now: datetime | None = None
) -> tuple[SignInLink, str]:
    """Create a link for one facility; return it with the clear token, never stored."""
    token = new_token()
    moment = now or utcnow()
    link = SignInLink(
        facility_id=facility.id,
        token_hash=hash_token(token),
        created_at=moment,
        expires_at=moment + timedelta(minutes=minutes),
    )
    session.add(link)
    session.flush()
    return link, token


def render_mail(facility: Facility, url: str, minutes: int, office: OfficeContact, lang: str):
    """Return (subject, body) of the sign-in link mail (the template's first line: subject)."""
    lang = bilingual(lang, "ja", "en")
    text = (TEMPLATES / lang / "signin_link.txt").read_text(encoding="utf-8")
    filled = Template(text).safe_substitute(
        facility=facility.name, link=url, minutes=minutes, office=office.text(lang)
    )
    subject, _, body = filled.partition("\n")
    return subject.strip(), body.lstrip("\n")


def request_links(
    session: Session,
    email: str,
    settings: MailSettings,
    base_url: str,
    office: OfficeContact,
    minutes: int,
    lang: str = "ja",
) -> LinkRequest:
    """Mail one sign-in link per facility registered under this address (none if unknown)."""
    facilities = facilities_for_address(session, email)
    mailed, error = 0, None
    for facility in facilities:
        _link, token = create_link(session, facility, minutes)
        subject, body = render_mail(facility, signin_url(base_url, token), minutes, office, lang)
        try:
            with open_transport(settings) as transport:
                transport.send(build_message(settings, facility.email, subject, body))
        except MailError as exc:
            error = exc
            continue
        mailed += 1
        audit.record(session, audit.Actor("public"), "clinic.signin_link_sent", facility)
    return LinkRequest(mailed, error)


def find_link(session: Session, token: str, now: datetime | None = None) -> SignInLink:
    """Return the usable link for this token or raise why it cannot be used."""
    if not token or len(token) > 100:
        raise SignInLinkError()
    query = select(SignInLink).where(SignInLink.token_hash == hash_token(token))
    link = session.exec(query).first()
    if link is None:
        raise SignInLinkError()
    if link.used_at is not None:
        raise SignInLinkUsed()
    if (now or utcnow()) >= link.expires_at:
        raise SignInLinkExpired()
    return link


def redeem_link(session: Session, token: str, now: datetime | None = None) -> SignInLink:
    """Mark the link used (of two simultaneous uses only one succeeds) and audit it."""
    moment = now or utcnow()
    link = find_link(session, token, moment)
    result = session.exec(
        update(SignInLink)
        .where(col(SignInLink.id) == link.id, col(SignInLink.used_at).is_(None))
        .values(used_at=moment)
    )
    if result.rowcount != 1:
        raise SignInLinkUsed()
    session.refresh(link)
    facility = session.get(Facility, link.facility_id)
    audit.record(session, actor_for(link), "clinic.signin_link_used", facility)
    return link


def actor_for(link: SignInLink) -> audit.Actor:
    """Return the audit actor of a clinic signed in through a sign-in link."""
    return audit.Actor(f"signin:{link.id}")


class NoRegisteredAddress(SurveyError):
    """An account needs the facility's registered contact address first."""

    status = 409
    message_ja = (
        "調査の連絡先メールアドレスが登録されていません。"
        "回答ページで連絡先メールアドレスを入力して保存してから、もう一度お試しください。"
    )
    message_en = (
        "No survey contact address is registered. Enter one on the survey page, save, "
        "and try again."
    )


class AddressTaken(SurveyError):
    """The registered address belongs to an account of another kind (staff, admin)."""

    status = 409
    message_ja = (
        "このアドレスは別の種類のアカウントで使われています。事務局にお問い合わせください。"
    )
    message_en = "This address belongs to another kind of account. Please contact the office."


def clinic_account(session: Session, facility: Facility, actor: audit.Actor):
    """Return the clinic account of the facility's registered address, made or linked now;
    its set-password link can only go to that address."""
    if not facility.email:
        raise NoRegisteredAddress()
    address = users.canonical_email(facility.email)
    user = session.exec(select(User).where(User.email == address)).first()
    if user is None:
        return users.invite_user(session, actor, address, "clinic", facility_ids=[facility.id])
    if user.role != "clinic":
        raise AddressTaken()
    users.link_facility(session, actor, user, facility.id)  # no change when linked already
    return user
