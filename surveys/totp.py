"""Time-based one-time passwords (RFC 6238 on top of RFC 4226 HOTP), standard library only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import time
import unicodedata
from urllib.parse import quote, urlencode

PERIOD = 30
DIGITS = 6
# Steps either side of now that still count (clock drift, typing time).
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends


def generate_secret() -> str:
    """Return a new random secret in base32 (what authenticator apps accept)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def decode_secret(secret: str) -> bytes:
    """Decode a base32 secret, tolerating spaces, lower case and missing padding."""
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    """Return the HOTP value of a counter (RFC 4226 dynamic truncation)."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    binary = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(binary % 10**digits).zfill(digits)


def time_step(at: float | None = None, period: int = PERIOD) -> int:
    """Return the RFC 6238 time step of a Unix time (now by default)."""
    return int((time.time() if at is None else at) // period)


def totp(secret: str, at: float | None = None, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    """Return the code of a base32 secret at a Unix time (now by default)."""
    return hotp(decode_secret(secret), time_step(at), digits, digest)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """Return the time step a code belongs to (now ± DRIFT_STEPS), or None if it matches none."""
    code = "".join(unicodedata.normalize("NFKC", code).split())  # full-width digits too
    if len(code) != DIGITS or not (code.isascii() and code.isdigit()):
        return None
    key, now = decode_secret(secret), time_step(at)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        # Check every candidate (no early exit) and compare in constant time.
        if hmac.compare_digest(hotp(key, step), code):
            found = step
    return found


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """Return the otpauth:// URI an authenticator app reads (usually from a QR code)."""
    label = quote(f"{issuer}:{account}", safe="")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": PERIOD,
        },
        quote_via=quote,
    )
    return f"otpauth://totp/{label}?{query}"


def grouped(secret: str) -> str:
    """Return the secret in groups of four characters, easier to type by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
