"""`pmh backup` and `pmh restore`: whole-database backups, checked on both ends."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlmodel import Session

from index.sync import rebuild
from search_app.db import engine
from search_app.search import search_index
from surveys.backup import BackupError, BackupInfo, backup, backup_generation, restore


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
    with Session(engine()) as session:
        count = rebuild(session, search_index())
    click.echo(f"Search index rebuilt: {count} facilities.")


def register(cli) -> None:
    """Add the backup commands."""
    cli.add_command(backup_command)
    cli.add_command(restore_command)
