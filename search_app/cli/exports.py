"""`pmh export facilities`: facilities with their current answers as CSV, XLSX or HSDS JSON."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.cli import run
from search_app.db import engine
from search_app.questionnaire import current_questionnaire
from surveys import audit
from surveys.exports import FORMATS, ExportOptions, export_facilities
from surveys.models import FACILITY_CATEGORIES

SUFFIX_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "hsds"}


@click.group("export")
def export_group() -> None:
    """Exports for the programme office."""


@export_group.command("facilities")
@click.option(
    "--format",
    "file_format",
    type=click.Choice(FORMATS),
    help="Default: from the output's suffix (.csv, .xlsx, .json for HSDS).",
)
@click.option(
    "--audience",
    type=click.Choice(["public", "all"]),
    default="public",
    show_default=True,
    help="public: only public listings and public items; all: everything (handle with care).",
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", show_default=True)
@click.option("--columns", default="", help="Comma-separated column keys, in order (CSV/XLSX).")
@click.option(
    "--for", "category", type=click.Choice(FACILITY_CATEGORIES), default="psychiatric",
    show_default=True, help="The survey's psychiatric facilities, or a hearing's answers.",
)  # fmt: skip
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def facilities_command(
    file_format: str | None, audience: str, lang: str, columns: str, category: str, output: Path
) -> None:
    """Write facilities with their current answers to a file and record the export."""
    options = ExportOptions(
        format=file_format or _format_from_suffix(output),
        audience=audience,
        lang=lang,
        columns=tuple(c.strip() for c in columns.split(",") if c.strip()),
    )
    questionnaire = current_questionnaire(category)
    with Session(engine()) as session:
        export = run(lambda: export_facilities(session, questionnaire, options, audit.CLI_ACTOR))
        output.write_bytes(export.content)
        session.commit()
    click.echo(f"Exported {export.rows} facilities ({options.audience}) to {output}.")


def _format_from_suffix(output: Path) -> str:
    """Return the format a file name implies, or stop with a usage error."""
    if output.suffix.lower() not in SUFFIX_FORMATS:
        raise click.UsageError("Give --format, or an output ending in .csv, .xlsx or .json.")
    return SUFFIX_FORMATS[output.suffix.lower()]


def register(cli) -> None:
    """Add the export commands."""
    cli.add_command(export_group)
