"""Open Referral HSDS 3.0-style JSON: organizations, locations, services and phones by id."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from surveys.bilingual import bilingual
from surveys.exports.options import ExportOptions
from surveys.exports.table import KIND_LABELS
from surveys.listings import Listing
from surveys.questionnaire import Item, Questionnaire

HSDS_VERSION = "3.0"
# Fixed once: ids derive from it and the facility's source id, so they are stable across exports.
ID_NAMESPACE = uuid.UUID("6be145a0-1625-46ef-bcce-ca3005e6e887")
EXTENSION = "x_perinatal"
SERVICE_NAMES = {"ja": "妊産婦のメンタルヘルス診療", "en": "Perinatal mental health care"}
ACCEPTANCE_KEYS = ("pregnant", "postpartum")
ACCEPTING = ("yes", "conditional")
TABLES = ("organizations", "locations", "services", "service_at_locations", "phones")
PREFECTURE_RE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}?県)")
# Municipality codes: 131xx Tokyo's wards, xx1xx wards of designated cities, xx2xx cities,
# the rest towns and villages (after their district, 郡, if the address names it).
WARD_RE = re.compile(r"^(.+?区)")
CITY_WARD_RE = re.compile(r"^(.+?市.+?区)")
CITY_RE = re.compile(r"^(.+?市)")
TOWN_RE = re.compile(r"^((?:.+?郡)?.+?[町村])")


def build_hsds(
    listings: list[Listing],
    questionnaire: Questionnaire,
    options: ExportOptions,
    versions: dict[int, str],
    now: datetime,
) -> dict[str, Any]:
    """Return the document: one table per HSDS object, plus our export description."""
    document: dict[str, Any] = {table: [] for table in TABLES}
    for listing in listings:
        for table, rows in _facility_rows(listing, questionnaire, options, versions).items():
            document[table].extend(rows)
    document[f"{EXTENSION}_export"] = _describe(questionnaire, options, now, len(listings))
    return document


def _facility_rows(listing, questionnaire, options, versions) -> dict[str, list[dict]]:
    """Return the HSDS objects of one facility; a service only once it has answered."""
    facility, lang = listing.facility, options.lang
    ids = {kind: _id(kind, facility.source_id) for kind in ("org", "loc", "svc", "sal", "tel")}
    rows = {
        "organizations": [_organization(facility, ids, lang)],
        "locations": [_location(facility, ids)],
        "phones": [_phone(facility, ids)] if facility.phone else [],
    }
    if listing.response is not None:
        rows["services"] = [_service(listing, questionnaire, options, ids, versions)]
        rows["service_at_locations"] = [
            {"id": ids["sal"], "service_id": ids["svc"], "location_id": ids["loc"]}
        ]
    return rows


def _id(kind: str, source_id: str) -> str:
    """Return the stable UUID of one object of a facility."""
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind}:{source_id}"))


def _organization(facility, ids: dict[str, str], lang: str) -> dict[str, Any]:
    """Return the facility as an HSDS organization."""
    ja, en = KIND_LABELS.get(facility.kind, (facility.kind, facility.kind))
    organization = {
        "id": ids["org"],
        "name": facility.name,
        "alternate_name": facility.kana,
        "description": bilingual(lang, ja, en),
        "organization_identifiers": [
            {
                "id": _id("org-identifier", facility.source_id),
                "organization_id": ids["org"],
                "identifier_type": "source_id",
                "identifier": facility.source_id,
            }
        ],
    }
    return organization | _website(facility, "website")


def _website(facility, key: str) -> dict[str, str]:
    """Return {key: url} when the facility has a web address."""
    url = facility.website.strip()
    return {key: url} if url.startswith(("http://", "https://")) else {}


def _location(facility, ids: dict[str, str]) -> dict[str, Any]:
    """Return the facility's premises as an HSDS physical location."""
    location: dict[str, Any] = {
        "id": ids["loc"],
        "location_type": "physical",
        "organization_id": ids["org"],
        "name": facility.name,
    }
    if facility.lat is not None and facility.lng is not None:
        location |= {"latitude": facility.lat, "longitude": facility.lng}
    location["addresses"] = [_address(facility, ids)] if facility.address else []
    return location


def _address(facility, ids: dict[str, str]) -> dict[str, Any]:
    """Return the facility's address split into prefecture, municipality and the rest."""
    state, city, rest = split_address(facility.address, facility.municipality_code)
    return {
        "id": _id("address", facility.source_id),
        "location_id": ids["loc"],
        "address_1": rest,
        "city": city,
        "state_province": state,
        "postal_code": facility.postal_code,
        "country": "JP",
        "address_type": "physical",
    }


def split_address(address: str, municipality_code: str) -> tuple[str, str, str]:
    """Split a Japanese address into (prefecture, municipality, rest); unknown parts are ''."""
    rest = address.strip()
    prefecture = PREFECTURE_RE.match(rest)
    state = prefecture.group(1) if prefecture else ""
    rest = rest[len(state) :]
    city = _municipality_re(municipality_code).match(rest)
    if city is None:
        return state, "", rest
    return state, city.group(1), rest[city.end() :]


def _municipality_re(code: str) -> re.Pattern:
    """Return the pattern of the municipality name that the code says starts the address."""
    if code.startswith("131"):
        return WARD_RE
    return {"1": CITY_WARD_RE, "2": CITY_RE}.get(code[2:3], TOWN_RE)


def _phone(facility, ids: dict[str, str]) -> dict[str, Any]:
    """Return the facility's main telephone number."""
    return {
        "id": ids["tel"],
        "organization_id": ids["org"],
        "location_id": ids["loc"],
        "number": facility.phone,
        "type": "voice",
    }


def _service(listing, questionnaire, options, ids, versions) -> dict[str, Any]:
    """Return perinatal care at this facility, with the survey answers as our extension."""
    answers = listing.answers_for(questionnaire, options.professional)
    response = listing.response
    service = {
        "id": ids["svc"],
        "organization_id": ids["org"],
        "name": SERVICE_NAMES[options.lang],
        "description": _description(questionnaire, answers, options.lang),
        "status": _status(answers),
        "assured_date": response.verified_on.isoformat(),
        EXTENSION: {
            "questionnaire_version": versions.get(response.questionnaire_id, ""),
            "verified_on": response.verified_on.isoformat(),
            "answers": answers,
        },
    }
    return service | _website(listing.facility, "url")


def _status(answers: dict[str, Any]) -> str:
    """Active when the facility sees pregnant or postpartum patients (or under conditions)."""
    return "active" if any(answers.get(k) in ACCEPTING for k in ACCEPTANCE_KEYS) else "inactive"


def _description(questionnaire: Questionnaire, answers: dict[str, Any], lang: str) -> str:
    """Summarise whom the facility sees, then its note for the public."""
    items = {item.key: item for item in questionnaire.items}
    sections = {s.key: s.title(lang) for s in questionnaire.sections}
    parts = [
        f"{sections[items[k].section]}: {items[k].choice_label(answers[k], lang)}"
        for k in ACCEPTANCE_KEYS
        if k in items and answers.get(k)
    ]
    summary = bilingual(lang, "／", "; ").join(parts)
    note = str(answers.get("note_public") or "").strip()
    return "\n".join(part for part in (summary, note) if part)


def _describe(questionnaire, options: ExportOptions, now: datetime, count: int) -> dict:
    """Describe the export and the questionnaire whose codes the answers use."""
    items = [i for i in questionnaire.items if options.professional or not i.professional_only]
    return {
        "hsds_version": HSDS_VERSION,
        "generated_at": now.isoformat(),
        "audience": options.audience,
        "lang": options.lang,
        "count": count,
        "questionnaire": {
            "version": questionnaire.version,
            "title": questionnaire.title(options.lang),
            "items": [_describe_item(item, options.lang) for item in items],
        },
    }


def _describe_item(item: Item, lang: str) -> dict[str, Any]:
    """Describe one item: key, type, label and the labels of its codes."""
    described = {
        "key": item.key,
        "type": item.type,
        "label": item.label(lang),
        "professional_only": item.professional_only,
    }
    if item.category:  # facility_links: the kind of facility chosen, stored as {id, name}
        described["category"] = item.category
    if item.choices:
        described["choices"] = [{"value": c.value, "label": c.label(lang)} for c in item.choices]
    return described
