"""The Searcher: Whoosh stores and analyses; queries run as numpy operations on snapshots."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from whoosh.query import And, Every, Query, Term

from index.errors import IndexUnavailable
from index.execute import run
from index.filters import Filter
from index.geocoder import EARTH_RADIUS_KM
from index.schema import (
    NO_COORD,
    NO_WAIT,
    PROFESSIONAL_TEXT,
    PUBLIC_TEXT,
    WAIT_ITEM,
    field_name_of,
    filter_query,
)
from index.snapshot import Generations, Snapshot
from index.store import SearchIndex
from index.text import text_query

SORTS = ("distance", "relevance", "wait", "name")


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


@dataclass(frozen=True)
class Hit:
    """One facility found, with its distance from the origin (None: unknown)."""

    facility_id: int
    distance_km: float | None = None
    score: float | None = None


@dataclass(frozen=True)
class SearchResult:
    """One page of hits and the total."""

    total: int
    page: int
    per_page: int
    sort: str
    hits: list[Hit] = field(default_factory=list)


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
            columns = Columns(snap)
            order, distances, total = _order(docnums, scores, columns, request, sort)
            start = (request.page - 1) * request.per_page
            page = order[start : start + request.per_page]
            hits = [_hit(columns, docnums, scores, distances, i) for i in page]
        return SearchResult(total, request.page, request.per_page, sort, hits)

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
    """Pick the order: as asked, else distance with an origin, relevance with text, else name."""
    if request.sort in SORTS and (request.sort != "distance" or request.origin):
        return request.sort
    if request.origin:
        return "distance"
    return "relevance" if request.q.strip() else "name"


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


class Columns:
    """Per-document columns of a snapshot by name: every sortable schema field, plus the
    derived ones below (coordinates in degrees, wait in days, name rank); NaN: unknown.

    An order function reads them for its candidates only: `columns.get(name)[docnums]`.
    """

    def __init__(self, snap: Snapshot):
        self.snap = snap

    def get(self, name: str) -> np.ndarray:
        """Return one column over every global document number."""
        derive = DERIVED.get(name)
        if derive is None:
            return self.snap.column(name)
        return self.snap.memo(("column", name), lambda: derive(self.snap))

    def at(self, docnums: np.ndarray, names: Iterable[str]) -> dict[str, np.ndarray]:
        """Return the named columns for some documents only."""
        return {name: self.get(name)[docnums] for name in names}


def _degrees(name: str, shift: int) -> Callable[[Snapshot], np.ndarray]:
    """Derive a coordinate in degrees from shifted micro-degrees (NaN: unknown)."""

    def derive(snap: Snapshot) -> np.ndarray:
        raw = snap.column(name)
        return np.where(raw == NO_COORD, np.nan, raw / 1_000_000 - shift)

    return derive


def _days(name: str) -> Callable[[Snapshot], np.ndarray]:
    """Derive a number of days from an integer column (NaN: not answered)."""

    def derive(snap: Snapshot) -> np.ndarray:
        raw = snap.column(name).astype(np.float64)
        raw[raw == NO_WAIT] = np.nan
        return raw

    return derive


def _name_rank(snap: Snapshot) -> np.ndarray:
    """Rank documents by sort name; equal names share a rank (order never by docnum).

    Each segment sorts its own names once. A new generation places the other segments' few
    names between the largest segment's (never re-sorting it): primary key 2 * position in the
    largest segment's names, minus one for a name it lacks; secondary key the position among
    the other segments' names.
    """
    parts = [leaf.arrays.memo("name_keys", lambda leaf=leaf: _names(leaf)) for leaf in snap.leaves]
    if not parts:
        return np.zeros(0, dtype=np.int64)
    base = max(range(len(parts)), key=lambda i: len(parts[i][0]))
    main = parts[base][0]
    rest = [names for i, (names, _) in enumerate(parts) if i != base]
    others = np.unique(np.concatenate(rest)) if rest else main[:0]

    def rank(names: np.ndarray) -> np.ndarray:
        pos = np.searchsorted(main, names)
        found = main[np.minimum(pos, len(main) - 1)] == names if len(main) else pos < 0
        primary = 2 * pos.astype(np.int64) - (~found)
        return primary * (len(others) + 1) + np.searchsorted(others, names)

    return np.concatenate([rank(names)[inverse] for names, inverse in parts]).astype(np.int64)


def _names(leaf) -> tuple[np.ndarray, np.ndarray]:
    """Return a segment's distinct sort names (UTF-8 bytes sort as their characters do)."""
    raw = leaf.arrays.column(leaf.reader, "sort_name")
    names, inverse = np.unique(raw.astype(bytes), return_inverse=True)
    return names, inverse.ravel()


DERIVED: dict[str, Callable[[Snapshot], np.ndarray]] = {
    "ids": lambda snap: snap.column("fid"),
    "lat": _degrees("lat_e6", 90),
    "lng": _degrees("lng_e6", 180),
    "wait": _days(field_name_of(WAIT_ITEM)),
    "verified": _days("verified_day"),
    "name_rank": _name_rank,
}
WARM_COLUMNS = ("ids", "lat", "lng", "wait", "name_rank", "verified")


def warm_terms(snap: Snapshot, per_field: int) -> None:
    """Load the postings of each text field's most frequent terms (broad bigrams first)."""
    for leaf in snap.leaves:
        for group in PROFESSIONAL_TEXT:
            with leaf.arrays.io_lock:
                frequent = list(leaf.reader.most_frequent_terms(group, per_field))
            for _, text in frequent:
                snap.segment_postings(leaf, group, _encoded(text))


def _encoded(text: str | bytes) -> bytes:
    """Return a term's text as stored bytes."""
    return text if isinstance(text, bytes) else text.encode("utf-8")


def _order(docnums, scores, columns: Columns, request: SearchRequest, sort: str):
    """Return positions into `docnums` in result order up to the page, distances, and total."""
    distances = np.full(len(docnums), np.nan)
    keep = np.ones(len(docnums), dtype=bool)
    if request.origin is not None and len(docnums):
        keep = _near(docnums, columns, request, distances)
    kept = np.flatnonzero(keep)
    positions = _first(kept, request.page * request.per_page, sort, scores, distances)
    keys = _sort_keys(sort, positions, docnums, scores, distances, columns)
    return positions[np.lexsort(keys)].tolist(), distances, len(kept)


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


def _hit(columns: Columns, docnums, scores, distances, position: int) -> Hit:
    """Build the hit at one position."""
    distance = distances[position]
    return Hit(
        facility_id=int(columns.get("ids")[docnums[position]]),
        distance_km=None if np.isnan(distance) else round(float(distance), 3),
        score=float(scores[position]) if scores[position] else None,
    )


def haversine_np(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """Return great-circle distances in km from one point to many (vectorised)."""
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lngs - lng)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
