"""Run Whoosh query trees as array operations over a snapshot, scoring as Whoosh does.

The query objects stay Whoosh's (index/text.py and index/schema.py build them); only their
execution changes: each node gives a boolean mask over global document numbers and, when the
order needs them, BM25F scores with the same statistics and combination rules as Whoosh's
matchers (And and Or add their children's scores, AndMaybe adds the optional part where it
matches, a boost multiplies). Deleted documents are removed once, at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from whoosh import query as wq

from index.snapshot import Leaf, Snapshot, TermHits

# Whoosh's Or picks a scored binary tree above this many documents in a segment, an unscored
# array below it (for a prefix's expansion, which asks for constant scores).
_OR_ARRAY_DOCS = 5000
_OR_TOO_MANY_CLAUSES = 1024


class UnsupportedQuery(TypeError):
    """A query node the vectorised engine does not execute."""


class Match(NamedTuple):
    """Documents a query node matches, and their scores (0 elsewhere; None: not scored)."""

    mask: np.ndarray
    scores: np.ndarray | None


def run(snapshot: Snapshot, q: wq.Query, scored: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return the live matching document numbers and their scores (zeros when unscored)."""
    found = evaluate(snapshot, q, scored)
    docs = np.flatnonzero(found.mask & snapshot.live)
    scores = found.scores[docs] if found.scores is not None else np.zeros(len(docs))
    return docs, scores


def evaluate(snap: Snapshot, q: wq.Query, scored: bool) -> Match:
    """Evaluate one query node."""
    handler = _HANDLERS.get(type(q))
    if handler is None:
        raise UnsupportedQuery(f"no vectorised execution for {type(q).__name__}")
    return handler(snap, q, scored)


def _nothing(snap: Snapshot, scored: bool) -> Match:
    """Match no document."""
    return Match(np.zeros(snap.size, dtype=bool), np.zeros(snap.size) if scored else None)


def _and(snap: Snapshot, q: wq.And, scored: bool) -> Match:
    """All children match; scores add up (a single child is the node itself, boost aside)."""
    subs = q.subqueries
    if len(subs) <= 1:
        return evaluate(snap, subs[0], scored) if subs else _nothing(snap, scored)
    mask, total = None, np.zeros(snap.size) if scored else None
    for sub in subs:
        found = _add(snap, sub, total)
        mask = found.copy() if mask is None else mask & found
        if not scored and not mask.any():
            break
    return Match(mask, total * mask * q.boost if scored else None)


def _or(snap: Snapshot, q: wq.Or, scored: bool) -> Match:
    """Any child matches; the matching children's scores add up."""
    if q.minmatch or q.scale:
        raise UnsupportedQuery("Or with minmatch or scale")
    subs = q.subqueries
    if len(subs) <= 1:
        return evaluate(snap, subs[0], scored) if subs else _nothing(snap, scored)
    mask, total = np.zeros(snap.size, dtype=bool), np.zeros(snap.size) if scored else None
    for sub in subs:
        mask |= _add(snap, sub, total)
    return Match(mask, total * q.boost if scored and q.boost != 1 else total)


def _and_maybe(snap: Snapshot, q: wq.AndMaybe, scored: bool) -> Match:
    """The required part decides; the optional part adds its score where both match."""
    if not scored:
        return evaluate(snap, q.a, scored)
    total = np.zeros(snap.size)
    required = _add(snap, q.a, total)
    if isinstance(q.b, wq.Term):
        _add(snap, q.b, total, where=required)
    else:
        total += evaluate(snap, q.b, scored).scores * required
    return Match(required, total)


def _add(snap: Snapshot, q: wq.Query, total: np.ndarray | None, where=None) -> np.ndarray:
    """Evaluate a child, adding its scores into its parent's `total`; return its mask.

    A term adds its postings' scores in place (limited to `where`) instead of making a dense
    score array of its own: most children are terms.
    """
    if total is None or not isinstance(q, wq.Term):
        found = evaluate(snap, q, total is not None)
        if total is not None:
            total += found.scores
        return found.mask
    btext = _to_bytes(snap, q.fieldname, q.text)
    if btext is None:
        return _nothing(snap, False).mask
    hits = snap.term(q.fieldname, btext)
    scores = term_scores(snap, q.fieldname, btext, hits) * q.boost
    if where is not None:
        scores = scores * where[hits.docs]
    total[hits.docs] += scores
    return _term_mask(snap, q.fieldname, btext, hits)


def _term(snap: Snapshot, q: wq.Term, scored: bool) -> Match:
    """One term in one field."""
    btext = _to_bytes(snap, q.fieldname, q.text)
    if btext is None:
        return _nothing(snap, scored)
    hits = snap.term(q.fieldname, btext)
    mask = _term_mask(snap, q.fieldname, btext, hits)
    if not scored:
        return Match(mask, None)
    scores = np.zeros(snap.size)
    scores[hits.docs] = term_scores(snap, q.fieldname, btext, hits) * q.boost
    return Match(mask, scores)


def _term_mask(snap: Snapshot, field: str, btext: bytes, hits: TermHits) -> np.ndarray:
    """Return a term's documents as a mask (kept for the snapshot's life)."""
    return snap.memo(("mask", field, btext), lambda: _mask(snap.size, hits.docs))


def _to_bytes(snap: Snapshot, field: str, text) -> bytes | None:
    """Encode a term's text as the field stores it (None: no such field or value)."""
    if not snap.leaves or field not in snap.leaves[0].reader.schema:
        return None
    try:
        return snap.leaves[0].reader.schema[field].to_bytes(text)
    except ValueError:
        return None


def _mask(size: int, docs: np.ndarray) -> np.ndarray:
    """Return a boolean mask with True at the given document numbers."""
    mask = np.zeros(size, dtype=bool)
    mask[docs] = True
    return mask


def term_scores(snap: Snapshot, field: str, btext: bytes, hits: TermHits) -> np.ndarray:
    """Score a term's postings with BM25F (the posting weight in unscored fields)."""
    return snap.memo(("bm25", field, btext), lambda: _bm25(snap, field, btext, hits))


def _bm25(snap: Snapshot, field: str, btext: bytes, hits: TermHits) -> np.ndarray:
    """Whoosh's bm25(): idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))."""
    if not snap.leaves[0].reader.schema[field].scorable:
        return hits.weights.astype(np.float64)
    w = snap.weighting
    b = w._field_B.get(field, w.B)
    lengths = snap.lengths(field)[hits.docs]
    norm = w.K1 * ((1 - b) + b * lengths / snap.avg_field_length(field))
    tf = hits.weights.astype(np.float64)  # stored as float32, as Whoosh keeps them
    return snap.idf(field, btext) * ((tf * (w.K1 + 1)) / (tf + norm))


def _prefix(snap: Snapshot, q: wq.Prefix, scored: bool) -> Match:
    """Terms starting with a text (computed once per snapshot)."""
    key = ("prefix", q.fieldname, q.text, q.boost, scored)
    return snap.memo(key, lambda: _expand_prefix(snap, q, scored))


def _expand_prefix(snap: Snapshot, q: wq.Prefix, scored: bool) -> Match:
    """Expand and score a prefix per segment, as Whoosh does."""
    mask = np.zeros(snap.size, dtype=bool)
    scores = np.zeros(snap.size) if scored else None
    for leaf in snap.leaves:
        with leaf.arrays.io_lock:
            words = [w for w in leaf.reader.expand_prefix(q.fieldname, q.text) if w]
        for word in words:
            found = snap.segment_postings(leaf, q.fieldname, word)
            mask[found.ids.astype(np.int64) + leaf.offset] = True
        if scored and words:
            _score_prefix(snap, leaf, q, words, scores)
    return Match(mask, scores)


def _score_prefix(snap: Snapshot, leaf: Leaf, q: wq.Prefix, words: list[bytes], scores) -> None:
    """Add one segment's prefix scores: one word scores as a term; many as Whoosh's Or."""
    summed = len(words) < _OR_TOO_MANY_CLAUSES and (len(words) == 2 or leaf.size > _OR_ARRAY_DOCS)
    boost = 1.0 if len(words) == 1 else q.boost
    for word in words:
        found = snap.segment_postings(leaf, q.fieldname, word)
        docs = found.ids.astype(np.int64) + leaf.offset
        if len(words) > 1 and not summed:
            scores[docs] = 1.0  # Whoosh's unscored array union counts a match as 1
            continue
        hits = TermHits(docs, found.weights)
        scores[docs] += _bm25(snap, q.fieldname, word, hits) * boost


def _numeric_range(snap: Snapshot, q: wq.NumericRange, scored: bool) -> Match:
    """A range over a sortable numeric field, compared on its column."""
    if not q.constantscore:
        raise UnsupportedQuery("NumericRange without constant score")
    values = snap.column(q.fieldname)
    mask = np.ones(snap.size, dtype=bool)
    if q.start is not None:
        mask &= values > q.start if q.startexcl else values >= q.start
    if q.end is not None:
        mask &= values < q.end if q.endexcl else values <= q.end
    return Match(mask, mask * float(q.boost) if scored else None)


def _every(snap: Snapshot, q: wq.Every, scored: bool) -> Match:
    """Every document (a field name would limit it to documents with that field)."""
    if q.fieldname not in (None, "", "*"):
        raise UnsupportedQuery("Every with a field")
    mask = np.ones(snap.size, dtype=bool)
    return Match(mask, np.full(snap.size, float(q.boost)) if scored else None)


_HANDLERS: dict[type, Callable[[Snapshot, wq.Query, bool], Match]] = {
    wq.And: _and,
    wq.Or: _or,
    wq.AndMaybe: _and_maybe,
    wq.Term: _term,
    wq.Prefix: _prefix,
    wq.NumericRange: _numeric_range,
    wq.Every: _every,
}
