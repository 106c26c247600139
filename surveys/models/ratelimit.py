"""Rate-limit counters in the database, shared by every worker when Redis is not configured."""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class RateLimitCounter(SQLModel, table=True):
    """Hits for one key (e.g. sign-in by address) within one fixed time window."""

    key: str = Field(primary_key=True, max_length=200)
    window_start: int = Field(primary_key=True)
    hits: int = 0
