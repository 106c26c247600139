"""Per-document columns of a search snapshot by name, and warming a snapshot's caches."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from index.filters import SITUATIONS
from index.schema import NO_COORD, NO_WAIT, PROFESSIONAL_TEXT, WAIT_ITEM, field_name_of
from index.snapshot import Snapshot


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


def _strength_of(kind: str) -> Callable[[Snapshot], np.ndarray]:
    """Derive acceptance strength (-1 unanswered ... 2 yes) from its column (stored + 1)."""
    return lambda snap: snap.column(f"acc_{kind}") - 1


def _text(name: str) -> Callable[[Snapshot], np.ndarray]:
    """Derive a text column as str objects ("" for none)."""

    def derive(snap: Snapshot) -> np.ndarray:
        raw = snap.column(name)
        return np.array(
            [v.decode() if isinstance(v, bytes) else v or "" for v in raw], dtype=object
        )

    return derive


DERIVED: dict[str, Callable[[Snapshot], np.ndarray]] = {
    "ids": lambda snap: snap.column("fid"),
    "lat": _degrees("lat_e6", 90),
    "lng": _degrees("lng_e6", 180),
    "wait": _days(field_name_of(WAIT_ITEM)),
    "verified": _days("verified_day"),
    "name_rank": _name_rank,
    **{f"strength_{kind}": _strength_of(kind) for kind in SITUATIONS},
    "capacity_text": _text("capacity"),
    "capacity_days": _days("capacity_day"),
}
WARM_COLUMNS = ("ids", "lat", "lng", "wait", "name_rank", "verified", "open_reports")
OUTCOME_COLUMNS = ("outcomes_seen", "outcomes_no_appointment", "outcomes_refused")


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
