"""API tokens for staff systems: create, revoke, resolve a bearer token to its user."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from surveys import audit
from surveys.errors import SurveyError
from surveys.models import ApiToken, User, utcnow
from surveys.tokens import hash_token, new_token

API_ROLES = ("staff", "admin")
MAX_DAYS = 3650
# last_used_at is written again only when the stored one is older than this.
USE_RESOLUTION = timedelta(hours=1)


def create_token(
    session: Session, user: User, name: str, actor: audit.Actor, days: int = 365
) -> tuple[ApiToken, str]:
    """Create a token valid for `days`; return it with the clear token (shown once)."""
    if user.role not in API_ROLES or not user.is_active:
        raise SurveyError(
            "APIトークンは有効な関係機関・事務局の利用者にのみ発行できます。",
            "API tokens are only for active staff or admin users.",
        )
    if not 1 <= days <= MAX_DAYS:
        raise SurveyError(
            f"有効期間は1〜{MAX_DAYS}日で指定してください。",
            f"The validity must be 1 to {MAX_DAYS} days.",
        )
    token, expires = new_token(), utcnow() + timedelta(days=days)
    row = ApiToken(user_id=user.id, name=name, token_hash=hash_token(token), expires_at=expires)
    session.add(row)
    session.flush()
    audit.record(session, actor, "api_token.create", row, user=user.email, days=days)
    return row, token


def user_for_token(session: Session, token: str) -> User | None:
    """Return the active user of a valid, unrevoked, unexpired token and note its use.

    The caller commits (the last-used time is stored at most once an hour per token).
    """
    if not token or len(token) > 100:
        return None
    now = utcnow()
    row = session.exec(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token),
            col(ApiToken.revoked_at).is_(None),
            col(ApiToken.expires_at) > now,
        )
    ).first()
    user = session.get(User, row.user_id) if row else None
    if not (user and user.is_active and user.role in API_ROLES):
        return None
    if row.last_used_at is None or now - row.last_used_at >= USE_RESOLUTION:
        row.last_used_at = now
        session.add(row)
    return user


def list_tokens(session: Session) -> list[tuple[ApiToken, User]]:
    """Return every token with its user, newest first."""
    query = select(ApiToken, User).join(User, col(User.id) == ApiToken.user_id)
    return list(session.exec(query.order_by(col(ApiToken.id).desc())).all())


def revoke_token(session: Session, token_id: int, actor: audit.Actor) -> ApiToken:
    """Revoke a token so it stops working at once."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise SurveyError("トークンが見つかりません。", f"No API token with id {token_id}.")
    row.revoked_at = row.revoked_at or utcnow()
    session.add(row)
    audit.record(session, actor, "api_token.revoke", row)
    return row
