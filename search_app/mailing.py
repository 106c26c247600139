"""The app's mail settings and set-up links, read from the running app's configuration."""

from __future__ import annotations

from flask import current_app
from sqlmodel import Session

from surveys import audit, password_links
from surveys.mail import MailSettings
from surveys.models import User
from surveys.office import OfficeContact


def mail_settings() -> MailSettings:
    """Return the mail settings of the running app."""
    return MailSettings.from_config(current_app.config, current_app.instance_path)


def office_contact() -> OfficeContact:
    """Return the programme office's contact as configured (OFFICE_*)."""
    return OfficeContact.from_config(current_app.config)


def base_url() -> str:
    """Return the public address links in mails point to."""
    return current_app.config["BASE_URL"]


def send_setup_link(
    session: Session, actor: audit.Actor, user: User, lang: str
) -> password_links.SentLink:
    """Mail a set-up link with the app's mail settings, secret and public address."""
    secret = current_app.config["SECRET_KEY"]
    return password_links.send_setup_link(
        session, actor, user, mail_settings(), secret, base_url(), lang, office_contact()
    )
