"""Mail transports: SMTP (host, port, TLS, credentials from config) or .eml files."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

from surveys.errors import UserFacingError


class MailError(UserFacingError):
    """The mail server refused or could not be reached."""


@dataclass(frozen=True)
class MailSettings:
    """Where mail goes; built from the app config (MAIL_*)."""

    backend: str = "file"
    sender: str = "noreply@example.jp"
    folder: str = ""
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    # A message a crashed run was sending is taken up again by another run after this long.
    send_lease: float = 300.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any], instance_path: str) -> MailSettings:
        """Read the MAIL_* settings; the file backend writes under instance/mail by default."""
        return cls(
            backend=config["MAIL_BACKEND"],
            sender=config["MAIL_FROM"],
            folder=config["MAIL_FOLDER"] or str(Path(instance_path) / "mail"),
            host=config["MAIL_SMTP_HOST"],
            port=int(config["MAIL_SMTP_PORT"]),
            starttls=bool(config["MAIL_SMTP_STARTTLS"]),
            ssl=bool(config["MAIL_SMTP_SSL"]),
            username=config["MAIL_SMTP_USERNAME"],
            password=config["MAIL_SMTP_PASSWORD"],
            timeout=float(config["MAIL_SMTP_TIMEOUT"]),
            send_lease=float(config["MAIL_SEND_LEASE_SECONDS"]),
        )


class Transport(Protocol):
    """Something that delivers one message at a time."""

    def send(self, message: EmailMessage) -> None:
        """Deliver a message or raise MailError."""


def build_message(
    settings: MailSettings, to: str, subject: str, body: str, key: str | None = None
) -> EmailMessage:
    """Build a UTF-8 plain-text message; a `key` gives it a Message-ID that is the same each
    time it is built (a message sent again after a crash is recognisably the same one)."""
    domain = settings.sender.rpartition("@")[2].strip("> ")
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{key}@{domain}>" if key else make_msgid(domain=domain)
    message.set_content(body, charset="utf-8")
    return message


class FileTransport:
    """Development: each message becomes an .eml file in a folder."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def send(self, message: EmailMessage) -> None:
        """Write the message to <folder>/<message id>.eml (atomically)."""
        name = message["Message-ID"].strip("<>").replace("/", "_")
        target = self.folder / f"{name}.eml"
        partial = target.with_suffix(".part")
        partial.write_bytes(bytes(message))
        partial.replace(target)


class SmtpTransport:
    """Production: one SMTP connection, reused for every message of a run."""

    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings
        self.connection: smtplib.SMTP | None = None

    def open(self) -> None:
        """Connect, optionally upgrade to TLS, and log in."""
        s = self.settings
        try:
            if s.ssl:
                context = ssl.create_default_context()
                self.connection = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=context
                )
            else:
                self.connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.starttls:
                    self.connection.starttls(context=ssl.create_default_context())
            if s.username:
                self.connection.login(s.username, s.password)
        except (OSError, smtplib.SMTPException) as exc:
            self.connection = None
            raise _mail_error(exc) from exc

    def send(self, message: EmailMessage) -> None:
        """Send one message over the open connection."""
        if self.connection is None:
            self.open()
        try:
            self.connection.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise _mail_error(exc) from exc

    def close(self) -> None:
        """Say goodbye to the server (ignoring a connection that is already gone)."""
        if self.connection is not None:
            with suppress(OSError, smtplib.SMTPException):
                self.connection.quit()
            self.connection = None


def _mail_error(exc: BaseException) -> MailError:
    """Wrap a transport failure in a message for the office."""
    return MailError(
        f"メールサーバーに送信できませんでした ({type(exc).__name__})。",
        f"The mail server could not be reached or refused the message ({type(exc).__name__}).",
    )


@contextmanager
def open_transport(settings: MailSettings) -> Iterator[Transport]:
    """Yield the configured transport; an SMTP connection is closed afterwards."""
    if settings.backend == "smtp":
        transport = SmtpTransport(settings)
        try:
            yield transport
        finally:
            transport.close()
        return
    if settings.backend == "file":
        yield FileTransport(settings.folder)
        return
    raise MailError(
        f"MAIL_BACKEND が不明です: {settings.backend}", f"Unknown MAIL_BACKEND: {settings.backend}"
    )
