"""The network: facilities an answer names as partners, who names whom, and the municipal
contact points of a municipality."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from surveys.models import CONTACT_KINDS, Facility
from surveys.questionnaire import Directory, Questionnaire

# Departments that make a facility an obstetric unit a psychiatric answer may name (a general
# hospital with psychiatry and obstetrics stays one "psychiatric" row).
OBSTETRIC_DEPARTMENTS = ("産婦人科", "産科")
# Municipal contact points, in the order a results page lists them (CONTACT_KINDS).
CONTACT_ORDER = CONTACT_KINDS


def _offered(category: str):
    """Return the condition on Facility for the facilities of a category one may choose."""
    if category != "obstetric":
        return Facility.category == category
    departments = [col(Facility.departments).contains(name) for name in OBSTETRIC_DEPARTMENTS]
    general = and_(Facility.category == "psychiatric", or_(*departments))
    return or_(Facility.category == "obstetric", general)


def is_obstetric(facility: Facility) -> bool:
    """Tell whether a facility may be named as an obstetric partner (category or department)."""
    departments = facility.departments or ""
    general = facility.category == "psychiatric" and any(
        name in departments for name in OBSTETRIC_DEPARTMENTS
    )
    return facility.category == "obstetric" or general


def choosable(session: Session, category: str) -> list[Facility]:
    """Return the facilities a `facility_links` item of this category offers, by municipality."""
    query = (
        select(Facility)
        .where(_offered(category))
        .order_by(col(Facility.municipality_code), col(Facility.kana), col(Facility.name))
    )
    return list(session.exec(query))


def link_directory(
    session: Session, questionnaire: Questionnaire, kept: dict[str, Any]
) -> Directory:
    """Return what each `facility_links` category may choose: offered facilities and kept links."""
    # Links the respondent stored before (`kept`: its current answers) stay choosable after their
    # facility is no longer offered, until the respondent unticks them; a new id never passes.
    directory: dict[str, dict[int, str]] = {}
    for category in questionnaire.link_categories():
        rows = session.exec(select(Facility.id, Facility.name).where(_offered(category)))
        offered = {ident: name for ident, name in rows}
        directory[category] = {**_kept_links(questionnaire, kept, category), **offered}
    return directory


def _kept_links(questionnaire: Questionnaire, answers: dict[str, Any], category: str) -> dict:
    """Return {id: stored name} of the links these answers hold in items of this category."""
    return {
        link["id"]: str(link["name"])
        for item in questionnaire.items
        if item.type == "facility_links" and item.category == category
        for link in stored_links(answers.get(item.key))
    }


@dataclass(frozen=True)
class LinkedFacility:
    """One facility an answer names: its stored name, and the row while it is still offered."""

    id: int
    name: str
    facility: Facility | None  # None: no longer offered (shown as text, marked)
    exists: bool = True  # False: the row was removed from the directory

    @property
    def listed(self) -> bool:
        """Tell whether the facility is still offered for this kind of link."""
        return self.facility is not None


def stored_links(value: Any) -> list[dict[str, Any]]:
    """Return the well-formed links of one stored `facility_links` answer."""
    if not isinstance(value, list):
        return []
    return [
        link
        for link in value
        if isinstance(link, dict) and isinstance(link.get("id"), int) and "name" in link
    ]


def resolve_links(session: Session, value: Any, category: str) -> list[LinkedFacility]:
    """Return the facilities a stored answer names; one no longer offered keeps its name."""
    links = stored_links(value)
    ids = [link["id"] for link in links]
    rows = {row.id: row for row in session.exec(select(Facility).where(col(Facility.id).in_(ids)))}
    return [_linked(link, rows.get(link["id"]), category) for link in links]


def _linked(link: dict[str, Any], row: Facility | None, category: str) -> LinkedFacility:
    """Return one stored link with its row when the row still qualifies for the category."""
    qualifies = row is not None and (
        is_obstetric(row) if category == "obstetric" else row.category == category
    )
    return LinkedFacility(
        link["id"], str(link["name"]), row if qualifies else None, row is not None
    )


def names(answers: dict[str, Any], facility_id: int) -> bool:
    """Tell whether any `facility_links` answer among these names the facility."""
    return any(
        link["id"] == facility_id for value in answers.values() for link in stored_links(value)
    )


def contact_points(session: Session, municipality_code: str) -> list[Facility]:
    """Return the municipal contact points of a municipality (5- or 6-digit code)."""
    code = (municipality_code or "")[:5]
    if len(code) != 5 or not code.isdigit():
        return []
    query = select(Facility).where(
        Facility.category == "municipal",
        func.substr(Facility.municipality_code, 1, 5) == code,
    )
    rows = list(session.exec(query))
    order = {kind: n for n, kind in enumerate(CONTACT_ORDER)}
    return sorted(rows, key=lambda f: (order.get(f.kind, len(order)), f.kana or f.name, f.id))


def partner_ids(answers: dict[str, Any], questionnaire: Questionnaire, category: str) -> list[int]:
    """Return the facility ids the answers name in `facility_links` items of this category."""
    ids: dict[int, None] = {}
    for item in questionnaire.items:
        if item.type == "facility_links" and item.category == category:
            ids.update(dict.fromkeys(link["id"] for link in stored_links(answers.get(item.key))))
    return list(ids)
