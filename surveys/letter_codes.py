"""Short codes printed on invitation letters, typed by hand at /invite.

Twelve characters of Crockford's base-32 alphabet (no I, L, O or U) carry 60 random bits.
Typing is forgiving: full-width characters, spaces and hyphens are ignored, lower case is
read as upper case, and O, I, L are read as 0, 1, 1. A code is an invitation token: stored
only as its SHA-256, used once, dead when the campaign closes; typing is rate-limited per IP,
so guessing one of 2^60 is hopeless.
"""

from __future__ import annotations

import secrets
import unicodedata

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
BITS = LENGTH * 5  # 32 symbols: 5 bits each
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = " -_\u30fc\u2010\u2011\u2012\u2013\u2014\u2212\t"


def new_code() -> str:
    """Return a new random code (12 characters, 60 bits)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(code: str) -> str:
    """Write a code in groups of four for printing: ABCD-EFGH-JKMN."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def normalise(typed: str) -> str | None:
    """Return the code as stored from what a person typed, or None if it cannot be one."""
    text = unicodedata.normalize("NFKC", typed or "").upper()
    text = "".join(ch for ch in text if ch not in _SEPARATORS).translate(_READ_AS)
    if len(text) != LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text
