"""The Searcher adapter: text and filters through Whoosh, distance and order in numpy."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
from whoosh.query import And, Every, Query, Term
from whoosh.searching import Searcher as WhooshSearcher

from index import capacity, ranking
from index.filters import SITUATIONS, Filter, Situation
from index.geocoder import EARTH_RADIUS_KM
from index.schema import (
    EPOCH,
    NO_COORD,
    NO_WAIT,
    PROFESSIONAL_TEXT,
    PUBLIC_TEXT,
    WAIT_ITEM,
    field_name_of,
    filter_query,
    situation_query,
)
from index.store import SearchIndex
from index.text import text_query
from surveys.operations import today_in_japan

SORTS = ("recommended", "distance", "relevance", "wait", "name")


@dataclass(frozen=True)
class SearchRequest:
    """What to look for; `origin` is (lat, lng) when the user gave a place."""

    q: str = ""
    filters: tuple[Filter, ...] = ()
    municipality: str = ""
    origin: tuple[float, float] | None = None
    radius_km: float = 10.0
    sort: str = ""
    page: int = 1
    per_page: int = 20
    professional: bool = False
    # The mother's situation: facilities accepting it come first; the others only on request.
    situation: Situation | None = None
    situation_filters: tuple[Filter, ...] = ()
    include_declined: bool = False
    today: date | None = None  # for the answers' age (default: today in Japan)


@dataclass(frozen=True)
class Hit:
    """One facility found, with its distance from the origin (None: unknown)."""

    facility_id: int
    distance_km: float | None = None
    score: float | None = None
    accepts: bool | None = True  # accepts the situation (None: did not answer)
    reasons: tuple[ranking.Reason, ...] = ()  # why it is here (index/ranking.py)


@dataclass(frozen=True)
class SearchResult:
    """One page of hits and the total."""

    total: int
    page: int
    per_page: int
    sort: str
    hits: list[Hit] = field(default_factory=list)
    declined_total: int = 0  # in range but not accepting (shown with include_declined)


@dataclass
class _Columns:
    """Per-document arrays aligned to Whoosh document numbers."""

    ids: np.ndarray
    lat: np.ndarray
    lng: np.ndarray
    wait: np.ndarray
    name_rank: np.ndarray
    situation: dict[str, np.ndarray] = field(default_factory=dict)  # _SITUATION_COLUMNS
    capacity: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))  # pulse answer


class Searcher:
    """Search the index; Whoosh objects never leave this module."""

    def __init__(self, search_index: SearchIndex):
        self.index = search_index
        self._lock = threading.Lock()
        self._searcher: WhooshSearcher | None = None
        self._columns: _Columns | None = None

    def search(self, request: SearchRequest) -> SearchResult:
        """Run a search and return one page (one search at a time per process)."""
        sort = effective_sort(request)
        with self._lock:
            searcher, columns = self._current()
            docnums, scores = _match(searcher, _query(request), scored=sort == "relevance")
            accepting = _accepting(searcher, request, docnums)
        order, distances, declined = _order(docnums, scores, columns, request, sort, accepting)
        start = (request.page - 1) * request.per_page
        page = order[start : start + request.per_page]
        view = _View(columns, docnums, scores, distances, accepting, request)
        hits = [_hit(view, i) for i in page]
        return SearchResult(len(order), request.page, request.per_page, sort, hits, declined)

    def count(self) -> int:
        """Return the number of indexed facilities."""
        with self._lock:
            return self._current()[0].doc_count()

    def close(self) -> None:
        """Release the open searcher's files."""
        with self._lock:
            if self._searcher is not None:
                self._searcher.close()
            self._searcher = self._columns = None

    def _current(self) -> tuple[WhooshSearcher, _Columns]:
        """Return an up-to-date searcher and its column arrays (caller holds the lock)."""
        if self._searcher is None or not self._is_fresh():
            self._reopen()
        return self._searcher, self._columns

    def _is_fresh(self) -> bool:
        """Tell whether the open searcher still sees the latest commit."""
        try:
            return self._searcher.up_to_date()
        except (OSError, ValueError):
            return False

    def _reopen(self) -> None:
        """Open a new searcher and load its column arrays."""
        if self._searcher is not None:
            self._searcher.close()
            self.index.reset()
        self._searcher = self.index.open().searcher()
        self._columns = _load_columns(self._searcher)


def effective_sort(request: SearchRequest) -> str:
    """Pick the order: as asked, else relevance for text without a place, else recommended."""
    if request.sort in SORTS and (request.sort != "distance" or request.origin):
        return request.sort
    return "relevance" if request.q.strip() and not request.origin else "recommended"


def _query(request: SearchRequest) -> Query:
    """Combine visibility, text, municipality and answer filters."""
    parts: list[Query] = [] if request.professional else [Term("visibility", "public")]
    groups = PROFESSIONAL_TEXT if request.professional else PUBLIC_TEXT
    text = text_query(request.q, list(groups)) if request.q.strip() else None
    if text is not None:
        parts.append(text)
    elif request.q.strip():
        parts.append(Term("id", "__nothing__"))  # typed only punctuation: nothing matches
    if request.municipality:
        parts.append(Term("municipality", request.municipality))
    parts.extend(filter_query(f) for f in request.filters)
    if not parts:
        return Every()
    return parts[0] if len(parts) == 1 else And(parts)


def _match(searcher: WhooshSearcher, query: Query, scored: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return matching document numbers (and scores when asked)."""
    if not scored:
        docnums = np.fromiter(searcher.docs_for_query(query), dtype=np.int64)
        return docnums, np.zeros(len(docnums))
    results = searcher.search(query, limit=None)
    pairs = [(hit.docnum, hit.score) for hit in results]
    docnums = np.array([p[0] for p in pairs], dtype=np.int64)
    return docnums, np.array([p[1] for p in pairs], dtype=float)


def _accepting(searcher: WhooshSearcher, request: SearchRequest, docnums) -> np.ndarray:
    """Tell which matches accept the situation (all of them when none is asked about)."""
    if request.situation is None or not len(docnums):
        return np.ones(len(docnums), dtype=bool)
    query = situation_query(request.situation, request.situation_filters)
    accepted = np.fromiter(searcher.docs_for_query(query), dtype=np.int64)
    return np.isin(docnums, accepted)


def _order(docnums, scores, columns: _Columns, request: SearchRequest, sort: str, accepting):
    """Return positions into `docnums` in result order, distances (NaN: unknown), and the
    number of non-accepting matches (left out unless `include_declined`)."""
    distances = np.full(len(docnums), np.nan)
    keep = np.ones(len(docnums), dtype=bool)
    if request.origin is not None and len(docnums):
        lat, lng = columns.lat[docnums], columns.lng[docnums]
        located = ~np.isnan(lat)
        distances[located] = haversine_np(*request.origin, lat[located], lng[located])
        in_radius = located & (distances <= request.radius_km)
        keep = in_radius | (~located if request.q.strip() else False)
    declined = int(np.count_nonzero(keep & ~accepting))
    if not request.include_declined:
        keep = keep & accepting
    positions = np.flatnonzero(keep)
    if sort == "recommended":
        keys = _recommended_keys(positions, docnums, distances, columns, request, accepting)
    else:  # accepting facilities first in every order
        keys = _sort_keys(sort, positions, docnums, scores, distances, columns)
        keys = (*keys, ~accepting[positions])
    return positions[np.lexsort(keys)].tolist(), distances, declined


def _recommended_keys(positions, docnums, distances, columns, request, accepting):
    """Return lexsort keys for the recommended order (index/ranking.py), ties by name and id."""
    docs = docnums[positions]
    candidates = ranking.Candidates(
        distance_km=distances[positions] if request.origin is not None else None,
        strength=_strength(columns, docs, request.situation),
        age_days=_age_days(columns, docs, request),
        wait_days=columns.wait[docs],
        open_reports=columns.situation["open_reports"][docs],
        accepts=accepting[positions],
        capacity=_capacity(columns, docs, request),
        seen_rate=capacity.seen_rates(
            *(columns.situation[name][docs] for name in _OUTCOME_COLUMNS)
        ),
    )
    return (columns.ids[docs], columns.name_rank[docs], *ranking.recommended_keys(candidates))


def _capacity(columns: _Columns, docs: np.ndarray, request: SearchRequest) -> np.ndarray:
    """Return each document's capacity pulse state ("unknown" once older than 45 days)."""
    today = request.today or today_in_japan()
    days = columns.situation["capacity_day"][docs]
    return capacity.capacity_states(columns.capacity[docs], days, (today - EPOCH).days)


def _strength(columns: _Columns, docs: np.ndarray, situation: Situation | None) -> np.ndarray:
    """Return acceptance strength for the situation: the weakest kind asked, else the best."""
    kinds = situation.kinds if situation and situation.kinds else SITUATIONS
    values = np.array([columns.situation[f"acc_{kind}"][docs] for kind in kinds])
    return values.min(axis=0) if situation and situation.kinds else values.max(axis=0)


def _age_days(columns: _Columns, docs: np.ndarray, request: SearchRequest) -> np.ndarray:
    """Return days since each answer was verified (NaN: never)."""
    today = request.today or today_in_japan()
    return (today - EPOCH).days - columns.situation["verified_day"][docs]


def _sort_keys(sort, positions, docnums, scores, distances, columns):
    """Return lexsort keys (last key sorts first); unknown distances go last; ties by id."""
    dist = np.nan_to_num(distances[positions], nan=np.inf)
    ids = columns.ids[docnums[positions]]
    names = columns.name_rank[docnums[positions]]
    if sort == "relevance":
        return (ids, names, dist, -scores[positions])
    if sort == "wait":
        return (ids, names, dist, columns.wait[docnums[positions]])
    if sort == "distance":
        return (ids, names, dist)
    return (ids, names)


@dataclass(frozen=True)
class _View:
    """What building a hit needs: the columns, the matches and the request."""

    columns: _Columns
    docnums: np.ndarray
    scores: np.ndarray
    distances: np.ndarray
    accepting: np.ndarray
    request: SearchRequest


def _hit(view: _View, position: int) -> Hit:
    """Build the hit at one position, with its acceptance and reasons."""
    distance = view.distances[position]
    doc = view.docnums[position : position + 1]
    strength = int(_strength(view.columns, doc, view.request.situation)[0])
    accepts = True if view.accepting[position] else (None if strength < 0 else False)
    distance_km = None if np.isnan(distance) else round(float(distance), 3)
    verified = view.columns.situation["verified_day"][doc[0]]
    wait = view.columns.wait[doc[0]]
    reasons = ranking.reasons_for(
        accepts,
        strength,
        distance_km,
        None if np.isnan(wait) else int(wait),
        None if np.isnan(verified) else EPOCH + timedelta(days=int(verified)),
        int(view.columns.situation["open_reports"][doc[0]]),
        view.request.today or today_in_japan(),
        str(_capacity(view.columns, doc, view.request)[0]),
    )
    return Hit(
        facility_id=int(view.columns.ids[doc[0]]),
        distance_km=distance_km,
        score=float(view.scores[position]) if view.scores[position] else None,
        accepts=accepts,
        reasons=reasons,
    )


def _load_columns(searcher: WhooshSearcher) -> _Columns:
    """Read ids, coordinates and wait days for every document number."""
    reader = searcher.reader()
    size = reader.doc_count_all()
    if not reader.has_column("fid"):  # an empty index has no columns yet
        empty = np.zeros(0)
        situation = {name: empty for name in _SITUATION_COLUMNS}
        return _Columns(
            empty.astype(np.int64), empty, empty, empty, empty.astype(np.int64), situation
        )
    ids = np.fromiter(reader.column_reader("fid"), dtype=np.int64, count=size)
    names = list(reader.column_reader("sort_name"))
    lat = _column(reader, "lat_e6", size, NO_COORD) / 1_000_000 - 90
    lng = _column(reader, "lng_e6", size, NO_COORD) / 1_000_000 - 180
    wait = _column(reader, field_name_of(WAIT_ITEM), size, NO_WAIT)
    # Equal names share a rank, so the order never depends on Whoosh document numbers.
    name_rank = np.unique(np.array(names, dtype=object), return_inverse=True)[1].astype(np.int64)
    situation = {name: _column(reader, name, size, NO_WAIT) for name in _SITUATION_COLUMNS}
    for kind in SITUATIONS:  # stored as strength + 1
        situation[f"acc_{kind}"] -= 1
    pulse = _text_column(reader, "capacity", size)
    return _Columns(ids, lat, lng, wait, name_rank, situation, pulse)


# Columns the recommended order reads; verified_day and capacity_day can be missing (NaN).
_OUTCOME_COLUMNS = ("outcomes_seen", "outcomes_no_appointment", "outcomes_refused")
_SITUATION_COLUMNS = (
    "verified_day",
    "acc_pregnant",
    "acc_postpartum",
    "open_reports",
    "capacity_day",
    *_OUTCOME_COLUMNS,
)


def _text_column(reader, name: str, size: int) -> np.ndarray:
    """Read a text column as str ("" where a document has none)."""
    if not reader.has_column(name):
        return np.full(size, "", dtype=object)
    values = (v.decode() if isinstance(v, bytes) else v or "" for v in reader.column_reader(name))
    return np.array(list(values), dtype=object)


def _column(reader, name: str, size: int, missing: int) -> np.ndarray:
    """Read a numeric column as floats, with NaN where the value is missing."""
    if not reader.has_column(name):
        return np.full(size, np.nan)
    values = np.fromiter(reader.column_reader(name), dtype=np.float64, count=size)
    values[values == missing] = np.nan
    return values


def haversine_np(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """Return great-circle distances in km from one point to many (vectorised)."""
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lngs - lng)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
