"""The Searcher: Whoosh stores and analyses; queries run as numpy operations on snapshots."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
from whoosh.query import And, Every, Query, Term

from index import capacity, ranking
from index.columns import OUTCOME_COLUMNS, WARM_COLUMNS, Columns, warm_terms
from index.errors import IndexUnavailable
from index.execute import run
from index.filters import SITUATIONS, Filter, Situation
from index.geo.distance import haversine_np
from index.schema import (
    EPOCH,
    PROFESSIONAL_TEXT,
    PUBLIC_TEXT,
    filter_query,
    situation_query,
)
from index.snapshot import Generations, Snapshot
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
    # A referring obstetric unit: facilities naming it as a partner rank higher (recommended).
    partner_of: int | None = None


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


class Searcher:
    """Search the index; Whoosh objects never leave this module.

    Each search reads the current snapshot (an immutable generation of the index) without a
    lock; after a commit, one thread prepares the next snapshot while the others keep
    searching the previous one.
    """

    def __init__(self, search_index: SearchIndex):
        self.index = search_index
        self._refresh = threading.Lock()
        self._generations = Generations()
        self._snapshot: Snapshot | None = None

    def search(self, request: SearchRequest) -> SearchResult:
        """Run a search and return one page."""
        sort = effective_sort(request)
        with self._reading() as snap:
            docnums, scores = run(snap, _query(request), scored=sort == "relevance")
            accepting = _accepting(snap, request, docnums)
            partner = _partners(snap, request, docnums)
            columns = Columns(snap)
            order, distances, total, declined = _order(
                docnums, scores, columns, request, sort, (accepting, partner)
            )
            start = (request.page - 1) * request.per_page
            page = order[start : start + request.per_page]
            view = _View(columns, docnums, scores, distances, accepting, request, partner)
            hits = _hits(view, page)
        return SearchResult(total, request.page, request.per_page, sort, hits, declined)

    @contextmanager
    def _reading(self) -> Iterator[Snapshot]:
        """Hold the current snapshot for one search (one retired meanwhile is skipped)."""
        snap = self._current()
        while not snap.enter():
            snap = self._current()
        try:
            yield snap
        finally:
            snap.leave()

    def count(self) -> int:
        """Return the number of indexed facilities."""
        return self._current().doc_count

    def close(self) -> None:
        """Release the open segment files (searches still running finish first)."""
        with self._refresh:
            old, self._snapshot = self._snapshot, None
            self._generations.forget()
        if old is not None:
            old.retire()

    def memory(self) -> dict[str, int]:
        """Report the bytes held in arrays: cached postings, segment columns, the snapshot."""
        snap = self._snapshot
        segments = sum(leaf.arrays.nbytes() for leaf in snap.leaves) if snap else 0
        return {
            "postings": self._generations.cache.nbytes(),
            "postings_entries": len(self._generations.cache),
            "segment_columns": segments,
            "snapshot": snap.nbytes() if snap else 0,
        }

    def warm(self, terms: int = 200) -> None:
        """Load the columns and the postings of the most frequent terms of each text field."""
        with self._reading() as snap:
            for name in WARM_COLUMNS:
                Columns(snap).get(name)
            warm_terms(snap, terms)

    def _current(self) -> Snapshot:
        """Return the snapshot of the latest commit, preparing it if the index changed."""
        snap = self._snapshot
        if snap is not None and self._is_fresh(snap):
            return snap
        if snap is not None and not self._refresh.acquire(blocking=False):
            return snap  # another thread prepares the next one; this search reads the last
        if snap is None:
            self._refresh.acquire()
        try:
            return self._reopen()
        finally:
            self._refresh.release()

    def _is_fresh(self, snap: Snapshot) -> bool:
        """Tell whether a snapshot still shows the latest commit."""
        try:
            return self._generations.version_of(self.index.open()) == snap.version
        except (OSError, ValueError, IndexUnavailable):
            return False

    def _reopen(self) -> Snapshot:
        """Prepare the snapshot of the latest commit and retire the previous one."""
        old = self._snapshot
        if old is not None and self._is_fresh(old):
            return old
        self.index.reset()
        snap = self._generations.open(self.index.open())
        self._snapshot = snap
        if old is not None:
            old.retire()
        return snap


def effective_sort(request: SearchRequest) -> str:
    """Pick the order: as asked, else relevance for text without a place, else recommended."""
    if request.sort in SORTS and (request.sort != "distance" or request.origin):
        return request.sort
    return "relevance" if request.q.strip() and not request.origin else "recommended"


@lru_cache(maxsize=1024)
def _text_query(q: str, groups: tuple[str, ...]) -> Query | None:
    """Return the text query (the same words recur; the tree is only read, never changed)."""
    return text_query(q, list(groups))


def _query(request: SearchRequest) -> Query:
    """Combine visibility, text, municipality and answer filters."""
    parts: list[Query] = [] if request.professional else [Term("visibility", "public")]
    groups = PROFESSIONAL_TEXT if request.professional else PUBLIC_TEXT
    text = _text_query(request.q, groups) if request.q.strip() else None
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


def _accepting(snap: Snapshot, request: SearchRequest, docnums: np.ndarray) -> np.ndarray:
    """Tell which matches accept the situation (all of them when none is asked about)."""
    if request.situation is None or not len(docnums):
        return np.ones(len(docnums), dtype=bool)
    query = situation_query(request.situation, request.situation_filters)
    accepted, _ = run(snap, query, scored=False)
    return np.isin(docnums, accepted)


def _partners(snap: Snapshot, request: SearchRequest, docnums: np.ndarray) -> np.ndarray | None:
    """Tell which matches name the referring obstetric unit (None: no partner_of asked)."""
    if request.partner_of is None:
        return None
    named, _ = run(snap, Term("partners", str(request.partner_of)), scored=False)
    return np.isin(docnums, named)


def _order(docnums, scores, columns: Columns, request: SearchRequest, sort: str, marks):
    """Return positions into `docnums` in result order up to the page, distances, the total,
    and the number of non-accepting matches (left out unless `include_declined`); `marks` are
    the accepting and partner masks."""
    accepting = marks[0]
    distances = np.full(len(docnums), np.nan)
    keep = np.ones(len(docnums), dtype=bool)
    if request.origin is not None and len(docnums):
        keep = _near(docnums, columns, request, distances)
    declined = int(np.count_nonzero(keep & ~accepting))
    if not request.include_declined:
        keep &= accepting
    kept = np.flatnonzero(keep)
    if sort == "recommended":
        keys = _recommended_keys(kept, docnums, distances, columns, request, marks)
        return kept[np.lexsort(keys)].tolist(), distances, len(kept), declined
    # Accepting facilities first in every order: the page cut applies when all accept.
    positions = kept
    if accepting[kept].all():
        positions = _first(kept, request.page * request.per_page, sort, scores, distances)
    keys = (
        *_sort_keys(sort, positions, docnums, scores, distances, columns),
        ~accepting[positions],
    )
    return positions[np.lexsort(keys)].tolist(), distances, len(kept), declined


def _recommended_keys(positions, docnums, distances, columns: Columns, request, marks):
    """Return lexsort keys for the recommended order (index/ranking.py), ties by name and id."""
    accepting, partner = marks
    docs = docnums[positions]
    candidates = ranking.Candidates(
        distance_km=distances[positions] if request.origin is not None else None,
        strength=_strength(columns, docs, request.situation),
        age_days=_age_days(columns, docs, request),
        wait_days=columns.get("wait")[docs],
        open_reports=columns.get("open_reports")[docs],
        accepts=accepting[positions],
        capacity=_capacity(columns, docs, request),
        seen_rate=capacity.seen_rates(*(columns.get(name)[docs] for name in OUTCOME_COLUMNS)),
        partner=partner[positions] if partner is not None else None,
    )
    ties = (columns.get("ids")[docs], columns.get("name_rank")[docs])
    return (*ties, *ranking.recommended_keys(candidates))


def _strength(columns: Columns, docs: np.ndarray, situation: Situation | None) -> np.ndarray:
    """Return acceptance strength for the situation: the weakest kind asked, else the best."""
    kinds = situation.kinds if situation and situation.kinds else SITUATIONS
    values = np.array([columns.get(f"strength_{kind}")[docs] for kind in kinds])
    return values.min(axis=0) if situation and situation.kinds else values.max(axis=0)


def _today_day(request: SearchRequest) -> int:
    """Return today (in Japan, or the request's day) as days since EPOCH."""
    return ((request.today or today_in_japan()) - EPOCH).days


def _age_days(columns: Columns, docs: np.ndarray, request: SearchRequest) -> np.ndarray:
    """Return days since each answer was verified (NaN: never)."""
    return _today_day(request) - columns.get("verified")[docs]


def _capacity(columns: Columns, docs: np.ndarray, request: SearchRequest) -> np.ndarray:
    """Return each document's capacity pulse state ("unknown" once older than 45 days)."""
    answers, days = columns.get("capacity_text")[docs], columns.get("capacity_days")[docs]
    return capacity.capacity_states(answers, days, _today_day(request))


def _first(positions: np.ndarray, count: int, sort: str, scores, distances) -> np.ndarray:
    """Keep only the positions that can be among the first `count` (ties at the edge stay).

    Sorting thousands of matches for one page of 20 is the costly part of a broad search;
    the primary key (score or distance) decides who can be on the page.
    """
    if count >= len(positions) or sort not in ("relevance", "distance"):
        return positions
    if sort == "relevance":
        key = -np.round(scores[positions], 9)
    else:
        key = np.nan_to_num(distances[positions], nan=np.inf)
    edge = np.partition(key, count - 1)[count - 1]
    return positions[key <= edge]


def _near(docnums, columns: Columns, request: SearchRequest, distances) -> np.ndarray:
    """Fill distances of the documents near the origin; return which to keep.

    A box around the circle drops most documents before the trigonometry; documents without
    coordinates stay when text was typed (they may be what was searched for by name).
    """
    lat, lng = columns.get("lat")[docnums], columns.get("lng")[docnums]
    olat, olng = request.origin
    reach = request.radius_km / 110.0 * 1.01 + 1e-6
    widen = max(np.cos(np.radians(min(abs(olat) + reach, 89.0))), 1e-3)
    with np.errstate(invalid="ignore"):
        box = (np.abs(lat - olat) <= reach) & (np.abs(lng - olng) <= reach / widen)
    distances[box] = haversine_np(olat, olng, lat[box], lng[box])
    with np.errstate(invalid="ignore"):
        keep = distances <= request.radius_km
    return keep | (np.isnan(lat) if request.q.strip() else False)


@dataclass(frozen=True)
class Candidates:
    """The documents an order sorts (after filters and radius), with what orders read."""

    docnums: np.ndarray
    scores: np.ndarray
    distances: np.ndarray  # km, NaN: unknown
    columns: Columns

    def column(self, name: str) -> np.ndarray:
        """Return a named column (see Columns) for these documents only."""
        return self.columns.get(name)[self.docnums]


# Each order returns lexsort keys, the primary key last; ties then go by distance (unknown
# last, except for "name"), name and id. A new order (e.g. a ranking score over columns such
# as distance, acceptance and answer age) is one more entry here and in SORTS.
ORDERS: dict[str, Callable[[Candidates], tuple[np.ndarray, ...]]] = {
    # Rounded: sums taken in another order differ in the last bits; equal stays equal.
    "relevance": lambda c: (-np.round(c.scores, 9),),
    "wait": lambda c: (c.column("wait"),),
    "distance": lambda c: (),
    "name": lambda c: (),
}


def _sort_keys(sort, positions, docnums, scores, distances, columns: Columns):
    """Return lexsort keys (last key sorts first); unknown distances go last; ties by id."""
    chosen = Candidates(docnums[positions], scores[positions], distances[positions], columns)
    ties = (chosen.column("ids"), chosen.column("name_rank"))
    if sort != "name":
        ties += (np.nan_to_num(chosen.distances, nan=np.inf),)
    return ties + ORDERS[sort](chosen)


@dataclass(frozen=True)
class _View:
    """What building a hit needs: the columns, the matches and the request."""

    columns: Columns
    docnums: np.ndarray
    scores: np.ndarray
    distances: np.ndarray
    accepting: np.ndarray
    request: SearchRequest
    partner: np.ndarray | None = None  # names the referring obstetric unit


def _hits(view: _View, positions: list[int]) -> list[Hit]:
    """Build the page's hits, with acceptance and reasons, reading each column once."""
    if not positions:
        return []
    at = np.asarray(positions, dtype=np.int64)
    docs = view.docnums[at]
    columns, request = view.columns, view.request
    rows = zip(
        columns.get("ids")[docs].tolist(),
        view.distances[at].tolist(),
        view.scores[at].tolist(),
        view.accepting[at].tolist(),
        _strength(columns, docs, request.situation).tolist(),
        columns.get("verified")[docs].tolist(),
        columns.get("wait")[docs].tolist(),
        columns.get("open_reports")[docs].tolist(),
        _capacity(columns, docs, request).tolist(),
        _partner_flags(view, at).tolist(),
        strict=True,
    )
    today = request.today or today_in_japan()
    return [_hit(*row, today) for row in rows]


def _partner_flags(view: _View, at: np.ndarray) -> np.ndarray:
    """Whether each hit names the referring obstetric unit (all False without one)."""
    if view.partner is None:
        return np.zeros(len(at), dtype=bool)
    return view.partner[at]


def _hit(
    fid, distance, score, accepting, strength, verified, wait, reports, state, partner, today
) -> Hit:
    """Build one hit from its row of the page's columns (NaN: unknown)."""
    strength = int(strength)
    accepts = True if accepting else (None if strength < 0 else False)
    distance_km = None if math.isnan(distance) else round(distance, 3)
    reasons = ranking.reasons_for(
        accepts,
        strength,
        distance_km,
        None if math.isnan(wait) else int(wait),
        None if math.isnan(verified) else EPOCH + timedelta(days=int(verified)),
        int(reports),
        today,
        str(state),
        partner=bool(partner),
    )
    return Hit(int(fid), distance_km, score or None, accepts, reasons)
