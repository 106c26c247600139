"""Access reports: a referrer could not get an appointment at a facility."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow

REPORT_REASONS = ("no_capacity", "no_answer", "refused_pregnant", "other")


class AccessReport(SQLModel, table=True):
    """One report by a staff user; at most one per user, facility and (Japanese) day."""

    __table_args__ = (
        UniqueConstraint(
            "facility_id", "reporter_user_id", "reported_on", name="uq_accessreport_one_a_day"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    reason: str = Field(max_length=20)
    # Short free text about the facility's reply; never about the patient.
    comment: str = Field(default="", max_length=200)
    reporter_user_id: int = Field(foreign_key="user.id", index=True)
    reported_on: date
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    resolved_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    resolved_by_label: str = Field(default="", max_length=200)
