"""The newest 医療情報ネット edition applied, per facility kind."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow


class ImportEdition(SQLModel, table=True):
    """The edition (file date) last applied for hospitals or clinics: an older one is refused
    unless forced, as it would silently revert the newer changes."""

    kind: str = Field(primary_key=True, max_length=10)
    edition: date
    source: str = Field(default="", max_length=200)
    applied_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
