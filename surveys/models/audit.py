"""Audit events: who did what, when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """One audited action; rows are only ever added."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    actor_label: str = Field(default="", max_length=200)
    action: str = Field(max_length=50, index=True)
    target_type: str = Field(default="", max_length=30)
    target_id: str = Field(default="", max_length=40)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Hash chain: each row's hash covers its content and the previous row's hash.
    prev_hash: str = Field(default="", max_length=64)
    row_hash: str = Field(default="", max_length=64)
