"""Facilities as a table: one row per facility, master fields then one column per item."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from surveys.bilingual import bilingual
from surveys.exports.options import MASTER_COLUMNS, ExportOptions
from surveys.listings import Listing, load_listings
from surveys.models import Facility
from surveys.network import stored_links
from surveys.questionnaire import Item, Questionnaire

BATCH = 500  # facility ids per query, well under every database's bound-parameter limit
KIND_LABELS = {"hospital": ("病院", "Hospital"), "clinic": ("診療所", "Clinic")}
JOINERS = {"ja": "、", "en": ", "}


@dataclass(frozen=True)
class Table:
    """Header row and data rows; values are str, int, float, date or None."""

    headers: list[str]
    rows: list[list[Any]]


def select_listings(
    session: Session, options: ExportOptions, category: str = "psychiatric"
) -> list[Listing]:
    """Return the facilities of a category the export's audience may see, ordered by id."""
    query = select(Facility.id).where(Facility.category == category)
    ids = list(session.exec(query.order_by(col(Facility.id))))
    listings: dict[int, Listing] = {}
    for start in range(0, len(ids), BATCH):
        listings.update(load_listings(session, ids[start : start + BATCH]))
    ordered = [listings[i] for i in ids]
    return [x for x in ordered if x.visible_to(options.professional)]


def build_table(
    listings: list[Listing], questionnaire: Questionnaire, options: ExportOptions
) -> Table:
    """Render the listings as rows of the chosen columns in the chosen language."""
    keys = options.column_keys(questionnaire)
    headers = _headers(questionnaire, options.lang)
    rows = [_row(x, questionnaire, options, keys) for x in listings]
    return Table([headers[k] for k in keys], rows)


def _headers(questionnaire: Questionnaire, lang: str) -> dict[str, str]:
    """Return the header of every possible column; repeated item labels name their section."""
    headers = {key: bilingual(lang, ja, en) for key, ja, en in MASTER_COLUMNS}
    counts = Counter(item.label(lang) for item in questionnaire.items)
    sections = {s.key: s.title(lang) for s in questionnaire.sections}
    for item in questionnaire.items:
        label = item.label(lang)
        if counts[label] > 1:
            section = sections[item.section]
            label = bilingual(lang, f"{label}（{section}）", f"{label} ({section})")
        headers[item.key] = label
    return headers


def _row(listing: Listing, questionnaire: Questionnaire, options: ExportOptions, keys) -> list:
    """Return one facility's values in column order."""
    answers = listing.answers_for(questionnaire, options.professional)
    master = _master(listing, options.lang)
    items = {item.key: item for item in questionnaire.items}
    return [
        master[k] if k in master else render(items[k], answers.get(k), options.lang) for k in keys
    ]


def _master(listing: Listing, lang: str) -> dict[str, Any]:
    """Return the master fields of a facility, with its kind in the chosen language."""
    facility = listing.facility
    values = facility.model_dump(include={k for k, _ja, _en in MASTER_COLUMNS})
    ja, en = KIND_LABELS.get(facility.kind, (facility.kind, facility.kind))
    values["kind"] = bilingual(lang, ja, en)
    values["verified_on"] = listing.verified_on
    return values


def render(item: Item, value: Any, lang: str) -> Any:
    """Render one answer: choices as labels, several joined, integers as numbers."""
    if value is None or value == []:
        return None
    if item.type == "choice":
        return item.choice_label(value, lang)
    if item.type == "multi":
        return JOINERS[lang].join(item.choice_label(v, lang) for v in value)
    if item.type == "facility_links":  # names as answered, with the directory's number
        return JOINERS[lang].join(
            f"{link['name']} (ID {link['id']})" for link in stored_links(value)
        )
    return value
