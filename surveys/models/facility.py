"""Facility master data: a psychiatric or obstetric institution or a municipal contact point."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from surveys.models.types import UTCDateTime, utcnow

FACILITY_KINDS = ("hospital", "clinic")
# What a facility is: a psychiatric hospital or clinic (searched and surveyed), an obstetric
# institution (産婦人科/産科; heard, and named as a partner) or a municipal contact point
# (こども家庭センター / 保健センター; heard, and shown beside a search of its municipality).
FACILITY_CATEGORIES = ("psychiatric", "obstetric", "municipal")
# Kinds of a municipal contact point (psychiatric and obstetric facilities use FACILITY_KINDS).
CONTACT_KINDS = ("family_center", "health_center", "other_contact")


class FacilityBase(SQLModel):
    """Fields of the facility master that the import and the admin edit."""

    source_id: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    kana: str = Field(default="", max_length=200)
    category: str = Field(default="psychiatric", max_length=12, index=True)
    kind: str = Field(default="clinic", max_length=20)
    departments: str = Field(default="", max_length=500)
    prefecture_code: str = Field(default="", max_length=2)
    municipality_code: str = Field(default="", max_length=6, index=True)
    postal_code: str = Field(default="", max_length=8)
    address: str = Field(default="", max_length=300)
    lat: float | None = None
    lng: float | None = None
    phone: str = Field(default="", max_length=40)
    # Where survey invitations and reminders go (the clinic's contact for the programme).
    email: str = Field(default="", max_length=254)
    website: str = Field(default="", max_length=500)
    hours: str = Field(default="", max_length=1000)
    # Nearest station as the clinic gives it (free text, e.g. 「JR亀戸駅 徒歩3分」).
    station: str = Field(default="", max_length=200)
    # Romaji name where the master data has one (医療情報ネット's 英語表記).
    name_en: str = Field(default="", max_length=200)


class Facility(FacilityBase, table=True):
    """A facility row; survey answers live in SurveyResponse."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    updated_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )


class FacilityPublic(SQLModel):
    """A facility as the API shows it: public master fields, its answers and its distance."""

    # A read model (no table), as SQLModel's HeroPublic: never the contact e-mail, the source id
    # or the edit times. Built from a Facility with model_validate(facility, update={...}).

    id: int = Field(description="The facility's number (/api/v1/facilities/{id})")
    name: str = Field(description="Name as registered (Japanese)")
    kana: str = Field(default="", description="Reading of the name in kana")
    # A str with the kinds as its schema's enum: a row is served as stored, as before.
    kind: str = Field(
        description="Hospital or clinic",
        schema_extra={"json_schema_extra": {"enum": list(FACILITY_KINDS)}},
    )
    address: str = Field(description="Address (Japanese)")
    postal_code: str = Field(default="", description="Postal code")
    lat: float | None = Field(default=None, description="Latitude, if located")
    lng: float | None = Field(default=None, description="Longitude, if located")
    distance_km: float | None = Field(
        default=None, description="Distance from the search's place in km; null without one"
    )
    municipality_code: str = Field(
        default="", description="5-digit municipality code (empty if unknown)"
    )
    phone: str = Field(default="", description="Phone number")
    website: str = Field(default="", description="Website URL")
    hours: str = Field(default="", description="Opening hours as the facility gives them")
    verified_on: date | None = Field(
        default=None, description="When the answers were last confirmed; null if never answered"
    )
    answers: dict[str, Any] = Field(
        description="Answers keyed by questionnaire item; public fields only without a token"
    )
