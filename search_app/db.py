"""Database engine and the per-request session."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlmodel import Session

from surveys import audit
from surveys.database import make_engine


def init_app(app: Flask) -> None:
    """Create the engine for this app (with its audit key); close sessions after each request."""
    app.extensions["pmh_engine"] = make_engine(app.config["DATABASE_URL"])
    audit.use_key(app.extensions["pmh_engine"], audit_key(app.config))
    app.teardown_appcontext(_close_session)


def audit_key(config) -> bytes:
    """Return the audit chain's key: AUDIT_KEY, else one derived from the secret key."""
    if config["AUDIT_KEY"]:
        return str(config["AUDIT_KEY"]).encode("utf-8")
    return audit.derive_key(str(config["SECRET_KEY"]))


def engine():
    """Return the app's engine."""
    return current_app.extensions["pmh_engine"]


def session() -> Session:
    """Return the session of the current request, opening it on first use."""
    if "db_session" not in g:
        g.db_session = Session(engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    """Roll back anything uncommitted and close the session."""
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.rollback()
        db_session.close()
