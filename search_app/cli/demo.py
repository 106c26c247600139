"""`pmh seed-demo`: fill an empty database with realistic synthetic data."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from index.geo.gazetteer import TOKYO, load_towns
from search_app.db import engine
from search_app.questionnaire import current_questionnaire
from surveys import audit
from surveys.campaigns import create_campaign, facilities_to_invite, invite, progress
from surveys.demo import (
    add_partner_links,
    add_past_campaign,
    demo_users,
    has_facilities,
    seed_demo,
)
from surveys.demo_network import seed_network
from surveys.operations import today_in_japan


@click.command("seed-demo")
@with_appcontext
@click.option("--clinics", default=120, show_default=True, type=click.IntRange(1, 200_000))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing if facilities exist (for make run).")
def seed_demo_command(clinics: int, seed: int, if_empty: bool) -> None:
    """Create synthetic facilities, answers, demo users and invitation links."""
    questionnaire = current_questionnaire()
    with Session(engine()) as session:
        if has_facilities(session):
            if not if_empty:
                raise click.UsageError("The database already holds facilities; use an empty one.")
            click.echo("Demo data already present; nothing added.")
            _print_users(seed, reprint=True)
            return
        towns = load_towns(TOKYO)
        summary = seed_demo(session, questionnaire, clinics, seed, towns)
        hearings = {c: current_questionnaire(c) for c in ("obstetric", "municipal")}
        network = seed_network(session, hearings, seed, towns)
        partner_links = add_partner_links(session, questionnaire, seed)
        past_line = _past_campaign(session, questionnaire)
        links = _invitation_links(session, questionnaire)
        session.commit()
    click.echo(f"Created {summary['facilities']} facilities ({summary['answered']} answered).")
    click.echo(
        f"Created {network['obstetric']} obstetric units and {network['contact_points']} "
        f"municipal contact points ({network['hearing_answers']} hearing answers; facility "
        f"{network['conflict_facility']} was answered twice by two staff, both versions kept)."
    )
    click.echo(f"Partner links: {partner_links} answers name nearby obstetric units.")
    click.echo(past_line)
    _print_users(seed)
    for name, link in links:
        click.echo(f"  invitation for {name}: {link}")


def _past_campaign(session: Session, questionnaire) -> str:
    """Add the closed demo campaign; say how many answered and where its report is."""
    past = add_past_campaign(session, questionnaire)
    answered = progress(session, past).answered
    report = f"/admin/campaigns/{past.id}/study-report"
    return f"Closed campaign {past.name!r}: {answered} facilities answered (report: {report})."


def _invitation_links(session: Session, questionnaire) -> list[tuple[str, str]]:
    """Open a demo campaign and invite three facilities that have not answered."""
    closes_on = today_in_japan() + timedelta(days=60)
    name = "2026年度 妊産婦受け入れ調査（デモ）"
    campaign = create_campaign(session, questionnaire, name, closes_on, audit.CLI_ACTOR)
    chosen = facilities_to_invite(session, [], unanswered_only=True, category="psychiatric")[:3]
    base = current_app.config["BASE_URL"].rstrip("/")
    links = invite(session, campaign, chosen, audit.CLI_ACTOR)
    return [(f.name, f"{base}/clinic/invite/{token}") for f, token in links]


def _print_users(seed: int, reprint: bool = False) -> None:
    """Print the demo accounts."""
    note = " (unless changed since)" if reprint else ""
    click.echo(f"Demo accounts{note}:")
    for user in demo_users(seed):
        click.echo(f"  {user.role:<6} {user.email:<20} password: {user.password}")


def register(cli) -> None:
    """Add the demo command."""
    cli.add_command(seed_demo_command)
