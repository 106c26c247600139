"""Idle and absolute time limits of staff and admin sessions, checked on every request."""

from __future__ import annotations

import time

from flask import current_app
from flask.sessions import SessionMixin
from flask_babel import gettext as _

LIMITED_ROLES = ("staff", "admin")
STARTED, SEEN = "signed_in_at", "seen_at"
# The last-seen time is rewritten at most this often (the cookie changes then, not every hit).
SEEN_RESOLUTION_S = 60


def now() -> float:
    """Return the time (tests replace app.extensions["pmh_clock"] to move it)."""
    return current_app.extensions.get("pmh_clock", time.time)()


def start(session: SessionMixin) -> None:
    """Mark a new sign-in: both limits count from now."""
    session[STARTED] = session[SEEN] = now()


def ended(session: SessionMixin, role: str) -> str:
    """Return why a signed-in session is over ("idle", "max") or ""; note this request."""
    if role not in LIMITED_ROLES:
        return ""
    started, seen, moment = session.get(STARTED), session.get(SEEN), now()
    if not isinstance(started, int | float) or not isinstance(seen, int | float):
        return "max"  # a session from before the limits: sign in again once
    config = current_app.config
    if moment - started > float(config["SESSION_MAX_HOURS"]) * 3600:
        return "max"
    if moment - seen > float(config["SESSION_IDLE_MINUTES"]) * 60:
        return "idle"
    if moment - seen >= SEEN_RESOLUTION_S:
        session[SEEN] = moment
    return ""


def message(reason: str) -> str:
    """Say on the sign-in page why the session ended."""
    if reason == "idle":
        minutes = current_app.config["SESSION_IDLE_MINUTES"]
        return _(
            "%(minutes)s分間操作がなかったため、ログアウトしました。もう一度ログインしてください。",
            minutes=minutes,
        )
    hours = current_app.config["SESSION_MAX_HOURS"]
    return _(
        "ログインから%(hours)s時間が過ぎたため、ログアウトしました。もう一度ログインしてください。",
        hours=hours,
    )
