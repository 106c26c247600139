"""The app's search index and searcher, and keeping the index in step after a commit."""

from __future__ import annotations

import fcntl
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flask import Flask, current_app
from sqlmodel import Session

from index import text
from index.errors import IndexDomainError, IndexUnavailable
from index.geo.areas import municipality_at
from index.geo.errors import GeocodeError
from index.geo.gazetteer import municipalities, municipality_by_code
from index.geo.locators import Locator, locator_from_config
from index.params import Origin, parse_origin, parse_search
from index.searcher import Hit, Searcher, SearchResult
from index.store import IndexBusy, SearchIndex, quiet_leaks
from index.sync import rebuild, sync_outbox
from search_app import db
from surveys import network
from surveys.bilingual import bilingual
from surveys.listings import Listing, load_listings
from surveys.models import Facility
from surveys.questionnaire import Questionnaire, load_version


def init_app(app: Flask) -> None:
    """Create the index handle and the searcher for this app."""
    path = Path(app.config["INDEX_PATH"] or Path(app.instance_path) / "index")
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
    outside_area: str = ""  # the place's prefecture when the directory does not cover it
    partner: Facility | None = None  # the referring obstetric unit (partner_of)
    unknown_partner: bool = False  # partner_of named no obstetric unit: no preference applied
    contacts: LocalContacts | None = None  # the contact points of the place's municipality


@dataclass(frozen=True)
class LocalContacts:
    """「お住まいの地域の相談窓口」: the municipal contact points of the place searched."""

    municipality_code: str
    municipality: str
    points: list[Facility]


def find(params: Mapping[str, str], questionnaire: Questionnaire, professional: bool) -> Found:
    """Validate parameters, search, and load the listings this audience may see."""
    search_request, origin = parse_search(params, questionnaire, professional, locator())
    partner = _partner(search_request.partner_of)
    unknown_partner = search_request.partner_of is not None and partner is None
    if unknown_partner:
        search_request = replace(search_request, partner_of=None)
    result = _search(search_request)
    listings = load_listings(db.session(), [hit.facility_id for hit in result.hits])
    rows = [
        (hit, listings[hit.facility_id])
        for hit in result.hits
        if hit.facility_id in listings and listings[hit.facility_id].visible_to(professional)
    ]
    contacts = local_contacts(origin)
    return Found(
        result,
        origin,
        rows,
        _outside_area(origin),
        partner=partner,
        unknown_partner=unknown_partner,
        contacts=contacts,
    )


def _partner(facility_id: int | None) -> Facility | None:
    """Return the obstetric unit `partner_of` names (None: none asked, or no such unit)."""
    if facility_id is None:
        return None
    facility = db.session().get(Facility, facility_id)
    return facility if facility is not None and network.is_obstetric(facility) else None


# The API's `notice` code when partner_of names no obstetric unit.
UNKNOWN_PARTNER = "unknown_partner"


def unknown_partner_message(lang: str) -> str:
    """Say that the obstetric unit to prefer partners of is not in the directory (ja / en)."""
    return bilingual(
        lang,
        "指定された産科医療機関（partner_of）は掲載されていないため、連携による優先なしで"
        "表示しています。",
        "The obstetric unit given as partner_of is not in the directory, so no partners are "
        "preferred.",
    )


def local_contacts(origin: Origin | None) -> LocalContacts | None:
    """Return the contact points of the searched place's municipality (None: none known).

    The place and its municipality are never logged.
    """
    if origin is None or not origin.municipality_code:
        return None
    points = network.contact_points(db.session(), origin.municipality_code)
    if not points:
        return None
    found = municipality_by_code(origin.municipality_code)
    return LocalContacts(origin.municipality_code, found.name if found else "", points)


def _outside_area(origin: Origin | None) -> str:
    """Return the origin's prefecture when it is not the one the directory covers."""
    covered = current_app.config["PREFERRED_PREFECTURE"]
    if origin is None or not origin.prefecture or origin.prefecture == covered:
        return ""
    return origin.prefecture


def back_to_results(target: str | None) -> str | None:
    """Return a results URL on this site to link back to (None when it is anything else)."""
    target = (target or "").strip()
    if not target.startswith("/?") or "\\" in target or len(target) > MAX_BACK_URL:
        return None
    return target


MAX_BACK_URL = 2000


def searched_place(back: str | None) -> Origin | None:
    """Return the place a results URL searched from (None: none given or not understood)."""
    if not back:
        return None
    params = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
    try:
        return parse_origin(params, locator())
    except (IndexDomainError, GeocodeError, ValueError):
        return None


def covered_name(lang: str) -> str:
    """Return the name of the prefecture the directory covers, in the page's language."""
    covered = current_app.config["PREFERRED_PREFECTURE"]
    return bilingual(lang, covered, ENGLISH_NAMES.get(covered, covered))


# English names of prefectures the directory may cover (others stay in Japanese).
ENGLISH_NAMES = {"東京都": "Tokyo"}


def outside_area_message(prefecture: str, lang: str) -> str:
    """Say that a place lies outside the directory's prefecture (ja / en)."""
    covered = covered_name(lang)
    if lang == "en":
        place = ENGLISH_NAMES.get(prefecture, prefecture)
        return (
            f"The place you entered is in {place}. "
            f"This directory lists facilities in {covered} only."
        )
    return f"入力された場所は{prefecture}です。このナビは{covered}内の医療機関を掲載しています。"


class _Damaged(Exception):
    """The index could not be read and a probe found it damaged; `rebuilding` if one started."""

    def __init__(self, rebuilding: bool):
        self.rebuilding = rebuilding


def _read(read):
    """Run a read of the index; a damaged index starts a rebuild and raises _Damaged."""
    try:
        return read()
    except IndexBusy:
        raise
    except Exception as exc:
        _forget(exc)
    if search_index().probe():
        return read()  # no damage: a real error shows itself again
    raise _Damaged(_recover())


def _search(search_request) -> SearchResult:
    """Search; a missing or damaged index becomes IndexUnavailable and starts a rebuild."""
    try:
        return _read(lambda: searcher().search(search_request))
    except _Damaged:
        raise IndexUnavailable() from None


def index_state() -> dict:
    """Describe the index for /healthz: ok with its document count, else unavailable."""
    try:
        return {"state": "ok", "documents": _read(lambda: searcher().count())}
    except _Damaged as damaged:
        return {"state": "rebuilding" if damaged.rebuilding else "unavailable", "documents": 0}


def _forget(exc: BaseException | None) -> None:
    """Release what a failed read held (Whoosh leaks the handle of a damaged file)."""
    with quiet_leaks():
        while exc is not None:
            traceback.clear_frames(exc.__traceback__)
            exc = exc.__cause__ or exc.__context__


def _recover() -> bool:
    """Drop the broken searcher and start a background rebuild; tell whether one started."""
    with quiet_leaks():
        searcher().close()
        search_index().reset()
    return rebuild_in_background(current_app._get_current_object()) is not None


def rebuild_in_background(app: Flask) -> threading.Thread | None:
    """Start rebuilding the index in a thread unless one runs already (in any process).

    Only with INDEX_AUTO_REBUILD on (the default, except under TESTING). A lock file beside the
    index keeps gunicorn workers from rebuilding at the same time.
    """
    if not app.config["INDEX_AUTO_REBUILD"]:
        return None
    lock_path = Path(app.extensions["pmh_index"].path).with_name("index.rebuild.lock")
    lock_file = lock_path.open("a")
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.close()
        return None
    thread = threading.Thread(target=_rebuild, args=(app, lock_file), daemon=True)
    app.extensions["pmh_rebuild_thread"] = thread
    thread.start()
    return thread


def _rebuild(app: Flask, lock_file) -> None:
    """Rebuild the index from the database, then release the lock file."""
    try:
        with app.app_context(), Session(app.extensions["pmh_engine"]) as session:
            count = rebuild(session, app.extensions["pmh_index"])
            app.logger.warning("search index rebuilt automatically: %d facilities", count)
    except Exception:
        app.logger.exception("automatic index rebuild failed")
    finally:
        fcntl.flock(lock_file, fcntl.LOCK_UN)
        lock_file.close()


def sync_after_commit(session: Session) -> None:
    """Apply pending outbox rows now, so this process's own change is searchable at once.

    A failure is logged, not raised: the change is committed and `pmh index sync` (or the next
    request) applies it. Another process holding the index write lock for more than
    INDEX_SYNC_LOCK_TIMEOUT seconds leaves the change in the outbox the same way.
    """
    if not current_app.config["INDEX_SYNC_IN_REQUEST"]:
        return
    timeout = current_app.config["INDEX_SYNC_LOCK_TIMEOUT"]
    try:
        sync_outbox(session, search_index(), lock_timeout=timeout)
    except IndexUnavailable:
        session.rollback()
        current_app.logger.warning("search index busy or unavailable; outbox left for next sync")
    except Exception:
        session.rollback()
        current_app.logger.exception("index sync failed; outbox left for the next sync")


# One of each kind of place the offline geocoder reads from its own data file.
WARM_UP_PLACES = ("錦糸町駅", "136-0071", "東京都江東区亀戸八丁目")


def warm_up(app: Flask) -> None:
    """Load the word dictionary, the gazetteer and the index before the first search needs them.

    The first search of a fresh process otherwise pays 1.5-3.5 s for this (see README, Load
    test); gunicorn.conf.py calls it in each worker before it takes requests. Last, one sample
    results page is served in-process: it compiles the page's templates, caches its database
    statements and loads the town points that name the place's municipality (about 0.1 s more
    on the first user's search otherwise).
    """
    with app.app_context():
        try:
            text.dictionary()
            if not app.config["GEOCODER"]:  # never send sample places to an online service
                for place in WARM_UP_PLACES:
                    locator().geocode(place)
            searcher().warm()
            _load_town_points(app.config["PREFECTURE_CODE"])
            _serve_sample_page(app)
        except Exception as exc:  # a cold start is slow, not broken: the page reports problems
            _forget(None)
            app.logger.warning("warm-up incomplete (%r); the first search will load the rest", exc)


def _load_town_points(prefecture_code: str) -> None:
    """Load the town points that name the municipality of any place in the prefecture."""
    for place in municipalities(prefecture_code):
        if place.lat is not None:
            municipality_at(place.lat, place.lng)


def _serve_sample_page(app: Flask) -> None:
    """Serve the results page of an anonymous search at the prefecture's first municipality."""
    code = app.config["PREFECTURE_CODE"]
    point = next((m for m in municipalities(code) if m.lat is not None), None)
    if point is None:
        return
    query = {"lat": f"{point.lat:.6f}", "lng": f"{point.lng:.6f}", "situation": "pregnant"}
    with app.test_client() as client:
        status = client.get("/", base_url=app.config["BASE_URL"], query_string=query).status_code
    if status != 200:
        raise RuntimeError(f"sample search page answered {status}")
