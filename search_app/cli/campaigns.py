"""`pmh campaign create|invite`: open a survey round and print invitation links."""

from __future__ import annotations

import csv
import sys

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.db import engine
from surveys import audit, campaigns
from surveys.errors import SurveyError
from surveys.models import Campaign
from surveys.questionnaire import load_version


@click.group("campaign")
def campaign_group() -> None:
    """Survey campaigns."""


@campaign_group.command("create")
@click.option("--name", required=True)
@click.option(
    "--closes",
    "closes_on",
    required=True,
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day (Japan time) on which invitations work, YYYY-MM-DD.",
)
@with_appcontext
def create_command(name: str, closes_on) -> None:
    """Open a campaign for the current questionnaire edition."""
    questionnaire = load_version(current_app.config["QUESTIONNAIRE_VERSION"])
    with Session(engine()) as session:
        campaign = _run(
            lambda: campaigns.create_campaign(
                session, questionnaire, name, closes_on.date(), audit.CLI_ACTOR
            )
        )
        session.commit()
        click.echo(f"Campaign {campaign.id} '{name}' closes {closes_on.date().isoformat()}.")


@campaign_group.command("invite")
@click.option("--campaign", "campaign_id", required=True, type=int)
@click.option(
    "--facility",
    "facility_ids",
    multiple=True,
    type=int,
    help="Facility id (repeatable); default: every facility.",
)
@click.option("--unanswered", is_flag=True, help="Only facilities that have never answered.")
@with_appcontext
def invite_command(campaign_id: int, facility_ids: tuple[int, ...], unanswered: bool) -> None:
    """Create invitations and write facility id, name and link as CSV to stdout."""
    with Session(engine()) as session:
        campaign = session.get(Campaign, campaign_id)
        if campaign is None:
            raise click.UsageError(f"No campaign with id {campaign_id}.")
        chosen = _run(
            lambda: campaigns.facilities_to_invite(session, list(facility_ids), unanswered)
        )
        links = _run(lambda: campaigns.invite(session, campaign, chosen, audit.CLI_ACTOR))
        session.commit()
        _write_links(links)
    click.echo(f"{len(links)} invitations created.", err=True)


def _write_links(links) -> None:
    """Write facility id, name and invitation link as CSV to stdout."""
    base = current_app.config["BASE_URL"].rstrip("/")
    writer = csv.writer(sys.stdout)
    writer.writerow(["facility_id", "name", "link"])
    for facility, token in links:
        writer.writerow([facility.id, facility.name, f"{base}/clinic/invite/{token}"])


def _run(operation):
    """Run an operation, turning its user-safe error into a clean CLI error."""
    try:
        return operation()
    except SurveyError as exc:
        raise click.ClickException(exc.message("en")) from exc


def register(cli) -> None:
    """Add the campaign commands."""
    cli.add_command(campaign_group)
