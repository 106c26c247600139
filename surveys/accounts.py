"""Password hashing for user accounts."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash


def hash_password(password: str) -> str:
    """Hash a password with scrypt (werkzeug's default KDF)."""
    return generate_password_hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    """Check a password against its stored hash."""
    return check_password_hash(password_hash, password)
