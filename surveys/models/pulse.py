"""Capacity pulse: monthly rounds, their mail, and the answers facilities give."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow

CAPACITY_CODES = ("room", "little", "none")
PULSE_CHANNELS = ("mail", "portal")


class PulseRound(SQLModel, table=True):
    """One month's pulse; its links stop working at `links_expire_at`."""

    id: int | None = Field(default=None, primary_key=True)
    month: str = Field(max_length=7, unique=True)  # "2026-12", the month in Japan
    links_expire_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class PulseMail(SQLModel, table=True):
    """One pulse e-mail, queued before sending (same life cycle as campaign mail)."""

    __table_args__ = (UniqueConstraint("round_id", "facility_id", name="uq_pulsemail_once"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="pulseround.id", index=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    to_address: str = Field(max_length=254)
    language: str = Field(default="ja", max_length=5)
    subject: str = Field(default="", max_length=300)
    # Holds the answer links until sent; emptied once the server accepted the message.
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(default="queued", max_length=10, index=True)
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class PulseAnswer(SQLModel, table=True):
    """A facility's answer on new perinatal patients this month; the newest one counts."""

    # One answer per facility through a round's mail links; portal answers have no round.
    __table_args__ = (UniqueConstraint("round_id", "facility_id", name="uq_pulseanswer_once"),)

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    capacity: str = Field(max_length=10)  # one of CAPACITY_CODES
    wait_days: int | None = None
    answered_on: date  # the date in Japan
    via: str = Field(max_length=10)  # one of PULSE_CHANNELS
    round_id: int | None = Field(default=None, foreign_key="pulseround.id", index=True)
    answered_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
