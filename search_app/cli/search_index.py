"""`pmh index rebuild|sync|check`: the search index from the command line."""

from __future__ import annotations

import time

import click
from flask.cli import with_appcontext
from sqlmodel import Session

from index.errors import IndexUnavailable
from index.store import IndexBusy
from index.sync import check, pending_count, rebuild, sync_outbox
from search_app.db import engine
from search_app.search import search_index


@click.group("index")
def index_group() -> None:
    """Search index commands."""


@index_group.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Build the whole index again from the database (searches continue meanwhile)."""
    started = time.perf_counter()
    with Session(engine()) as session:
        count = rebuild(session, search_index())
    click.echo(f"Indexed {count} facilities in {time.perf_counter() - started:.1f} s.")


@index_group.command("sync")
@click.option(
    "--if-missing-rebuild", is_flag=True, help="Rebuild first if the index is missing or damaged."
)
@with_appcontext
def sync_command(if_missing_rebuild: bool) -> None:
    """Apply pending database changes (the outbox) to the index."""
    with Session(engine()) as session:
        if if_missing_rebuild and not search_index().probe():
            count = rebuild(session, search_index())
            click.echo(f"Index missing or damaged: built {count} documents.")
            return
        try:
            count = sync_outbox(session, search_index())
        except IndexBusy as exc:
            raise click.ClickException(
                "Another process is writing the index; the changes stay pending: try again."
            ) from exc
        except IndexUnavailable as exc:
            raise click.ClickException(
                "The index is missing or outdated: run `pmh index rebuild`."
            ) from exc
        click.echo(f"Updated {count} facilities; {pending_count(session)} changes still pending.")


@index_group.command("check")
@with_appcontext
def check_command() -> None:
    """Compare the index with the database; exit 1 on any difference."""
    with Session(engine()) as session:
        try:
            differences = check(session, search_index())
        except IndexUnavailable as exc:
            raise click.ClickException("The index is missing or outdated.") from exc
    for difference in differences[:50]:
        click.echo(f"facility {difference.facility_id}: {difference.problem}")
    if differences:
        raise click.ClickException(f"{len(differences)} differences between index and database.")
    click.echo("Index matches the database.")


def register(cli) -> None:
    """Add the index commands."""
    cli.add_command(index_group)
