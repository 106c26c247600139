"""API tokens for staff systems: create, revoke, resolve a bearer token to its user."""

from __future__ import annotations

from sqlmodel import Session, col, select

from surveys import audit
from surveys.errors import SurveyError
from surveys.models import ApiToken, User, utcnow
from surveys.tokens import hash_token, new_token

API_ROLES = ("staff", "admin")


def create_token(
    session: Session, user: User, name: str, actor: audit.Actor
) -> tuple[ApiToken, str]:
    """Create a token for a staff or admin user; return it with the clear token (shown once)."""
    if user.role not in API_ROLES or not user.is_active:
        raise SurveyError(
            "APIトークンは有効な関係機関・事務局の利用者にのみ発行できます。",
            "API tokens are only for active staff or admin users.",
        )
    token = new_token()
    row = ApiToken(user_id=user.id, name=name, token_hash=hash_token(token))
    session.add(row)
    session.flush()
    audit.record(session, actor, "api_token.create", row, user=user.email)
    return row, token


def user_for_token(session: Session, token: str) -> User | None:
    """Return the active user of a valid, unrevoked token."""
    if not token or len(token) > 100:
        return None
    row = session.exec(
        select(ApiToken).where(
            ApiToken.token_hash == hash_token(token), col(ApiToken.revoked_at).is_(None)
        )
    ).first()
    user = session.get(User, row.user_id) if row else None
    return user if user and user.is_active and user.role in API_ROLES else None


def revoke_token(session: Session, token_id: int, actor: audit.Actor) -> ApiToken:
    """Revoke a token so it stops working at once."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise SurveyError("トークンが見つかりません。", f"No API token with id {token_id}.")
    row.revoked_at = row.revoked_at or utcnow()
    session.add(row)
    audit.record(session, actor, "api_token.revoke", row)
    return row
