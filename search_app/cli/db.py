"""`pmh db upgrade`: apply schema migrations."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.db import audit_key, engine
from surveys.audit_anchor import needs_rekey
from surveys.database import upgrade


@click.group("db")
def db_group() -> None:
    """Database schema commands."""


@db_group.command("upgrade")
@with_appcontext
@click.option("--revision", default="head", show_default=True)
def upgrade_command(revision: str) -> None:
    """Migrate the database to the latest schema (safe to run again)."""
    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"Database is at revision {revision}.")
    if revision != "head":
        return
    with Session(engine()) as session:
        if needs_rekey(session, audit_key(current_app.config)):
            click.echo(
                "The audit log was chained without a key by an earlier version: "
                "run `pmh audit rekey` once now (see README, Security)."
            )


def register(cli) -> None:
    """Add the db commands."""
    cli.add_command(db_group)
