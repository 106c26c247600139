"""Share links: a signed token holding facility ids and an expiry; nothing stored on the server.

Anyone holding a link can open it until it expires (it cannot be revoked one by one: rotating
SECRET_KEY ends them all). The public page is rate-limited per IP (RATELIMIT_SHARE_IP).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from surveys.errors import UserFacingError
from surveys.models import utcnow

SALT = "pmh.shortlist.share.v1"
MAX_IDS = 10


class ShareLinkInvalid(UserFacingError):
    """The link was altered or is not one of ours."""

    status = 404
    message_ja = "この共有リンクは無効です。リンクを送った方に確認してください。"
    message_en = "This shared link is not valid. Please check with the person who sent it."


class ShareLinkExpired(UserFacingError):
    """The link's validity has ended."""

    status = 410
    message_ja = (
        "この共有リンクは有効期限が切れています。"
        "保健師など、リンクを送った方に新しいリンクを依頼してください。"
    )
    message_en = "This shared link has expired. Please ask the person who sent it for a new one."


@dataclass(frozen=True)
class SharedList:
    """What a valid link carries."""

    facility_ids: tuple[int, ...]
    expires_at: datetime


def shared_list(facility_ids: list[int], days: int, now: datetime | None = None) -> SharedList:
    """Return a shared list of these facilities valid for `days` days (whole seconds)."""
    expires = (now or utcnow()) + timedelta(days=days)
    return SharedList(tuple(facility_ids[:MAX_IDS]), expires.replace(microsecond=0))


def dumps(secret_key: str, shared: SharedList) -> str:
    """Sign a shared list into a URL-safe token."""
    payload = {"f": list(shared.facility_ids), "e": int(shared.expires_at.timestamp())}
    return URLSafeSerializer(secret_key, salt=SALT).dumps(payload)


def loads(secret_key: str, token: str, now: datetime | None = None) -> SharedList:
    """Check a token; raise ShareLinkInvalid (tampered) or ShareLinkExpired."""
    try:
        payload = URLSafeSerializer(secret_key, salt=SALT).loads(token)
    except BadSignature as exc:
        raise ShareLinkInvalid() from exc
    shared = _parse(payload)
    if shared.expires_at <= (now or utcnow()):
        raise ShareLinkExpired()
    return shared


def _parse(payload) -> SharedList:
    """Read a signed payload; a well-signed but malformed one is still refused."""
    ids, expires = (payload.get("f"), payload.get("e")) if isinstance(payload, dict) else (0, 0)
    if not isinstance(ids, list) or not all(type(i) is int for i in ids) or len(ids) > MAX_IDS:
        raise ShareLinkInvalid()
    if type(expires) is not int:
        raise ShareLinkInvalid()
    return SharedList(tuple(ids), datetime.fromtimestamp(expires, UTC))
