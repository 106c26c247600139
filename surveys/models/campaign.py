"""Survey campaigns and the per-facility invitations they send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow


class Campaign(SQLModel, table=True):
    """A round of the survey for one questionnaire version; invitations expire with it."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    questionnaire_id: int = Field(foreign_key="questionnaireversion.id")
    closes_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    closed: bool = False
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
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
