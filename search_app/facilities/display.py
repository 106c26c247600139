"""How a listing is shown: answers grouped by section, safe links, what a mother should bring."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from flask import url_for
from sqlmodel import Session

from index.capacity import capacity_state
from index.geo.distance import haversine_km
from index.geo.stations import nearest_stations
from search_app import db
from search_app.auth import is_professional
from search_app.i18n import current_lang
from surveys import network, pulse
from surveys.listings import Listing, facilities_naming, load_listings
from surveys.models import PulseAnswer, QuestionnaireVersion
from surveys.operations import today_in_japan
from surveys.questionnaire import Item, Questionnaire, Section, load_version, stored_edition

MAP_SEARCH_URL = "https://www.google.com/maps/search/?api=1&query="
# Listing metadata the public need not read (they only ever see public listings).
HIDDEN_FOR_PUBLIC = {"visibility"}


@dataclass(frozen=True)
class AnswerRow:
    """One answered (or unanswered) question as a referrer reads it."""

    item: Item
    value: Any
    professional_only: bool


def questionnaire_for(session: Session, listing: Listing, default_version: str) -> Questionnaire:
    """Return the edition the listing's answers were given in (the stored copy if not bundled)."""
    if listing.response is None:
        return load_version(default_version)
    row = session.get(QuestionnaireVersion, listing.response.questionnaire_id)
    return stored_edition(row.version, row.definition)


def answer_sections(
    questionnaire: Questionnaire, listing: Listing, professional: bool
) -> list[tuple[Section, list[AnswerRow]]]:
    """Group the answers an audience may see by section; skip questions that were not asked."""
    everything = listing.answers_for(questionnaire, True)
    visible = listing.answers_for(questionnaire, professional)
    grouped = []
    for section in questionnaire.sections:
        rows = [
            AnswerRow(item, visible.get(item.key), item.professional_only)
            for item in section.items
            if _shown(questionnaire, item, everything, professional)
        ]
        if rows:
            grouped.append((section, rows))
    return grouped


def _shown(questionnaire: Questionnaire, item: Item, answers: dict, professional: bool) -> bool:
    """Tell whether a question is shown to this audience, given the answers."""
    if not professional and (item.professional_only or item.key in HIDDEN_FOR_PUBLIC):
        return False
    return questionnaire.is_shown(item, answers)


def tel_href(phone: str) -> str:
    """Return a tel: URL for a phone number as typed (digits and a leading + only)."""
    digits = re.sub(r"[^\d+]", "", phone or "")
    return f"tel:{digits}" if digits.strip("+") else ""


def website_href(url: str) -> str:
    """Return the website address when it is an http(s) URL, else '' (no javascript: links)."""
    parts = urlsplit((url or "").strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else ""


def map_href(address: str) -> str:
    """Return a map search URL for an address (opens the map app on phones)."""
    return MAP_SEARCH_URL + quote(address) if address else ""


def referral_need(answers: dict[str, Any]) -> str | None:
    """Return 'required' or 'preferred' when a referral letter should be brought, else None."""
    need = answers.get("referral_letter")
    return need if need in ("required", "preferred") else None


@dataclass(frozen=True)
class SheetRow:
    """One facility on the mother's sheet (print view and share link): public fields only."""

    listing: Listing
    answers: dict[str, Any]
    referral: str | None
    note: str = ""  # the nurse's note, only when she chose to print it


def sheet_rows(questionnaire: Questionnaire, listings: list[Listing], notes=None) -> list[SheetRow]:
    """Build the sheet rows; `notes` maps facility id to a note chosen for printing."""
    rows = []
    for listing in listings:
        answers = listing.answers_for(questionnaire, False)
        note = (notes or {}).get(listing.facility.id, "")
        rows.append(SheetRow(listing, answers, referral_need(answers), note))
    return rows


def capacity_label(code: str) -> str:
    """Return the label of a capacity pulse answer in the page's language."""
    return pulse.capacity_label(code, current_lang())


def capacity_fresh(answer: PulseAnswer | None, today: date | None = None) -> bool:
    """Tell whether a pulse answer still counts (45 days; older ones count as unknown)."""
    if answer is None:
        return False
    state = capacity_state(answer.capacity, answer.answered_on, today or today_in_japan())
    return state != "unknown"


def month_day(value: date | None) -> str:
    """Format a date as 12月3日 (Japanese) or 3 December (English)."""
    if value is None:
        return ""
    return f"{value.day} {value:%B}" if current_lang() == "en" else f"{value.month}月{value.day}日"


def japan_date(moment: datetime | None) -> date | None:
    """Return the Japanese calendar date of a UTC moment (for showing timestamps as dates)."""
    return today_in_japan(moment) if moment is not None else None


def getting_there(facility, origin) -> dict[str, Any]:
    """Return what the page needs to answer "how do I get there": map marker, nearest
    stations, and the distance from the place searched (when a search led here)."""
    if facility.lat is None or facility.lng is None:
        return {"map_markers": [], "stations": [], "from_place": None, "map_origin": None}
    url = url_for("facilities.detail", facility_id=facility.id)
    marker = {"lat": facility.lat, "lng": facility.lng, "name": facility.name, "url": url, "n": 1}
    from_place = None
    if origin is not None:
        km = haversine_km(origin.lat, origin.lng, facility.lat, facility.lng)
        from_place = {"label": origin.label, "km": round(km, 1)}
    return {
        "map_markers": [marker],
        "stations": nearest_stations(facility.lat, facility.lng),
        "from_place": from_place,
        "map_origin": [origin.lat, origin.lng] if origin is not None else None,
    }


LIST_SEPARATORS = {"ja": "、", "en": ", "}


def join_list(values, lang: str | None = None) -> str:
    """Join a list with the language's own separator: 江東区、墨田区 / Koto, Sumida."""
    from search_app.i18n import current_lang

    return LIST_SEPARATORS.get(lang or current_lang(), "、").join(str(v) for v in values)


def facility_name(facility, lang: str | None = None) -> str:
    """Return the facility's name for the page's language: its romaji name in English when
    the master data has one (医療情報ネット's 英語表記), else the Japanese name."""
    from search_app.i18n import current_lang

    romaji = getattr(facility, "name_en", "") or ""
    return romaji if romaji and (lang or current_lang()) == "en" else facility.name


def page_visible(listing: Listing, professional: bool) -> bool:
    """Tell whether this audience may open the facility's page (as facilities.visible_listing:
    obstetric units and contact points show their master data to all)."""
    return not listing.is_searched or listing.visible_to(professional)


@dataclass(frozen=True)
class LinkShown:
    """One facility an answer names, as this page shows it."""

    name: str
    listed: bool  # False: no longer offered (its stored name, marked)
    url: str = ""  # its page, when this audience may open it
    exists: bool = True  # False: removed from the directory (「掲載終了」)


def linked_facilities(item: Item, value: Any) -> list[LinkShown]:
    """Return the facilities a `facility_links` answer names, as this audience may see them."""
    # Removed ones keep their name; the public never sees one listed for professionals only.
    links = network.resolve_links(db.session(), value, item.category)
    listings = load_listings(db.session(), [link.id for link in links])
    professional = is_professional()
    shown = []
    for link in links:
        listing = listings.get(link.id)
        if listing is not None and not page_visible(listing, professional):
            continue
        if not link.listed or listing is None:
            shown.append(LinkShown(link.name, False, exists=listing is not None))
            continue
        url = url_for("facilities.detail", facility_id=link.id)
        shown.append(LinkShown(facility_name(link.facility), True, url))
    return shown


def naming_listings(facility, professional: bool) -> list[Listing] | None:
    """Return the listings that name an obstetric unit as partner (current answers, as this
    audience may see them); None when the facility is no obstetric unit."""
    if not network.is_obstetric(facility):
        return None
    ids = facilities_naming(db.session(), facility.id)
    listings = load_listings(db.session(), ids)
    shown = [listings[i] for i in ids if i in listings and page_visible(listings[i], professional)]
    return sorted(shown, key=lambda lst: (lst.facility.kana or lst.facility.name, lst.facility.id))


def partner_search_url(facility) -> str:
    """Return a search near an obstetric unit that prefers its partners (in its municipality)."""
    if facility.lat is not None and facility.lng is not None:
        place = {"lat": f"{facility.lat:.6f}", "lng": f"{facility.lng:.6f}"}
        if facility.municipality_code:
            place["place_municipality"] = facility.municipality_code
    else:
        place = {"near": facility.address}
    return url_for("main.home", _anchor="results", partner_of=facility.id, **place)
