"""A questionnaire version as registered in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow


class QuestionnaireVersion(SQLModel, table=True):
    """A snapshot of one questionnaire file; answers point at the version they answered."""

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=20, unique=True)
    title: str = Field(max_length=200)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
