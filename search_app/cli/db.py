"""`pmh db upgrade`: apply schema migrations."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

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


def register(cli) -> None:
    """Add the db commands."""
    cli.add_command(db_group)
