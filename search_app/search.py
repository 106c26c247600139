"""The app's search index and searcher, and keeping the index in step after a commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, current_app
from sqlmodel import Session

from index.errors import IndexUnavailable
from index.locators import Locator, locator_from_config
from index.searcher import Hit, Searcher, SearchResult
from index.store import SearchIndex
from index.sync import sync_outbox
from search_app import db
from search_app.api.params import Origin, parse_search
from surveys.listings import Listing, load_listings
from surveys.questionnaire import Questionnaire, load_version


def init_app(app: Flask) -> None:
    """Create the index handle and the searcher for this app."""
    path = Path(app.config.get("INDEX_PATH") or Path(app.instance_path) / "index")
    search_index = SearchIndex(path, load_version(app.config["QUESTIONNAIRE_VERSION"]))
    app.extensions["pmh_index"] = search_index
    app.extensions["pmh_searcher"] = Searcher(search_index)
    app.extensions["pmh_locator"] = locator_from_config(
        app.config["GEOCODER"], app.config["GEOCODER_OPTIONS"], app.config["PREFERRED_PREFECTURE"]
    )


def search_index() -> SearchIndex:
    """Return the app's index."""
    return current_app.extensions["pmh_index"]


def searcher() -> Searcher:
    """Return the app's searcher."""
    return current_app.extensions["pmh_searcher"]


def locator() -> Locator:
    """Return the app's geocoder."""
    return current_app.extensions["pmh_locator"]


@dataclass(frozen=True)
class Found:
    """One page of a search: the result, the origin understood, and the visible listings."""

    result: SearchResult
    origin: Origin | None
    rows: list[tuple[Hit, Listing]]


def find(params: Mapping[str, str], questionnaire: Questionnaire, professional: bool) -> Found:
    """Validate parameters, search, and load the listings this audience may see."""
    search_request, origin = parse_search(params, questionnaire, professional, locator())
    result = searcher().search(search_request)
    listings = load_listings(db.session(), [hit.facility_id for hit in result.hits])
    rows = [
        (hit, listings[hit.facility_id])
        for hit in result.hits
        if hit.facility_id in listings and listings[hit.facility_id].visible_to(professional)
    ]
    return Found(result, origin, rows)


def sync_after_commit(session: Session) -> None:
    """Apply pending outbox rows now, so this process's own change is searchable at once.

    A failure is logged, not raised: the change is committed and `pmh index sync` (or the next
    request) applies it.
    """
    if not current_app.config["INDEX_SYNC_IN_REQUEST"]:
        return
    try:
        sync_outbox(session, search_index())
    except IndexUnavailable:
        current_app.logger.warning("search index unavailable; outbox left for the next sync")
    except Exception:
        session.rollback()
        current_app.logger.exception("index sync failed; outbox left for the next sync")
