"""Referrals and their outcomes: facility, referrer's organisation, dates and codes only."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow

# "" until answered; "seen" (受診につながった) or why not.
OUTCOME_CODES = ("seen", "no_appointment", "refused", "did_not_go", "unknown")


class Referral(SQLModel, table=True):
    """A referrer sent someone to a facility on a day. Nothing about the person is kept."""

    __table_args__ = (
        UniqueConstraint(
            "facility_id", "referrer_user_id", "referred_on", name="uq_referral_one_a_day"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    # Who is asked the follow-up question; colleagues of the same organisation may answer it.
    referrer_user_id: int = Field(foreign_key="user.id", index=True)
    organisation: str = Field(default="", max_length=200)  # copied from the referrer's account
    municipality_code: str = Field(default="", max_length=6)  # the referrer's municipality
    referred_on: date  # the date in Japan
    outcome: str = Field(default="", max_length=20)  # "" or one of OUTCOME_CODES
    answered_on: date | None = None
    answered_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
