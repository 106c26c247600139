"""`pmh create-user`: add an admin, staff or clinic account."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlmodel import Session, select

from search_app.db import engine
from surveys import audit
from surveys.accounts import hash_password
from surveys.api_tokens import create_token, revoke_token
from surveys.errors import SurveyError
from surveys.models import ROLES, Facility, User, UserFacility


@click.command("create-user")
@with_appcontext
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
@click.option("--organisation", default="")
@click.option(
    "--facility",
    "facility_ids",
    multiple=True,
    type=int,
    help="Facility id a clinic user answers for (repeatable).",
)
@click.password_option()
def create_user_command(email, role, name, organisation, facility_ids, password) -> None:
    """Create a user account."""
    if len(password) < 12:
        raise click.UsageError("The password must have at least 12 characters.")
    with Session(engine()) as session:
        if session.exec(select(User).where(User.email == email.lower())).first():
            raise click.UsageError(f"A user with e-mail {email} already exists.")
        missing = [fid for fid in facility_ids if session.get(Facility, fid) is None]
        if missing:
            raise click.UsageError(f"No facility with id {missing}.")
        user = User(
            email=email.lower(),
            role=role,
            display_name=name,
            organisation=organisation,
            password_hash=hash_password(password),
        )
        session.add(user)
        session.flush()
        session.add_all(UserFacility(user_id=user.id, facility_id=fid) for fid in facility_ids)
        audit.record(session, audit.CLI_ACTOR, "user.create", user, role=role)
        session.commit()
    click.echo(f"Created {role} user {email}.")


@click.group("api-token")
def api_token_group() -> None:
    """API tokens for staff systems."""


@api_token_group.command("create")
@click.option("--email", required=True, help="E-mail of an active staff or admin user.")
@click.option("--name", default="", help="What the token is for.")
@with_appcontext
def create_token_command(email: str, name: str) -> None:
    """Create an API token and print it once."""
    with Session(engine()) as session:
        user = session.exec(select(User).where(User.email == email.lower())).first()
        if user is None:
            raise click.UsageError(f"No user with e-mail {email}.")
        try:
            row, token = create_token(session, user, name, audit.CLI_ACTOR)
        except SurveyError as exc:
            raise click.ClickException(exc.message("en")) from exc
        session.commit()
        click.echo(f"Token {row.id} for {user.email} (shown once, keep it secret):")
        click.echo(token)


@api_token_group.command("revoke")
@click.option("--id", "token_id", required=True, type=int)
@with_appcontext
def revoke_token_command(token_id: int) -> None:
    """Revoke an API token."""
    with Session(engine()) as session:
        try:
            revoke_token(session, token_id, audit.CLI_ACTOR)
        except SurveyError as exc:
            raise click.ClickException(exc.message("en")) from exc
        session.commit()
    click.echo(f"Token {token_id} revoked.")


def register(cli) -> None:
    """Add the user and API token commands."""
    cli.add_command(create_user_command)
    cli.add_command(api_token_group)
