"""`pmh campaign ...`: open a survey round, mail invitations and reminders, follow it, close it."""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session, select

from index.geo import gazetteer
from search_app.cli import run
from search_app.db import engine
from search_app.mailing import base_url, mail_settings, office_contact
from search_app.questionnaire import current_questionnaire
from surveys import audit, campaign_mail, campaigns, letters
from surveys.models import Campaign, Facility, MailMessage
from surveys.models.facility import CONTACT_KINDS, FACILITY_CATEGORIES, FACILITY_KINDS

LANGUAGE = click.option(
    "--language", type=click.Choice(campaign_mail.LANGUAGES), default="ja", show_default=True,
    help="Language of newly queued messages.",
)  # fmt: skip


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
@click.option(
    "--municipality", "municipalities", multiple=True,
    help="5-digit municipality code (repeatable); default: the whole prefecture.",
)  # fmt: skip
@click.option(
    "--kind", "kinds", multiple=True, type=click.Choice(FACILITY_KINDS + CONTACT_KINDS),
    help="hospital, clinic or a contact point's kind (repeatable); default: all.",
)  # fmt: skip
@click.option(
    "--for", "category", type=click.Choice(FACILITY_CATEGORIES), default="psychiatric",
    show_default=True,
    help="Who answers: the psychiatric survey, or the obstetric or municipal hearing.",
)  # fmt: skip
@with_appcontext
def create_command(name: str, closes_on, municipalities, kinds, category: str) -> None:
    """Open a campaign for the current edition of a category and a scope of facilities."""
    questionnaire = current_questionnaire(category)
    prefecture = current_app.config["PREFECTURE_CODE"]
    with Session(engine()) as session:
        codes = [gazetteer.five_digit_code(c) for c in municipalities]
        areas = gazetteer.municipalities(prefecture)
        scope = run(lambda: campaigns.make_scope(prefecture, codes, kinds, areas))
        campaign = run(
            lambda: campaigns.create_campaign(
                session, questionnaire, name, closes_on.date(), audit.CLI_ACTOR, scope
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
        campaign = _campaign(session, campaign_id)
        chosen = run(
            lambda: campaigns.facilities_to_invite(
                session, list(facility_ids), unanswered, campaigns.campaign_category(campaign)
            )
        )
        links = run(lambda: campaigns.invite(session, campaign, chosen, audit.CLI_ACTOR))
        session.commit()
        _write_links(links)
    click.echo(f"{len(links)} invitations created.", err=True)


@campaign_group.command("send")
@click.argument("campaign_id", type=int)
@LANGUAGE
@click.option("--retry-failed", is_flag=True, help="Also resend messages the server refused.")
@with_appcontext
def send_command(campaign_id: int, language: str, retry_failed: bool) -> None:
    """Queue an invitation for every facility in scope, then send what is still queued."""
    _queue_and_send(campaign_mail.queue_invitations, campaign_id, language, retry_failed)


@campaign_group.command("remind")
@click.argument("campaign_id", type=int)
@LANGUAGE
@with_appcontext
def remind_command(campaign_id: int, language: str) -> None:
    """Queue a reminder round for facilities yet to answer, with fresh links, and send it."""
    _queue_and_send(campaign_mail.queue_reminders, campaign_id, language, retry_failed=False)


@campaign_group.command("letters")
@click.argument("campaign_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False), required=True, help="PDF file.")
@click.option("--all", "all_facilities", is_flag=True, help="Every facility in scope.")
@click.option("--reminder", is_flag=True, help="Only facilities that have not answered.")
@with_appcontext
def letters_command(campaign_id: int, output: str, all_facilities: bool, reminder: bool) -> None:
    """Print invitation letters (A4 PDF, one page per facility without an e-mail address)."""
    with Session(engine()) as session:
        campaign = _campaign(session, campaign_id)
        font = run(lambda: letters.find_font(current_app.config["LETTER_FONT"]))
        plan = letters.LetterRun(all_facilities, reminder)
        pdf = run(
            lambda: letters.make_letters(
                session, campaign, audit.CLI_ACTOR, base_url(), office_contact(), plan, font
            )
        )
        with open(output, "wb") as handle:
            handle.write(pdf)
        session.commit()  # the codes exist only in the file written above
        click.echo(f"Wrote {output}.", err=True)


@campaign_group.command("close")
@click.argument("campaign_id", type=int)
@with_appcontext
def close_command(campaign_id: int) -> None:
    """Close the campaign: its links stop working and nothing more is sent."""
    with Session(engine()) as session:
        campaign = _campaign(session, campaign_id)
        run(lambda: campaigns.close_campaign(session, campaign, audit.CLI_ACTOR))
        session.commit()
        click.echo(f"Campaign {campaign_id} closed; its invitation links no longer work.")


@campaign_group.command("status")
@click.argument("campaign_id", type=int)
@with_appcontext
def status_command(campaign_id: int) -> None:
    """Show how many messages are queued, sent and failed and how many facilities answered."""
    with Session(engine()) as session:
        campaign = _campaign(session, campaign_id)
        p = campaigns.progress(session, campaign)
        state = "closed" if not campaigns.is_open(campaign) else "open"
        click.echo(f"Campaign {campaign.id} '{campaign.name}' ({state})")
        click.echo(f"in scope: {p.in_scope}  without e-mail: {p.without_email}")
        click.echo(f"invited: {p.invited}  letters: {p.letters}  links used: {p.opened}")
        click.echo(f"queued: {p.queued}  sent: {p.sent}  failed: {p.failed}")
        click.echo(f"answered: {p.answered} ({p.rate_percent}%)")
        for message, name in _failed(session, campaign):
            click.echo(f"  failed: {name} <{message.to_address}>: {message.last_error}")


def _queue_and_send(
    queue: Callable[..., campaign_mail.QueueReport],
    campaign_id: int,
    language: str,
    retry_failed: bool,
) -> None:
    """Queue a round of messages with `queue` (invitations or reminders), then send it."""
    with Session(engine()) as session:
        campaign = _campaign(session, campaign_id)
        report = run(
            lambda: queue(
                session, campaign, audit.CLI_ACTOR, base_url(), language, office=office_contact()
            )
        )
        _echo_queued(report)
        _send(session, campaign, retry_failed)


def _send(session: Session, campaign: Campaign, retry_failed: bool) -> None:
    """Send the pending messages with a progress bar; stop cleanly on a server failure."""
    settings = mail_settings()
    total = campaign_mail.pending_count(session, campaign, retry_failed)
    with click.progressbar(length=total, label="Sending", show_pos=True) as bar:
        report = run(
            lambda: campaign_mail.send_pending(
                session, campaign, settings, audit.CLI_ACTOR, retry_failed, bar.update
            )
        )
    click.echo(f"Sent {report.sent}, failed {report.failed}.")
    if report.failed:
        click.echo(
            "Refused addresses: see `pmh campaign status`; fix them and send with --retry-failed.",
            err=True,
        )


def _echo_queued(report: campaign_mail.QueueReport) -> None:
    """Say what was queued and list the facilities that have no address."""
    click.echo(f"Queued {report.queued} {report.kind} message(s) ({report.already} already).")
    if report.without_email:
        click.echo(f"{len(report.without_email)} facilities have no e-mail address:", err=True)
        for facility_id, name in report.without_email:
            click.echo(f"  {facility_id}\t{name}", err=True)


def _failed(session: Session, campaign: Campaign):
    """Return (message, facility name) of the failed messages."""
    return session.exec(
        select(MailMessage, Facility.name)
        .join(Facility, Facility.id == MailMessage.facility_id)
        .where(MailMessage.campaign_id == campaign.id, MailMessage.status == "failed")
        .order_by(MailMessage.id)
    ).all()


def _campaign(session: Session, campaign_id: int) -> Campaign:
    """Return the campaign or stop with a usage error."""
    try:
        return campaigns.get_campaign(session, campaign_id)
    except campaigns.UnknownCampaign as exc:
        raise click.UsageError(f"No campaign with id {campaign_id}.") from exc


def _write_links(links) -> None:
    """Write facility id, name and invitation link as CSV to stdout."""
    writer = csv.writer(sys.stdout)
    writer.writerow(["facility_id", "name", "link"])
    for facility, token in links:
        writer.writerow(
            [facility.id, facility.name, campaign_mail.invitation_link(base_url(), token)]
        )


def register(cli) -> None:
    """Add the campaign commands."""
    cli.add_command(campaign_group)
