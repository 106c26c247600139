"""Database engine and the per-request session."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlmodel import Session

from surveys.database import make_engine


def init_app(app: Flask) -> None:
    """Create the engine for this app and close sessions after each request."""
    app.extensions["pmh_engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)


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
