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
from surveys.network import choosable, stored_links
from surveys.questionnaire import Questionnaire


@dataclass(frozen=True)
class Option:
    """One facility that can be chosen."""

    id: int
    name: str
    address: str


@dataclass
class Picker:
    """What one `facility_links` question shows: chosen first, then the rest by municipality."""

    chosen: list[Option] = field(default_factory=list)
    groups: list[tuple[str, list[Option]]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # names answered before, no longer listed


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
        listed = {f.id for f in offered}
        picker = Picker(
            removed=[
                str(link["name"])
                for link in stored_links(stored.get(item.key))
                if link["id"] not in listed
            ]
        )
        rest = []
        for facility in offered:
            option = Option(facility.id, facility.name, facility.address)
            (picker.chosen if str(facility.id) in ticked else rest).append(option)
        picker.groups = _by_municipality(offered, rest)
        result[item.key] = picker
    return result


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
