"""Users, their roles, and which facilities a clinic user may answer for."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow

ROLES = ("admin", "staff", "clinic")


class User(SQLModel, table=True):
    """A signed-in person: programme office (admin), referrer (staff) or clinic staff."""

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(default="", max_length=200)
    organisation: str = Field(default="", max_length=200)
    # The municipality a staff member works for ("" for hospitals and the office).
    municipality_code: str = Field(default="", max_length=6)
    role: str = Field(max_length=10)
    password_hash: str = Field(default="", max_length=300)
    is_active: bool = True
    # Base32 TOTP secret once two-factor sign-in is set up ("" before).
    totp_secret: str = Field(default="", max_length=64)
    # Raised on logout, disabling and password change: older session cookies stop working.
    session_epoch: int = 0
    last_login_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class UserFacility(SQLModel, table=True):
    """Links a clinic user to a facility it may answer for."""

    user_id: int = Field(foreign_key="user.id", primary_key=True)
    facility_id: int = Field(foreign_key="facility.id", primary_key=True)
