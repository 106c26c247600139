"""Password hashing for user accounts."""

from __future__ import annotations

from werkzeug.security import check_password_hash, generate_password_hash

# scrypt with N=2**15, r=8, p=3: one of the settings the OWASP Password Storage Cheat Sheet
# gives as equal to its minimum (N=2**17, r=8, p=1) with a quarter of the memory (32 MiB), so
# four workers signing people in at once stay small; about 0.4 s per check on one core.
# Pinned here so that a library upgrade does not silently change it. Raising it later is safe:
# hashes made with other parameters (or another method) are replaced at the next sign-in.
HASH_METHOD = "scrypt:32768:8:3"


def hash_password(password: str) -> str:
    """Hash a password with scrypt and a random salt."""
    return generate_password_hash(password, method=HASH_METHOD)


def password_matches(password_hash: str, password: str) -> bool:
    """Check a password against its stored hash."""
    return check_password_hash(password_hash, password)


def needs_rehash(password_hash: str) -> bool:
    """Tell whether a stored hash was made with other parameters than HASH_METHOD."""
    return password_hash.split("$", 1)[0] != HASH_METHOD
