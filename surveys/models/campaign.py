"""Survey campaigns and the per-facility invitations they send."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow


class Campaign(SQLModel, table=True):
    """A round of the survey for one questionnaire version; invitations expire with it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    questionnaire_id: int = Field(foreign_key="questionnaireversion.id")
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed: bool = False
    # Which facilities it covers: {"municipalities": [codes], "kinds": ["hospital", "clinic"]};
    # an empty list means no restriction.
    scope: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class Invitation(SQLModel, table=True):
    """A single-use link for one facility; only the SHA-256 of its token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    email: str = Field(default="", max_length=254)
    # How it reached the clinic: "email" (campaign mail), "letter" (printed, with a short code
    # as its token) or "link" (made with `pmh campaign invite` and passed on by hand).
    channel: str = Field(default="link", max_length=10)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


MAIL_KINDS = ("invitation", "reminder")
MAIL_STATUSES = ("queued", "sent", "failed", "skipped")


class MailMessage(SQLModel, table=True):
    """One e-mail of a campaign, queued before sending so an interrupted run can resume."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "facility_id", "kind", "round", name="uq_mail_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    invitation_id: int | None = Field(default=None, foreign_key="invitation.id")
    kind: str = Field(max_length=20)
    # Reminders are numbered 1, 2, ...; the invitation is round 0.
    round: int = 0
    to_address: str = Field(max_length=254)
    language: str = Field(default="ja", max_length=5)
    subject: str = Field(default="", max_length=300)
    # The body holds the clear invitation link until sent; it is emptied once sent.
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="queued", max_length=10, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
