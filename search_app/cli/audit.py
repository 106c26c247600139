"""`pmh audit verify`: check that no audit row was changed, removed or inserted."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.db import engine
from surveys.audit import verify_chain


@click.group("audit")
def audit_group() -> None:
    """Audit log commands."""


@audit_group.command("verify")
@with_appcontext
def verify_command() -> None:
    """Walk the audit hash chain; exit 1 naming the first row that does not fit."""
    with Session(engine()) as session:
        report = verify_chain(session)
    if not report.ok:
        raise click.ClickException(
            f"Audit chain broken at row {report.bad_id}: {report.problem} "
            f"({report.count - 1} rows before it verified)."
        )
    click.echo(f"Audit chain verified: {report.count} rows; head {report.head}.")


def register(cli) -> None:
    """Add the audit commands."""
    cli.add_command(audit_group)
