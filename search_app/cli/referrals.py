"""`pmh referrals remind`: optionally mail referrers whose outcome questions became due today."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.cli import run
from search_app.db import engine
from search_app.mailing import base_url, mail_settings
from surveys import referral_mail


@click.group("referrals")
def referrals_group() -> None:
    """Referral outcomes."""


@referrals_group.command("remind")
@with_appcontext
def remind_command() -> None:
    """Mail each referrer with outcome questions due today (run daily; REFERRAL_OUTCOME_MAIL)."""
    if not current_app.config["REFERRAL_OUTCOME_MAIL"]:
        click.echo("Outcome question mail is switched off (REFERRAL_OUTCOME_MAIL).")
        return
    with Session(engine()) as session:
        sent = run(lambda: referral_mail.mail_due_questions(session, mail_settings(), base_url()))
    click.echo(f"Mailed {sent} referrer(s).")


def register(cli) -> None:
    """Add the referral commands."""
    cli.add_command(referrals_group)
