"""Compare the vectorised engine with plain Whoosh on the same query trees (untimed).

Plain Whoosh has no radius, so the kinds without one are compared: the same set of facilities,
and for text (relevance order) the same first page except among equal scores.
"""

from __future__ import annotations

from dataclasses import replace

from index.searcher import Searcher, _query, effective_sort

KINDS = ("text", "filters")


def plain_agreement(searcher: Searcher, specs: list[dict], count: int) -> dict:
    """Return, per kind, how many of the first `count` queries agree with plain Whoosh."""
    out = {}
    with searcher.index.open().searcher() as plain:
        for kind in KINDS:
            checks = [_one(searcher, plain, spec[kind]) for spec in specs[:count]]
            out[kind] = {
                "queries": len(checks),
                "same_set": sum(same for same, _ in checks),
                "same_top20": sum(top for _, top in checks),
            }
    return out


def _one(searcher: Searcher, plain, request) -> tuple[bool, bool]:
    """Return (same set, same first page up to ties) for one request."""
    hits = plain.search(_query(request), limit=None)
    expected = [(int(hit["id"]), round(hit.score, 6)) for hit in hits]
    result = searcher.search(replace(request, per_page=max(len(expected), 1)))
    got = [(h.facility_id, round(h.score or 0.0, 6)) for h in result.hits]
    same_set = {fid for fid, _ in got} == {fid for fid, _ in expected}
    if effective_sort(request) != "relevance":
        return same_set, same_set
    return same_set, _same_page(expected[:20], got[:20])


def _same_page(expected: list, got: list) -> bool:
    """Equal scores in the same order, and the same ids above the page's lowest score."""
    if [s for _, s in expected] != [s for _, s in got]:
        return False
    edge = expected[-1][1] if expected else 0
    return {f for f, s in expected if s > edge} == {f for f, s in got if s > edge}
