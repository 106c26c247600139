"""`pmh create-user`, `pmh user invite|disable`, `pmh api-token`: accounts from the shell."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from search_app.cli import run
from search_app.db import engine
from search_app.mailing import send_setup_link
from surveys import audit, users
from surveys.accounts import hash_password
from surveys.api_tokens import MAX_DAYS, create_token, list_tokens, revoke_token
from surveys.models import ROLES, Facility, User, UserFacility
from surveys.passwords import WeakPasswordError, validate_new_password


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
    try:
        validate_new_password(password, email)
    except WeakPasswordError as exc:
        raise click.UsageError(exc.message("en")) from exc
    address = users.canonical_email(email)
    with Session(engine()) as session:
        run(lambda: users.check_new_address(session, address))
        missing = [fid for fid in facility_ids if session.get(Facility, fid) is None]
        if missing:
            raise click.UsageError(f"No facility with id {missing}.")
        user = User(
            email=address,
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


@click.group("user")
def user_group() -> None:
    """Invite and disable users; remove a lost authenticator."""


@user_group.command("invite")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="")
@click.option("--organisation", default="")
@click.option("--municipality", default="", help="Municipality code of a staff member.")
@click.option(
    "--facility",
    "facility_ids",
    multiple=True,
    type=int,
    help="Facility id a clinic user answers for (repeatable).",
)
@click.option("--lang", type=click.Choice(["ja", "en"]), default="ja", help="Language of the mail.")
@with_appcontext
def invite_command(email, role, name, organisation, municipality, facility_ids, lang) -> None:
    """Create a user, mail a set-up link and print it (valid 72 hours)."""
    with Session(engine(), expire_on_commit=False) as session:
        user = run(
            lambda: users.invite_user(
                session,
                audit.CLI_ACTOR,
                email,
                role,
                name,
                organisation,
                municipality,
                facility_ids,
            )
        )
        session.commit()
        sent = send_setup_link(session, audit.CLI_ACTOR, user, lang)
        session.commit()
    click.echo(f"Invited {role} user {user.email}.")
    if sent.error is not None:
        click.echo(f"The e-mail was not sent: {sent.error.message('en')}", err=True)
        click.echo("Pass this set-up link on by hand:")
    click.echo(sent.url)


@user_group.command("disable")
@click.argument("email")
@with_appcontext
def disable_command(email) -> None:
    """Disable a user; their sessions end at once."""
    with Session(engine()) as session:
        run(lambda: users.disable_user(session, audit.CLI_ACTOR, users.find_user(session, email)))
        session.commit()
    click.echo(f"Disabled {users.canonical_email(email)}.")


@user_group.command("reset-two-factor")
@click.argument("email")
@with_appcontext
def reset_two_factor_command(email) -> None:
    """Remove a user's authenticator (lost phone, including the last admin's); sessions end."""
    with Session(engine()) as session:
        run(
            lambda: users.reset_two_factor(
                session, audit.CLI_ACTOR, users.find_user(session, email)
            )
        )
        session.commit()
    address = users.canonical_email(email)
    click.echo(f"Two-step verification removed for {address}; set it up again.")


@click.group("api-token")
def api_token_group() -> None:
    """API tokens for staff systems."""


@api_token_group.command("create")
@click.option("--email", required=True, help="E-mail of an active staff or admin user.")
@click.option("--name", default="", help="What the token is for.")
@click.option(
    "--days",
    type=click.IntRange(1, MAX_DAYS),
    default=None,
    help="Days until the token expires (default PMH_API_TOKEN_DAYS, 365).",
)
@with_appcontext
def create_token_command(email: str, name: str, days: int | None) -> None:
    """Create an API token and print it once."""
    days = days or int(current_app.config["API_TOKEN_DAYS"])
    with Session(engine()) as session:
        user = run(lambda: users.find_user(session, email))
        row, token = run(lambda: create_token(session, user, name, audit.CLI_ACTOR, days))
        session.commit()
        expires = f"{row.expires_at:%Y-%m-%d %H:%M} UTC"
        click.echo(
            f"Token {row.id} for {user.email}, expires {expires} (shown once, keep it secret):"
        )
        click.echo(token)


@api_token_group.command("list")
@with_appcontext
def list_tokens_command() -> None:
    """List tokens: id, user, name, created, expires, last used, revoked."""
    with Session(engine()) as session:
        rows = list_tokens(session)
    click.echo("id\tuser\tname\tcreated\texpires\tlast used\trevoked")
    for token, user in rows:
        dates = (token.created_at, token.expires_at, token.last_used_at, token.revoked_at)
        shown = "\t".join(f"{d:%Y-%m-%d %H:%M}" if d else "-" for d in dates)
        click.echo(f"{token.id}\t{user.email}\t{token.name or '-'}\t{shown}")


@api_token_group.command("revoke")
@click.option("--id", "token_id", required=True, type=int)
@with_appcontext
def revoke_token_command(token_id: int) -> None:
    """Revoke an API token."""
    with Session(engine()) as session:
        run(lambda: revoke_token(session, token_id, audit.CLI_ACTOR))
        session.commit()
    click.echo(f"Token {token_id} revoked.")


def register(cli) -> None:
    """Add the user and API token commands."""
    cli.add_command(create_user_command)
    cli.add_command(user_group)
    cli.add_command(api_token_group)
