"""Outgoing e-mail: transports (SMTP, or files in development) and message building."""

from surveys.mail.transport import (
    FileTransport,
    MailError,
    MailSettings,
    SmtpTransport,
    Transport,
    build_message,
    open_transport,
)

__all__ = [
    "FileTransport",
    "MailError",
    "MailSettings",
    "SmtpTransport",
    "Transport",
    "build_message",
    "open_transport",
]
