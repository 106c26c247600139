"""`pmh import-facilities` and `pmh facility-template`: the facility master list."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.db import engine
from surveys import audit
from surveys.errors import FacilityImportError
from surveys.importer import (
    ImportReport,
    Source,
    apply_import,
    read_import,
    template_csv,
    write_template_xlsx,
)

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
SHOWN = 50  # list at most this many missing facilities and warnings


@click.command("import-facilities")
@click.argument("path", type=FILE)
@click.option(
    "--speciality",
    type=FILE,
    help="医療情報ネットの診療科・診療時間票 (the *_speciality_hours_*.csv file).",
)
@click.option("--dry-run", is_flag=True, help="Report what would change; store nothing.")
@click.option(
    "--force",
    is_flag=True,
    help="Apply an 医療情報ネット edition older than the last one imported (going back).",
)
@with_appcontext
def import_facilities_command(
    path: Path, speciality: Path | None, dry_run: bool, force: bool
) -> None:
    """Import or update facilities from 医療情報ネット open data or the facility template."""
    try:
        report = _import(path, speciality, dry_run, force)
    except FacilityImportError as exc:
        _print_refusal(exc)
        raise SystemExit(1) from exc
    _print_report(report)


def _import(path: Path, speciality: Path | None, dry_run: bool, force: bool) -> ImportReport:
    """Parse the files and apply them in one transaction (rolled back on a dry run)."""
    prefecture = current_app.config["PREFECTURE_CODE"]
    with path.open("rb") as main, speciality.open("rb") if speciality else nullcontext() as spec:
        parsed = read_import(
            Source(path.name, main),
            prefecture,
            Source(speciality.name, spec) if speciality else None,
        )
    with Session(engine()) as session:
        report = apply_import(session, parsed, audit.CLI_ACTOR, dry_run=dry_run, force=force)
        if not dry_run:
            session.commit()
    return report


def _print_refusal(exc: FacilityImportError) -> None:
    """List every problem with its row (as a spreadsheet user counts rows), in ja then en."""
    for lang in ("ja", "en"):
        click.echo(exc.message(lang), err=True)
        for line in exc.lines(lang):
            click.echo(f"  {line}", err=True)


def _print_report(report: ImportReport) -> None:
    """Print the counts, each new or changed facility, then missing ones and warnings."""
    counts = report.counts()
    click.echo(f"{report.source}:")
    for key, ja in (
        ("new", "新規"),
        ("changed", "変更"),
        ("unchanged", "変更なし"),
        ("skipped_not_psychiatric", "対象外（精神科・心療内科・産科なし）"),
        ("skipped_other_prefecture", "対象外（他の都道府県）"),
        ("missing", "ファイルにない既存施設"),
    ):
        click.echo(f"  {ja} {key.replace('_', ' ')}: {counts[key]}")
    for change in report.new:
        click.echo(f"  + {change.source_id} {change.name}")
    for change in report.changed:
        fields = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in change.fields.items())
        click.echo(f"  ~ {change.source_id} {change.name}: {fields}")
    _print_some(
        "ファイルにない既存施設（削除はしません） / missing (not deleted)",
        [f"{sid} {name}" for sid, name in report.missing],
    )
    _print_some("注意", [w.line("ja") for w in report.warnings])
    _print_some("warnings", [w.line("en") for w in report.warnings])
    if report.dry_run:
        click.echo("試行のみ: 何も保存していません。 / Dry run: nothing was stored.")


def _print_some(title: str, lines: list[str]) -> None:
    """Print a titled list, cut after SHOWN lines."""
    if not lines:
        return
    click.echo(f"{title}:")
    for line in lines[:SHOWN]:
        click.echo(f"  {line}")
    if len(lines) > SHOWN:
        click.echo(f"  … ほか {len(lines) - SHOWN} 件 / and {len(lines) - SHOWN} more")


@click.command("facility-template")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def facility_template_command(out: Path) -> None:
    """Write the empty facility template (.xlsx or .csv, by the file name) for the admin."""
    if out.suffix.lower() == ".xlsx":
        with out.open("wb") as stream:
            write_template_xlsx(stream)
    elif out.suffix.lower() == ".csv":
        out.write_bytes(template_csv())
    else:
        raise click.UsageError("The file name must end in .xlsx or .csv.")
    click.echo(f"Wrote {out}.")


def register(cli) -> None:
    """Add the facility commands."""
    cli.add_command(import_facilities_command)
    cli.add_command(facility_template_command)
