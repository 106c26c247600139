"""`pmh audit verify|checkpoint|rekey`: check, anchor and re-key the audit chain."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.db import audit_key, engine
from surveys.audit import verify_chain
from surveys.audit_anchor import AuditAnchorError, Checkpoint, checkpoint, compare, rekey


@click.group("audit")
def audit_group() -> None:
    """Audit log commands."""


@audit_group.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file from `pmh audit checkpoint`: also find rows removed from the end since then.",
)
@with_appcontext
def verify_command(checkpoint_file: Path | None) -> None:
    """Walk the audit chain; exit 1 naming the first row that does not fit."""
    mark = _read_checkpoint(checkpoint_file) if checkpoint_file else None
    with Session(engine()) as session:
        report = verify_chain(session, audit_key(current_app.config))
        problem = compare(session, mark) if mark and report.ok else ""
    if not report.ok:
        raise click.ClickException(
            f"Audit chain broken at row {report.bad_id}: {report.problem} "
            f"({report.count - 1} rows before it verified)."
        )
    if problem:
        raise click.ClickException(f"Audit log does not match the checkpoint: {problem}.")
    against = f"; matches the checkpoint of {mark.at}" if mark else ""
    click.echo(f"Audit chain verified: {report.count} rows; head {report.head}{against}.")


def _read_checkpoint(path: Path) -> Checkpoint:
    """Read a checkpoint file (a clear error when it is not one)."""
    try:
        return Checkpoint.from_json(path.read_text(encoding="utf-8", errors="replace"))
    except AuditAnchorError as exc:
        raise click.ClickException(f"{path}: {exc.message_en}") from None


@audit_group.command("checkpoint")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the checkpoint to this file (default: standard output).",
)
@with_appcontext
def checkpoint_command(output: Path | None) -> None:
    """Write the chain's head (rows, last id, MAC, time) as JSON, to keep off the host."""
    with Session(engine()) as session:
        try:
            mark = checkpoint(session, audit_key(current_app.config))
        except AuditAnchorError as exc:
            raise click.ClickException(exc.message_en) from None
    if output is None:
        click.echo(mark.to_json(), nl=False)
        return
    output.write_text(mark.to_json(), encoding="utf-8")
    click.echo(f"Checkpoint written to {output}: {mark.count} rows, last id {mark.last_id}.")


@audit_group.command("rekey")
@with_appcontext
def rekey_command() -> None:
    """Chain rows written before the keyed chain under the audit key (once, after upgrading)."""
    with Session(engine()) as session:
        try:
            report = rekey(session, audit_key(current_app.config))
        except AuditAnchorError as exc:
            raise click.ClickException(exc.message_en) from None
        session.commit()
    if not report.unkeyed:
        click.echo(f"Nothing to do: all {report.count} audit rows are chained under the key.")
        return
    click.echo(
        f"Re-chained {report.count} audit rows under the audit key "
        f"({report.unkeyed} held an unkeyed hash)."
    )


def register(cli) -> None:
    """Add the audit commands."""
    cli.add_command(audit_group)
