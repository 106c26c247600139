"""The `pmh` command line: Flask's commands plus ours."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup

from surveys.errors import UserFacingError


def main() -> None:
    """Run the `pmh` command."""
    from search_app import create_app

    group = FlaskGroup(create_app=lambda: create_app(), help="妊産婦こころの医療機関ナビ")
    _add_standalone_commands(group)
    group.main()


def _add_standalone_commands(group) -> None:
    """Add commands that need no app (the offline geocoder)."""
    from search_app.cli.geocode import geocode_command

    group.add_command(geocode_command, "geocode")


def run(operation):
    """Run an operation, turning its user-safe error into a clean CLI error."""
    try:
        return operation()
    except UserFacingError as exc:
        raise click.ClickException(exc.message("en")) from exc


def init_app(app: Flask) -> None:
    """Register the commands that work on the app's database."""
    from search_app.cli import (
        campaigns,
        coverage,
        db,
        demo,
        exports,
        facilities,
        pulse,
        referrals,
        search_index,
        users,
    )

    modules = (campaigns, coverage, db, demo, exports, facilities, pulse, referrals)
    for module in (*modules, search_index, users):
        module.register(app.cli)
    _register_integrity(app)


def _register_integrity(app: Flask) -> None:
    """Register the audit and backup commands."""
    from search_app.cli import audit, backup

    for module in (audit, backup):
        module.register(app.cli)
