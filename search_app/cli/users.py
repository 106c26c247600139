"""`pmh create-user`: add an admin, staff or clinic account."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlmodel import Session, select

from search_app.db import engine
from surveys import audit
from surveys.accounts import hash_password
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


def register(cli) -> None:
    """Add the user commands."""
    cli.add_command(create_user_command)
