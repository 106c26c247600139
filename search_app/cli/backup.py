"""`pmh backup` and `pmh restore`: whole-database backups, checked on both ends."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from index.sync import rebuild
from search_app.db import audit_key, engine
from search_app.search import search_index
from surveys import key_marks
from surveys.backup import BackupError, BackupInfo, backup, backup_generation, restore

KEY_WARNINGS = {
    "secret_key": (
        "Warning: this backup was made under another secret key. Share links and "
        "set-password links sent before it no longer work (send new ones) and everyone signs "
        "in again. To keep them, put the old key back (instance/secret_key or PMH_SECRET_KEY) "
        "and restart."
    ),
    "audit_key": (
        "Warning: the audit log in this backup was chained under another audit key, so "
        "`pmh audit verify` fails from its first row. Set PMH_AUDIT_KEY (or the secret key it "
        "is derived from) to the old value."
    ),
}


def _current_marks() -> dict[str, str]:
    """Return the fingerprints of the secret key and the audit key in use."""
    config = current_app.config
    return {
        "secret_key": key_marks.fingerprint(str(config["SECRET_KEY"]).encode("utf-8")),
        "audit_key": key_marks.fingerprint(audit_key(config)),
    }


def _describe(info: BackupInfo) -> str:
    """Summarise a backup in one line."""
    counts = ", ".join(f"{table} {count}" for table, count in info.rows.items())
    return f"{info.path} ({info.kind}, schema {info.revision}; {counts})"


@click.command("backup")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.option("--dir", "directory", type=click.Path(path_type=Path), help="Timestamped files here.")
@click.option("--keep", type=int, default=7, show_default=True, help="Generations kept in --dir.")
@with_appcontext
def backup_command(path: Path | None, directory: Path | None, keep: int) -> None:
    """Back up the database to PATH (or into --dir, keeping the newest --keep), then verify it."""
    if (path is None) == (directory is None):
        raise click.UsageError("Give either PATH or --dir DIR.")
    key_marks.record(engine(), _current_marks())  # the backup says which keys it needs
    try:
        if directory is not None:
            info, pruned = backup_generation(engine(), directory, keep)
            for old in pruned:
                click.echo(f"Removed old backup {old}")
        else:
            info = backup(engine(), path)
    except BackupError as exc:
        raise click.ClickException(exc.message_en) from exc
    click.echo(f"Backup written and verified: {_describe(info)}")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite a database that already holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore the database from a backup file, then rebuild the search index."""
    try:
        info = restore(engine(), path, force=force)
    except BackupError as exc:
        raise click.ClickException(exc.message_en) from exc
    click.echo(f"Restored {_describe(info)}")
    marks = _current_marks()
    for name in key_marks.differing(engine(), marks):
        click.echo(KEY_WARNINGS[name], err=True)
    key_marks.record(engine(), marks)
    with Session(engine()) as session:
        count = rebuild(session, search_index())
    click.echo(f"Search index rebuilt: {count} facilities.")


def register(cli) -> None:
    """Add the backup commands."""
    cli.add_command(backup_command)
    cli.add_command(restore_command)
