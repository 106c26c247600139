"""Searcher generations: immutable snapshots of the index that many threads read at once.

A snapshot lists the segments of one index generation with their document offsets, the
deleted documents, and the index-wide statistics BM25F needs. Segment readers and arrays are
shared between generations: a commit that adds a small segment opens and reads only that one.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from whoosh.index import FileIndex
from whoosh.reading import SegmentReader
from whoosh.scoring import BM25F

from index.segments import Postings, PostingsCache, SegmentArrays

# Derived arrays (joined postings, masks, scores) kept per snapshot, least recently used out.
MEMO_BUDGET_BYTES = 96 * 1024 * 1024
# How old a folder's modification time must be to be trusted as "nothing changed since".
SETTLED_NS = 2_000_000_000


@dataclass(frozen=True)
class Leaf:
    """One segment in a snapshot: its reader, arrays and first global document number."""

    key: str
    reader: SegmentReader
    arrays: SegmentArrays
    offset: int
    size: int


@dataclass(frozen=True)
class TermHits:
    """A term's matches across segments: sorted global document numbers and their weights."""

    docs: np.ndarray
    weights: np.ndarray


class Snapshot:
    """One index generation; read-only after construction, so no lock guards searching."""

    def __init__(
        self,
        version: tuple,
        leaves: list[Leaf],
        deleted: dict[str, set[int]],
        cache: PostingsCache,
        on_release: Callable[[], None],
    ):
        self.version = version
        self.leaves = leaves
        self.size = sum(leaf.size for leaf in leaves)
        self.live = _live_mask(leaves, deleted)
        self.doc_count = int(self.live.sum())
        self.postings_cache: PostingsCache = cache
        self.weighting = BM25F()
        self._memo: OrderedDict = OrderedDict()
        self._columns: dict = {}
        self._memo_bytes = self._column_bytes = 0
        self._memo_lock = threading.Lock()
        self._users = 0
        self._retired = self._released = False
        self._on_release: Callable[[], None] | None = on_release
        self._state_lock = threading.Lock()

    # --- per-document columns -------------------------------------------------------------

    def column(self, name: str) -> np.ndarray:
        """Return a stored column of the schema for every global document number."""
        return self.memo(("column", name), lambda: self._concat(name))

    def _concat(self, name: str) -> np.ndarray:
        """Join one column's per-segment arrays."""
        parts = [leaf.arrays.column(leaf.reader, name) for leaf in self.leaves]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.concatenate(parts)

    def lengths(self, field: str) -> np.ndarray:
        """Return every document's length in a scored field."""
        return self.memo(("lengths", field), lambda: self._lengths(field))

    def _lengths(self, field: str) -> np.ndarray:
        """Join one field's per-segment lengths."""
        parts = [leaf.arrays.lengths(leaf.reader, field) for leaf in self.leaves]
        return np.concatenate(parts) if parts else np.zeros(0)

    def memo(self, key, make: Callable):
        """Return a value derived from this snapshot, computing it once.

        Columns stay for the snapshot's life; other values (joined postings, masks, scores)
        leave oldest first beyond the budget.
        """
        store = self._columns if key[0] == "column" else self._memo
        found = store.get(key)
        if found is not None:
            return found
        value = make()
        with self._memo_lock:
            found = store.get(key)
            if found is not None:
                return found
            store[key] = value
            if store is self._columns:
                self._column_bytes += _nbytes(value)
                return value
            self._memo_bytes += _nbytes(value)
            while self._memo_bytes > MEMO_BUDGET_BYTES and len(self._memo) > 1:
                self._memo_bytes -= _nbytes(self._memo.popitem(last=False)[1])
        return value

    # --- postings and statistics ----------------------------------------------------------

    def segment_postings(self, leaf: Leaf, field: str, btext: bytes) -> Postings:
        """Return one segment's postings of a term (cached across generations)."""
        return self.postings_cache.get(leaf.reader, leaf.arrays.io_lock, leaf.key, field, btext)

    def term(self, field: str, btext: bytes) -> TermHits:
        """Return a term's postings over every segment, as global document numbers."""
        return self.memo(("term", field, btext), lambda: self._term(field, btext))

    def _term(self, field: str, btext: bytes) -> TermHits:
        """Join a term's per-segment postings."""
        docs, weights = [], []
        for leaf in self.leaves:
            found = self.segment_postings(leaf, field, btext)
            if len(found.ids):
                docs.append(found.ids + np.int32(leaf.offset))
                weights.append(found.weights)
        if not docs:
            return TermHits(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))
        return TermHits(np.concatenate(docs), np.concatenate(weights))

    def doc_frequency(self, field: str, btext: bytes) -> int:
        """Return how many documents (deleted ones included, as Whoosh counts) hold a term."""
        return sum(len(self.segment_postings(leaf, field, btext).ids) for leaf in self.leaves)

    def field_length(self, field: str) -> int:
        """Return the total length of a field over all documents."""
        return sum(leaf.reader.field_length(field) for leaf in self.leaves)

    def idf(self, field: str, btext: bytes) -> float:
        """Return BM25F's inverse document frequency, as Whoosh computes it."""
        return math.log(self.size / (self.doc_frequency(field, btext) + 1)) + 1

    def avg_field_length(self, field: str) -> float:
        """Return the average field length, as Whoosh's searcher computes it."""
        return (self.field_length(field) / (self.size or 1)) or 1

    # --- life cycle -----------------------------------------------------------------------

    def enter(self) -> bool:
        """Count one more search reading the snapshot; False once its readers are given back."""
        with self._state_lock:
            if self._released:
                return False
            self._users += 1
            return True

    def leave(self) -> None:
        """Count one search less; give the readers back after the last one, once retired."""
        with self._state_lock:
            self._users -= 1
            release = self._retired and self._users == 0
        if release:
            self._release()

    @contextmanager
    def in_use(self) -> Iterator[Snapshot]:
        """Hold the snapshot while the block runs (it must not have been released)."""
        if not self.enter():
            raise RuntimeError("snapshot already released")
        try:
            yield self
        finally:
            self.leave()

    def retire(self) -> None:
        """Give back this snapshot's segment readers once its last search ends."""
        with self._state_lock:
            self._retired = True
            release = self._users == 0
        if release:
            self._release()

    def _release(self) -> None:
        """Run the release actions once."""
        with self._state_lock:
            action, self._on_release = self._on_release, None
            self._released = True
        if action is not None:
            action()

    def nbytes(self) -> int:
        """Return the memory of this snapshot's own arrays (not the shared caches)."""
        return self.live.nbytes + self._memo_bytes + self._column_bytes


def _nbytes(value) -> int:
    """Return the bytes of the arrays in a memoised value."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, TermHits):
        return value.docs.nbytes + value.weights.nbytes
    if isinstance(value, tuple):
        return sum(_nbytes(v) for v in value)
    return 0


def _live_mask(leaves: list[Leaf], deleted: dict[str, set[int]]) -> np.ndarray:
    """Return True for every document number that is not deleted."""
    live = np.ones(sum(leaf.size for leaf in leaves), dtype=bool)
    for leaf in leaves:
        gone = deleted.get(leaf.key)
        if gone:
            live[np.fromiter(gone, dtype=np.int64, count=len(gone)) + leaf.offset] = False
    return live


class Generations:
    """Open snapshots of one index, sharing segment readers and arrays between them.

    A segment reader is counted by the snapshots holding it and closed when the last one that
    holds it is released, so a search on an old snapshot never finds its files closed.
    """

    def __init__(self, cache: PostingsCache | None = None):
        self.cache = cache or PostingsCache()
        self._readers: dict[str, SegmentReader] = {}
        self._arrays: dict[str, SegmentArrays] = {}
        self._last_seen: tuple | None = None
        self._refs: dict[str, int] = {}
        self._held: dict[str, SegmentReader] = {}
        self._refs_lock = threading.Lock()

    def version_of(self, ix: FileIndex) -> tuple:
        """Identify the index's latest commit (the folder changes identity on a rebuild).

        A commit adds a table-of-contents file, which changes the folder's modification time:
        one stat() tells whether listing the folder for the latest generation is needed.
        """
        stat = os.stat(ix.storage.folder)
        seen = (stat.st_ino, stat.st_mtime_ns)
        last = self._last_seen
        # File times tick coarsely: a change within the last seconds may not show in them yet.
        settled = time.time_ns() - stat.st_mtime_ns > SETTLED_NS
        if settled and last is not None and last[0] == seen:
            return last[1]
        version = (stat.st_ino, ix.latest_generation())
        self._last_seen = (seen, version)
        return version

    def open(self, ix: FileIndex) -> Snapshot:
        """Build the snapshot of the latest commit (callers serialise calls)."""
        toc = ix._read_toc()
        version = (os.stat(ix.storage.folder).st_ino, toc.generation)
        leaves, deleted, offset = [], {}, 0
        for segment in toc.segments:
            key = f"{version[0]}:{segment.segment_id()}"
            reader = self._readers.get(key) or SegmentReader(
                ix.storage, toc.schema, segment, generation=toc.generation
            )
            size = segment.doc_count_all()
            arrays = self._arrays.get(key) or SegmentArrays(key, size)
            leaves.append(Leaf(key, reader, arrays, offset, size))
            deleted[key] = set(segment.deleted_docs()) if segment.has_deletions() else set()
            offset += size
        keys = [leaf.key for leaf in leaves]
        self._hold(leaves)
        self._readers = {leaf.key: leaf.reader for leaf in leaves}
        self._arrays = {leaf.key: leaf.arrays for leaf in leaves}
        return Snapshot(version, leaves, deleted, self.cache, lambda: self._give_back(keys))

    def _hold(self, leaves: list[Leaf]) -> None:
        """Count one more snapshot holding each leaf's reader."""
        with self._refs_lock:
            for leaf in leaves:
                self._refs[leaf.key] = self._refs.get(leaf.key, 0) + 1
                self._held[leaf.key] = leaf.reader

    def _give_back(self, keys: list[str]) -> None:
        """Count one snapshot less; close the readers no snapshot holds any more."""
        closing = []
        with self._refs_lock:
            for key in keys:
                self._refs[key] -= 1
                if not self._refs[key]:
                    del self._refs[key]
                    closing.append(self._held.pop(key))
        for reader in closing:
            reader.close()

    def forget(self) -> None:
        """Open fresh readers next time (those held close as their snapshots are released)."""
        self._readers, self._arrays, self._last_seen = {}, {}, None
