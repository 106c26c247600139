"""Arrays read once from Whoosh's segments: columns, field lengths and posting lists.

A Whoosh segment never changes once written (its deletions are a separate set), so whatever is
derived from it stays valid until a merge removes the segment. Arrays are keyed by the
segment's id: a commit that adds a small segment costs only that segment's arrays.

Reading whole posting lists, length bytes and numeric columns at array speed uses a few private
parts of whoosh-reloaded 2.7.5 (the block data of W3LeafMatcher, the per-document reader of a
segment); the version is pinned exactly and tests/test_engine.py compares every result with
plain Whoosh, so an upgrade that changes them fails there.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.columns import NumericColumn
from whoosh.fields import NUMERIC
from whoosh.reading import SegmentReader, TermNotFound
from whoosh.util.numeric import byte_to_length

# Whoosh stores each document's field length as one byte; this is its decoding table.
LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)
# Posting lists kept in memory, across segments and generations (bytes of ids + weights).
POSTINGS_BUDGET_BYTES = 96 * 1024 * 1024


class Postings(NamedTuple):
    """One term's posting list in one segment: local document numbers and weights."""

    ids: np.ndarray
    weights: np.ndarray


EMPTY = Postings(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float32))


class SegmentArrays:
    """Per-document arrays of one segment, read on first use and then shared."""

    def __init__(self, key: str, doc_count: int):
        self.key = key
        self.doc_count = doc_count
        self._lock = threading.Lock()
        # Whoosh's segment files are read by seek() then read(): one reader at a time.
        self.io_lock = threading.Lock()
        self._columns: dict[str, np.ndarray] = {}
        self._lengths: dict[str, np.ndarray] = {}

    def column(self, reader: SegmentReader, name: str) -> np.ndarray:
        """Return a stored column (numbers as int64, others as objects) for every document."""
        found = self._columns.get(name)
        if found is None:
            with self.io_lock:
                found = read_column(reader, name, self.doc_count)
            with self._lock:
                self._columns.setdefault(name, found)
        return found

    def lengths(self, reader: SegmentReader, field: str) -> np.ndarray:
        """Return each document's length in a scored text field (as Whoosh's scorer sees it)."""
        found = self._lengths.get(field)
        if found is None:
            with self.io_lock:
                found = read_lengths(reader, field, self.doc_count)
            with self._lock:
                self._lengths.setdefault(field, found)
        return found

    def memo(self, key: str, make):
        """Return a value derived from this segment's arrays, computed once."""
        found = self._columns.get(key)
        if found is None:
            found = make()
            with self._lock:
                self._columns.setdefault(key, found)
        return found

    def nbytes(self) -> int:
        """Return the memory the arrays use (object columns count their pointers only)."""
        arrays = [*self._columns.values(), *self._lengths.values()]
        return sum(getattr(a, "nbytes", 0) for a in arrays)


def read_column(reader: SegmentReader, name: str, size: int) -> np.ndarray:
    """Read one column of a segment; fixed-width numbers straight from the file's bytes."""
    column = reader.schema[name].column_type
    if not reader.has_column(name):
        default = column.default_value() if column is not None else None
        return np.full(size, default, dtype=np.int64 if isinstance(default, int) else object)
    field = reader.schema[name]
    creader = reader.column_reader(name, translate=False)
    if isinstance(creader, NumericColumn.Reader) and _is_int(field):
        values = _numeric_column(creader, size)
        if isinstance(field, NUMERIC) and field.signed:
            values -= 1 << (field.bits - 1)  # stored shifted so that bytes sort as numbers
        return values
    if isinstance(field, NUMERIC):
        return np.array(list(reader.column_reader(name, translate=True)), dtype=np.float64)
    return np.array(list(creader), dtype=object)


def _is_int(field) -> bool:
    """Tell whether a column holds whole numbers (floats need Whoosh's own translation)."""
    return not isinstance(field, NUMERIC) or field.numtype is int


def _numeric_column(creader, size: int) -> np.ndarray:
    """Decode a NumericColumn: big-endian values, the default for documents past the end."""
    dtype = np.dtype(">" + creader._typecode)
    count = min(creader._count, size)
    raw = creader._dbfile.get(creader._basepos, count * dtype.itemsize)
    values = np.full(size, creader._default, dtype=np.int64)
    values[:count] = np.frombuffer(raw, dtype=dtype, count=count)
    return values


def read_lengths(reader: SegmentReader, field: str, size: int) -> np.ndarray:
    """Read the per-document length bytes of a field and decode them (1.0 when none kept)."""
    perdoc = reader._perdoc
    lenfield = _lenfield(field)
    if not perdoc.has_column(lenfield):
        return np.ones(size)  # Whoosh's scorer falls back to 1 as well
    creader = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
    return LENGTH_TABLE[_numeric_column(creader, size)]


def read_postings(reader: SegmentReader, field: str, btext: bytes) -> Postings:
    """Read a term's whole posting list in a segment (deleted documents included)."""
    try:
        matcher = reader._terms.matcher(field, btext, reader.schema[field].format)
    except (KeyError, TermNotFound):
        return EMPTY
    if isinstance(matcher, W3LeafMatcher):
        ids, weights = _read_blocks(matcher)
    else:  # short lists stored inline in the term dictionary
        ids, weights = _read_one_by_one(matcher)
    return Postings(np.asarray(ids, dtype=np.int32), np.asarray(weights, dtype=np.float32))


def _read_blocks(matcher: W3LeafMatcher) -> tuple[np.ndarray, np.ndarray]:
    """Decode the posting blocks (up to 128 postings each: delta-coded ids, then weights)."""
    ids, weights = [], []
    while not matcher._atend:
        matcher._read_data()
        deltas, block_weights = matcher._data[0], matcher._data[1]
        count = matcher._blocklength
        ids.append(np.cumsum(np.asarray(deltas, dtype=np.int64)).astype(np.int32))
        if block_weights is None or isinstance(block_weights, float):
            weights.append(np.full(count, 1.0 if block_weights is None else block_weights))
        else:
            weights.append(np.asarray(block_weights, dtype=np.float64))
        if matcher._lastblock:
            break
        matcher._goto(matcher._nextoffset)
    if not ids:
        return EMPTY
    return np.concatenate(ids), np.concatenate(weights)


def _read_one_by_one(matcher) -> tuple[list[int], list[float]]:
    """Walk a matcher posting by posting."""
    ids, weights = [], []
    while matcher.is_active():
        ids.append(matcher.id())
        weights.append(matcher.weight())
        matcher.next()
    return ids, weights


class PostingsCache:
    """A bounded least-recently-used cache of posting lists keyed by segment, field and term."""

    def __init__(self, budget_bytes: int = POSTINGS_BUDGET_BYTES):
        self.budget = budget_bytes
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple, Postings] = OrderedDict()
        self._bytes = 0
        self.hits = self.misses = 0

    def get(self, reader: SegmentReader, io_lock, key: str, field: str, btext: bytes) -> Postings:
        """Return the postings, reading them on first use (holding the segment's file lock)."""
        ckey = (key, field, btext)
        with self._lock:
            found = self._items.get(ckey)
            if found is not None:
                self._items.move_to_end(ckey)
                self.hits += 1
                return found
            self.misses += 1
        with io_lock:
            loaded = read_postings(reader, field, btext)
        self._put(ckey, loaded)
        return loaded

    def _put(self, ckey: tuple, postings: Postings) -> None:
        """Store postings, evicting the least recently used beyond the budget."""
        size = postings.ids.nbytes + postings.weights.nbytes
        with self._lock:
            if ckey in self._items:
                return
            self._items[ckey] = postings
            self._bytes += size
            while self._bytes > self.budget and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self._bytes -= old.ids.nbytes + old.weights.nbytes

    def nbytes(self) -> int:
        """Return the memory the cached postings use."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
