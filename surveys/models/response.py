"""Survey responses: append-only history, the latest version is the current answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow

# "answer": the clinic submitted answers; "confirm": it confirmed the previous answers still hold.
RESPONSE_KINDS = ("answer", "confirm")


class SurveyResponse(SQLModel, table=True):
    """One submitted version of a facility's answers; never updated, never deleted."""

    __table_args__ = (UniqueConstraint("facility_id", "version_no"),)

    id: int | None = Field(default=None, primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", index=True)
    version_no: int
    questionnaire_id: int = Field(foreign_key="questionnaireversion.id")
    kind: str = Field(default="answer", max_length=10)
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    verified_on: date
    submitted_by_user_id: int | None = Field(default=None, foreign_key="user.id")
    submitted_via_invitation_id: int | None = Field(default=None, foreign_key="invitation.id")
    submitted_by_label: str = Field(default="", max_length=200)
    submitted_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
