"""Set-password links: signed, expiring, single use; and the invitation e-mail that carries one.

A token signs the user id and a fingerprint of the password hash and session epoch, so it stops
working once the password is set (the hash and epoch change) or the user is disabled (the epoch
changes). Nothing about the link is stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from string import Template

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session

from surveys import audit
from surveys.accounts import hash_password
from surveys.bilingual import bilingual
from surveys.database import hold_write_lock
from surveys.errors import SurveyError
from surveys.mail import MailError, MailSettings, build_message, open_transport
from surveys.models import User
from surveys.office import OfficeContact
from surveys.passwords import validate_new_password

SALT = "pmh-account-setup"
MAX_AGE_HOURS = 72
TEMPLATES = Path(__file__).parent / "mail" / "templates"
ROLE_LABELS = {
    "admin": ("管理者", "admin"),
    "staff": ("関係機関職員", "referrer (staff)"),
    "clinic": ("医療機関", "clinic"),
}


class SetupLinkError(SurveyError):
    """A set-up link that cannot be used (changed or cut short)."""

    status = 400
    message_ja = (
        "このリンクは正しくありません。"
        "メールのリンクを省略せずに開くか、事務局にお問い合わせください。"
    )
    message_en = (
        "This link is not valid. Open the whole link from the e-mail, "
        "or contact the programme office."
    )


class SetupLinkExpired(SetupLinkError):
    """The link is older than its 72 hours."""

    status = 410
    message_ja = (
        "このリンクは有効期限（72時間）が切れています。事務局に新しいリンクを依頼してください。"
    )
    message_en = (
        "This link has expired (links last 72 hours). Ask the programme office for a new one."
    )


class SetupLinkUsed(SetupLinkError):
    """The password was set with it already, or the account was disabled since."""

    status = 410
    message_ja = (
        "このリンクは既に使用されたか、無効になっています。"
        "パスワードを設定済みの場合はログインしてください。"
    )
    message_en = (
        "This link has already been used or is no longer valid. "
        "If you have set your password, please sign in."
    )


@dataclass(frozen=True)
class SentLink:
    """A set-up link and whether mailing it worked (`error` is shown to the admin)."""

    url: str
    error: MailError | None = None

    @property
    def mailed(self) -> bool:
        """Tell whether the message left."""
        return self.error is None


def fingerprint(user: User) -> str:
    """Digest the state a link is valid for: the password hash and the session epoch."""
    state = f"{user.id}|{user.password_hash}|{user.session_epoch}|{int(user.is_active)}"
    return hashlib.sha256(state.encode("utf-8")).hexdigest()[:24]


def _serializer(secret_key: str, now: float | None = None) -> URLSafeTimedSerializer:
    """Return the serializer; `now` (seconds since the epoch) replaces the clock in tests."""
    if now is None:
        return URLSafeTimedSerializer(secret_key, salt=SALT)

    class _Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(now)

    return URLSafeTimedSerializer(secret_key, salt=SALT, signer=_Signer)


def make_token(secret_key: str, user: User, now: float | None = None) -> str:
    """Sign a set-up token for the user's current state."""
    return _serializer(secret_key, now).dumps({"u": user.id, "f": fingerprint(user)})


def setup_url(base_url: str, token: str) -> str:
    """Return the set-up page address for a token."""
    return f"{base_url.rstrip('/')}/account/setup/{token}"


def user_for_token(session: Session, secret_key: str, token: str, now: float | None = None) -> User:
    """Return the user a valid token is for; raise SetupLinkError, -Expired or -Used."""
    serializer = _serializer(secret_key, now)
    try:
        payload = serializer.loads(token, max_age=MAX_AGE_HOURS * 3600)
    except SignatureExpired as exc:
        raise SetupLinkExpired() from exc
    except BadSignature as exc:
        raise SetupLinkError() from exc
    user_id = payload.get("u") if isinstance(payload, dict) else None
    user = session.get(User, user_id) if type(user_id) is int else None
    if user is None:
        raise SetupLinkError()
    if not user.is_active or payload.get("f") != fingerprint(user):
        raise SetupLinkUsed()
    return user


def set_password(
    session: Session, secret_key: str, token: str, password: str, now: float | None = None
) -> User:
    """Check the link and the password rules, store the new hash and end other sessions."""
    user = user_for_token(session, secret_key, token, now)
    validate_new_password(password, user.email)
    # Two posts of the same link at once: the second waits here, then finds the link used.
    hold_write_lock(session.connection())
    session.refresh(user, with_for_update=True)
    user = user_for_token(session, secret_key, token, now)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    session.add(user)
    audit.record(session, audit.Actor(f"user:{user.email}", user.id), "user.password_set", user)
    return user


def invitation_message(
    user: User, url: str, login_url: str, lang: str, office: OfficeContact | None = None
) -> tuple[str, str]:
    """Return (subject, body) of the set-up e-mail in one language (first line: subject)."""
    lang = bilingual(lang, "ja", "en")
    text = (TEMPLATES / lang / "user_invitation.txt").read_text(encoding="utf-8")
    role_ja, role_en = ROLE_LABELS.get(user.role, (user.role, user.role))
    filled = Template(text).safe_substitute(
        name=user.display_name or user.email,
        role=bilingual(lang, role_ja, role_en),
        setup_url=url,
        login_url=login_url,
        hours=MAX_AGE_HOURS,
        office=(office or OfficeContact()).text(lang),
    )
    subject, _, body = filled.partition("\n")
    return subject.strip(), body.lstrip("\n")


def send_setup_link(
    session: Session,
    actor: audit.Actor,
    user: User,
    settings: MailSettings,
    secret_key: str,
    base_url: str,
    lang: str = "ja",
    office: OfficeContact | None = None,
) -> SentLink:
    """Mail a fresh set-up link; on failure return the link and error so it can be passed on."""
    url = setup_url(base_url, make_token(secret_key, user))
    subject, body = invitation_message(user, url, f"{base_url.rstrip('/')}/login", lang, office)
    error = None
    try:
        with open_transport(settings) as transport:
            transport.send(build_message(settings, user.email, subject, body))
    except MailError as exc:
        error = exc
    except OSError as exc:  # e.g. the file backend's folder cannot be written
        error = MailError(
            f"メールを保存できませんでした ({type(exc).__name__})。",
            f"The message could not be written ({type(exc).__name__}).",
        )
    audit.record(
        session,
        actor,
        "user.setup_link_sent",
        user,
        mailed=error is None,
        language=lang,
        error=error.message_en if error else "",
    )
    return SentLink(url, error)
