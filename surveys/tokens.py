"""Secret tokens (invitation links, API tokens): made random, stored only as a hash."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """Return a new URL-safe token with 256 random bits."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
