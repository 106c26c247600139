"""`pmh pulse send|status`: the monthly capacity pulse mail (run daily from cron; resumable)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.cli import run
from search_app.db import engine
from search_app.mailing import base_url, mail_settings
from surveys import audit, pulse, pulse_mail


@click.group("pulse")
def pulse_group() -> None:
    """Monthly capacity pulse."""


@pulse_group.command("send")
@click.option(
    "--language", type=click.Choice(pulse_mail.LANGUAGES), default="ja", show_default=True,
    help="Language of newly queued messages.",
)  # fmt: skip
@click.option("--retry-failed", is_flag=True, help="Also resend messages the server refused.")
@click.option("--force", is_flag=True, help="Send before PULSE_SEND_DAY of the month.")
@with_appcontext
def send_command(language: str, retry_failed: bool, force: bool) -> None:
    """Open this month's round, queue a mail per accepting facility, send what is queued."""
    config = current_app.config
    if not config["PULSE_ENABLED"]:
        click.echo("The capacity pulse is switched off (PULSE_ENABLED).")
        return
    if not force and not pulse_mail.is_due(int(config["PULSE_SEND_DAY"])):
        click.echo(f"Not yet: this month's pulse goes out from day {config['PULSE_SEND_DAY']}.")
        return
    with Session(engine()) as session:
        pulse_round = pulse_mail.open_round(session, int(config["PULSE_LINK_DAYS"]))
        queued = pulse_mail.queue_round(
            session, pulse_round, config["SECRET_KEY"], base_url(), audit.CLI_ACTOR, language
        )
        click.echo(f"{pulse_round.month}: queued {queued.queued} ({queued.already} already).")
        total = pulse_mail.pending_count(session, pulse_round, retry_failed)
        with click.progressbar(length=total, label="Sending", show_pos=True) as bar:
            report = run(
                lambda: pulse_mail.send_round(
                    session, pulse_round, mail_settings(), audit.CLI_ACTOR, retry_failed,
                    bar.update,
                )
            )  # fmt: skip
        click.echo(f"Sent {report.sent}, failed {report.failed}.")


@pulse_group.command("status")
@with_appcontext
def status_command() -> None:
    """Show each month's mailed facilities, answers and response rate."""
    with Session(engine()) as session:
        for month in pulse.monthly_rates(session):
            counts = " ".join(f"{k}={v}" for k, v in month.counts.items())
            click.echo(
                f"{month.month}: mailed {month.mailed}, answered {month.answered} "
                f"({month.rate:.0%}) {counts}"
            )


def register(cli) -> None:
    """Add the pulse commands."""
    cli.add_command(pulse_group)
