"""Clinics coming back on their own: sign-in links by e-mail and proposed detail corrections."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow

CORRECTION_FIELDS = ("phone", "website", "hours", "station", "email")
CORRECTION_STATUSES = ("pending", "approved", "rejected")


class SignInLink(SQLModel, table=True):
    """A single-use, short-lived sign-in link mailed to a facility's registered address."""

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))


class FacilityCorrection(SQLModel, table=True):
    """A clinic's proposed change to one master field, reviewed by the office."""

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    field: str = Field(max_length=20)
    old_value: str = Field(default="", max_length=1000)
    new_value: str = Field(default="", max_length=1000)
    status: str = Field(default="pending", max_length=10, index=True)
    reason: str = Field(default="", max_length=500)
    proposed_by: str = Field(default="", max_length=200)
    decided_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    decided_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
