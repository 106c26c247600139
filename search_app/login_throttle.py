"""Sign-in throttling that slows a password guesser without locking the real user out.

Failed sign-ins are counted per (address, client IP), and per address from browsers that
never signed in to it; past a few free failures each further failure makes the next attempt
wait longer (2, 4, 8 ... seconds up to LOGIN_MAX_WAIT_SECONDS). Nothing locks the address for
everyone: a stranger's failures slow the stranger. A browser that signed in to the account
before carries a signed "known device" cookie; its attempts count only against itself, so
failures from other browsers and IPs never hold it back. The per-IP limit in ratelimit stays.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from search_app import db, ratelimit
from surveys.audit import Actor, record

COOKIE = "pmh_device"
SALT = "pmh-known-device"
FAILURE_WINDOW_S = 86_400  # failures are counted per day
MAX_ACCOUNTS_PER_DEVICE = 10  # a shared office PC remembers this many accounts


@dataclass(frozen=True)
class Scope:
    """One thing failures are counted against, with its free failures."""

    name: str
    who: str
    free: int


def scopes(address: str, ip: str) -> list[Scope]:
    """Return what this attempt counts against: the known device, or the pair and address."""
    config = current_app.config
    device = _known_device(address)
    if device:
        return [Scope("device", f"{address}\0{device}", int(config["LOGIN_FREE_FAILURES"]))]
    return [
        Scope("pair", f"{address}\0{ip}", int(config["LOGIN_FREE_FAILURES"])),
        Scope("address", address, int(config["LOGIN_ADDRESS_FREE_FAILURES"])),
    ]


def check(address: str, ip: str) -> None:
    """Refuse (429 with Retry-After) an attempt that comes before its wait is over."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    limiter = ratelimit.limiter()
    wait = max(limiter.waiting(f"login-wait-{s.name}", s.who) for s in scopes(address, ip))
    if wait:
        raise ratelimit.RateLimitExceeded(wait)


def failed(address: str, ip: str) -> None:
    """Count a failed sign-in; past the free failures, make the next attempt wait longer."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    limiter = ratelimit.limiter()
    for scope in scopes(address, ip):
        failures = limiter.count(f"login-fail-{scope.name}", scope.who, FAILURE_WINDOW_S)
        wait = wait_after(failures, scope.free, int(current_app.config["LOGIN_MAX_WAIT_SECONDS"]))
        if wait:
            limiter.hold_until(f"login-wait-{scope.name}", scope.who, limiter.clock() + wait)
        if failures == scope.free + 1:  # the first wait: worth one audit event
            label = f"unknown:{address[:100]}"
            record(
                db.session(), Actor(label), "auth.rate_limited", None, limit=f"login_{scope.name}"
            )
            db.session().commit()


def wait_after(failures: int, free: int, longest: int) -> int:
    """Return the wait after this many failures: none while free, then doubling to `longest`."""
    if failures <= free:
        return 0
    return min(longest, 2 ** min(failures - free, 30))


def remember_device(response: Response, address: str) -> Response:
    """After a complete sign-in, let this browser's cookie vouch for it next time."""
    data = _device_data() or {"d": secrets.token_urlsafe(12), "a": []}
    accounts = [a for a in data["a"] if a != _digest(address)] + [_digest(address)]
    data["a"] = accounts[-MAX_ACCOUNTS_PER_DEVICE:]
    config = current_app.config
    response.set_cookie(
        COOKIE,
        _signer().dumps(data),
        max_age=int(config["KNOWN_DEVICE_DAYS"]) * 86_400,
        secure=bool(config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
    )
    return response


def _known_device(address: str) -> str:
    """Return this browser's device id if it signed in to `address` before, else ""."""
    data = _device_data()
    return data["d"] if data and _digest(address) in data["a"] else ""


def _device_data() -> dict | None:
    """Read the signed known-device cookie (None when missing, forged or too old)."""
    value = request.cookies.get(COOKIE, "")
    if not value or len(value) > 4096:
        return None
    max_age = int(current_app.config["KNOWN_DEVICE_DAYS"]) * 86_400
    try:
        data = _signer().loads(value, max_age=max_age)
    except BadSignature:
        return None
    valid = isinstance(data, dict) and isinstance(data.get("d"), str)
    return data if valid and isinstance(data.get("a"), list) else None


def _digest(address: str) -> str:
    """Name an account in the cookie without writing its address."""
    return hashlib.sha256(address.encode("utf-8")).hexdigest()[:16]


def _signer() -> URLSafeTimedSerializer:
    """Sign cookies with the app's secret key, for this use only."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)
