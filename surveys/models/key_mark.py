"""Fingerprints of the keys the stored data depends on (never the keys themselves)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow


class KeyMark(SQLModel, table=True):
    """Which key (by fingerprint) signed the links and chained the audit log of this data."""

    name: str = Field(primary_key=True, max_length=30)
    fingerprint: str = Field(max_length=64)
    recorded_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
