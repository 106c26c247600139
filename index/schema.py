"""The Whoosh schema, built from the questionnaire: each filter item becomes a field."""

from __future__ import annotations

from datetime import date
from typing import Any

from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, Schema
from whoosh.query import And, NumericRange, Or, Query, Term

from index.documents import FacilityDoc
from index.filters import Filter, Situation, acceptance_strength, accepted_situations
from index.text import normalize, text_schema_fields
from surveys.questionnaire import Item, Questionnaire

# Sortable numbers need a column default in whoosh-reloaded. Coordinates are stored unsigned as
# micro-degrees shifted by +90/+180 so that 0 can mean "unknown". Fields queried by range must
# be signed: whoosh-reloaded 2.7.5 ignores the bounds of a NumericRange on unsigned fields.
NO_COORD = 0
NO_WAIT = 999_999
EPOCH = date(2000, 1, 1)
# Text groups by audience: professionals also search professional-only free text.
PUBLIC_TEXT = ("name", "kana", "address", "body")
PROFESSIONAL_TEXT = (*PUBLIC_TEXT, "body_pro")
# The integer item the "wait" sort orders by.
WAIT_ITEM = "wait_days"


def build_schema(questionnaire: Questionnaire) -> Schema:
    """Return the schema for this questionnaire edition."""
    fields: dict[str, Any] = {
        "id": ID(stored=True, unique=True),
        "stamp": STORED(),
        # Sortable columns: the searcher reads them as arrays without touching stored fields.
        "fid": NUMERIC(int, bits=32, signed=False, sortable=True, default=0),
        "sort_name": ID(sortable=True),
        "visibility": ID(),
        "kind": ID(),
        "municipality": ID(),
        "answered": ID(),
        "lat_e6": NUMERIC(int, bits=32, signed=False, sortable=True, default=NO_COORD),
        "lng_e6": NUMERIC(int, bits=32, signed=False, sortable=True, default=NO_COORD),
        "verified_day": NUMERIC(int, bits=32, signed=True, sortable=True, default=NO_WAIT),
        # The mother's situation: which situations a facility accepts, how strongly, and the
        # open "could not get an appointment" reports (index/ranking.py reads the columns).
        "accepts": KEYWORD(commas=True, lowercase=False, scorable=False),
        # Strength + 1 (columns are unsigned): 0 unanswered, 1 no/unknown, 2 conditional, 3 yes.
        "acc_pregnant": NUMERIC(int, bits=8, signed=False, sortable=True, default=0),
        "acc_postpartum": NUMERIC(int, bits=8, signed=False, sortable=True, default=0),
        "open_reports": NUMERIC(int, bits=32, signed=False, sortable=True, default=0),
        # Freshness signals for the default order (index/capacity.py): the newest pulse answer
        # and its day, and answered referral outcomes the facility had a hand in.
        "capacity": ID(stored=True, sortable=True),
        "capacity_day": NUMERIC(int, bits=32, signed=True, sortable=True, default=NO_WAIT),
        "outcomes_seen": NUMERIC(int, bits=32, signed=True, sortable=True, default=0),
        "outcomes_no_appointment": NUMERIC(int, bits=32, signed=True, sortable=True, default=0),
        "outcomes_refused": NUMERIC(int, bits=32, signed=True, sortable=True, default=0),
        # Obstetric units the facility works with (ids; the partner_of ranking term).
        "partners": KEYWORD(commas=True, lowercase=False, scorable=False),
        **text_schema_fields(PROFESSIONAL_TEXT),
    }
    for item in questionnaire.items:
        if item.filter:
            fields[field_name(item)] = _filter_field(item)
    return Schema(**fields)


def field_name(item: Item) -> str:
    """Return the index field of a filter item."""
    return field_name_of(item.key)


def field_name_of(key: str) -> str:
    """Return the index field of the filter item with this key."""
    return f"f_{key}"


def _filter_field(item: Item):
    """Return the field type of one filter item."""
    if item.type == "integer":
        return NUMERIC(int, bits=32, signed=True, sortable=True, default=NO_WAIT)
    if item.type == "multi":
        return KEYWORD(commas=True, lowercase=False, scorable=False)
    return ID()


def doc_fields(doc: FacilityDoc, questionnaire: Questionnaire) -> dict[str, Any]:
    """Return the Whoosh fields of one document."""
    fields: dict[str, Any] = {
        "id": str(doc.id),
        "fid": doc.id,
        "stamp": doc.stamp,
        "sort_name": normalize(doc.kana or doc.name),
        "visibility": doc.visibility,
        "kind": doc.kind,
        "municipality": doc.municipality_code or "none",
        "answered": "yes" if doc.answers else "no",
        "lat_e6": _e6(doc.lat, 90),
        "lng_e6": _e6(doc.lng, 180),
        "verified_day": (doc.verified_on - EPOCH).days if doc.verified_on else NO_WAIT,
        "capacity": doc.capacity,
        "capacity_day": (doc.capacity_on - EPOCH).days if doc.capacity_on else NO_WAIT,
        "outcomes_seen": doc.outcomes.seen,
        "outcomes_no_appointment": doc.outcomes.no_appointment,
        "outcomes_refused": doc.outcomes.refused,
        "name": doc.name,
        "kana": doc.kana,
        "address": doc.address,
        "body": doc.body_public,
        "body_pro": doc.body_pro,
        "accepts": ",".join(accepted_situations(doc.answers)) or None,
        "acc_pregnant": acceptance_strength(doc.answers, "pregnant") + 1,
        "acc_postpartum": acceptance_strength(doc.answers, "postpartum") + 1,
        "open_reports": doc.open_reports,
        "partners": ",".join(str(i) for i in doc.partners) or None,
    }
    for item in questionnaire.items:
        if item.filter:
            fields[field_name(item)] = _filter_value(item, doc.answers.get(item.key))
    return {k: v for k, v in fields.items() if v is not None}


def _e6(value: float | None, shift: int) -> int:
    """Store a coordinate as shifted integer micro-degrees (0: unknown)."""
    return NO_COORD if value is None else round((value + shift) * 1_000_000)


def _filter_value(item: Item, value: Any) -> Any:
    """Return the indexed value of one answer (None: not indexed)."""
    if item.type == "integer":
        return NO_WAIT if value is None else int(value)
    if item.type == "multi":
        return ",".join(value) if value else None
    return value or None


def filter_query(spec: Filter) -> Query:
    """Return the query for one filter."""
    name = field_name(spec.item)
    if spec.max_value is not None:
        return NumericRange(name, None, spec.max_value)
    terms = [Term(name, v) for v in spec.values]
    return And(terms) if spec.item.type == "multi" else Or(terms)


def situation_query(situation: Situation, filters: tuple[Filter, ...]) -> Query:
    """Return the query for facilities that accept this situation (with its answer filters)."""
    terms = [Term("accepts", token) for token in situation.tokens]
    accepts = And(terms) if situation.needs_all else Or(terms)
    return And([accepts, *(filter_query(f) for f in filters)]) if filters else accepts
