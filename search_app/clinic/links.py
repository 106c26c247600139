"""The partner picker of the survey form: facilities of the directory grouped by municipality,
usable without JavaScript (check boxes in one group per municipality; a script adds a filter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlmodel import Session

from index.geo.gazetteer import municipality_by_code
from search_app.i18n import current_lang
from surveys.bilingual import bilingual
from surveys.network import choosable, resolve_links
from surveys.questionnaire import Questionnaire


@dataclass(frozen=True)
class Option:
    """One facility that can be chosen."""

    id: int
    name: str
    address: str


@dataclass(frozen=True)
class Kept:
    """A facility answered before and no longer offered: kept until unticked."""

    id: int
    name: str
    exists: bool  # False: removed from the directory; True: no longer qualifies
    ticked: bool


@dataclass
class Picker:
    """What one `facility_links` question shows: chosen first, then the rest by municipality."""

    chosen: list[Option] = field(default_factory=list)
    groups: list[tuple[str, list[Option]]] = field(default_factory=list)
    removed: list[Kept] = field(default_factory=list)  # answered before, no longer offered


def pickers(
    session: Session, questionnaire: Questionnaire, chosen: dict[str, Any], stored: dict[str, Any]
) -> dict[str, Picker]:
    """Return a picker per `facility_links` item; `chosen` holds the ids ticked now (form data),
    `stored` the saved answers (to name the partners that left the directory)."""
    result = {}
    for item in questionnaire.items:
        if item.type != "facility_links":
            continue
        offered = choosable(session, item.category)
        ticked = {str(v) for v in chosen.get(item.key) or ()}
        picker = Picker(removed=_kept(session, stored.get(item.key), item.category, ticked))
        rest = []
        for facility in offered:
            option = Option(facility.id, facility.name, facility.address)
            (picker.chosen if str(facility.id) in ticked else rest).append(option)
        picker.groups = _by_municipality(offered, rest)
        result[item.key] = picker
    return result


def _kept(session: Session, value: Any, category: str, ticked: set[str]) -> list[Kept]:
    """Return the stored links no longer offered, ticked as the form now says."""
    return [
        Kept(link.id, link.name, link.exists, str(link.id) in ticked)
        for link in resolve_links(session, value, category)
        if not link.listed
    ]


def _by_municipality(offered, rest: list[Option]) -> list[tuple[str, list[Option]]]:
    """Group options by their facility's municipality (directory order)."""
    code_of = {f.id: (f.municipality_code or "")[:5] for f in offered}
    return [
        (_municipality_name(code), list(options))
        for code, options in groupby(rest, key=lambda o: code_of[o.id])
    ]


def _municipality_name(code: str) -> str:
    """Return a municipality's name, or 'other' when the code is unknown."""
    found = municipality_by_code(code) if code else None
    if found is not None:
        return found.name
    return bilingual(current_lang(), "その他・市区町村不明", "Other / municipality unknown")
