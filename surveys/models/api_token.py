"""API tokens: bearer credentials for staff systems calling the JSON API."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow


class ApiToken(SQLModel, table=True):
    """A token of one user; only the SHA-256 of the token is stored."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    name: str = Field(default="", max_length=100)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    # Tokens stop working after this time (`pmh api-token create --days N`).
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # When the token last opened the API (kept to the hour: one write per hour, not per call).
    last_used_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
