"""The vectorised engine against plain Whoosh: same sets, same relevance order, snapshots."""

from __future__ import annotations

import random
import threading
from dataclasses import replace
from datetime import date

import pytest
from geopy.distance import great_circle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.query import And

from index.documents import FacilityDoc
from index.params import parse_filters
from index.searcher import Searcher, SearchRequest, _query, effective_sort
from index.store import SearchIndex
from index.text import normalize
from surveys.questionnaire import load_version

Q = load_version("2026.2")
NAMES = ("さくら", "サクラ", "こころ", "心", "ひだまり", "青葉", "新宿", "池袋", "世田谷", "京都")
TYPES = ("メンタルクリニック", "心療内科", "精神科病院", "クリニック", "こころの診療所")
WORDS = (*NAMES, *TYPES, "産後うつ", "双極症", "摂食障害", "病院", "心", "新宿 クリニック")
WARDS = ("新宿区", "豊島区", "世田谷区", "江東区")
BODIES = ("産後うつの相談", "双極性障害の治療", "摂食障害", "駅から徒歩5分", "女性医師", "")
FILTERS = (
    {"pregnant": "yes,conditional"},
    {"postpartum": "yes", "max_wait_days": "14"},
    {"pregnant": "yes,conditional", "condition": "postpartum_depression"},
    {"breastfeeding_rx": "yes", "woman_doctor": "yes"},
    {},
)


def make_doc(rng: random.Random, facility_id: int, version: int = 0) -> FacilityDoc:
    """Return a clinic-like document with random names, place, text and answers."""
    name = rng.choice(NAMES) + rng.choice(TYPES)
    located = rng.random() < 0.9
    return FacilityDoc(
        id=facility_id,
        stamp=f"s{version}",
        name=name,
        kana=rng.choice(("さくらめんたる", "こころくりにっく", "ひだまり", "")),
        address=f"東京都{rng.choice(WARDS)}{rng.randint(1, 9)}-1",
        kind="psychiatric",
        municipality_code=rng.choice(("131041", "131164", "131121")),
        lat=35.6 + rng.random() * 0.2 if located else None,
        lng=139.6 + rng.random() * 0.2 if located else None,
        visibility=rng.choice(("public", "public", "professional")),
        verified_on=date(2026, 1, 1),
        answers=random_answers(rng),
        body_public=rng.choice(BODIES),
        body_pro=rng.choice(BODIES),
    )


def random_answers(rng: random.Random) -> dict:
    """Answer every filter item at random (some left out)."""
    answers = {}
    for item in Q.items:
        if not item.filter or rng.random() < 0.15:
            continue
        if item.type == "integer":
            answers[item.key] = rng.randint(0, 60)
        elif item.type == "multi":
            answers[item.key] = rng.sample([c.value for c in item.choices], rng.randint(1, 3))
        else:
            answers[item.key] = rng.choice(item.choices).value
    return answers


def build(tmp_path, count: int, seed: int = 1, commits: int = 1) -> SearchIndex:
    """Write `count` documents in `commits` commits (each commit adds a segment)."""
    rng = random.Random(seed)
    index = SearchIndex(tmp_path / "index", Q)
    docs = [make_doc(rng, i + 1) for i in range(count)]
    index.rebuild([docs[: count // commits]])
    step = count // commits
    for start in range(step, count, step):
        index.write(docs[start : start + step])
    return index


def whoosh_results(index: SearchIndex, request: SearchRequest) -> tuple[set[int], list]:
    """Return plain Whoosh's ids and (id, score) in score order, for the same query."""
    with index.open().searcher() as searcher:
        hits = searcher.search(_query(request), limit=None)
        scored = [(int(h["id"]), h.score) for h in hits]
    return {fid for fid, _ in scored}, scored


def engine_results(searcher: Searcher, request: SearchRequest) -> tuple[set[int], list]:
    """Return the engine's ids and (id, score) in its order."""
    result = searcher.search(replace(request, per_page=100_000))
    return {h.facility_id for h in result.hits}, [(h.facility_id, h.score) for h in result.hits]


def assert_same_top(expected: list, got: list, top: int = 20) -> None:
    """The first page holds the same scores; ids may differ only among equal scores."""
    assert [round(s, 6) for _, s in got[:top]] == [round(s, 6) for _, s in expected[:top]]
    cut = round(expected[min(top, len(expected)) - 1][1], 6) if expected else 0
    above = {fid for fid, s in expected[:top] if round(s, 6) > cut}
    assert above <= {fid for fid, _ in got[:top]}


def test_term_postings_spanning_segments_match_whoosh(tmp_path):
    index = build(tmp_path, 300, commits=3)
    assert len(index.open()._segments()) == 3
    searcher = Searcher(index)
    request = SearchRequest(q="クリニック", professional=True)
    ids, ordered = engine_results(searcher, request)
    expected, scored = whoosh_results(index, request)
    assert ids == expected and len(ids) > 100
    assert_same_top(scored, ordered)
    searcher.close()


def test_deletions_in_an_older_segment_are_not_found(tmp_path):
    index = build(tmp_path, 200, commits=2)
    searcher = Searcher(index)
    request = SearchRequest(q="クリニック", professional=True)
    before, _ = engine_results(searcher, request)
    gone = sorted(before)[:5]  # ids 1-100 live in the first (older) segment
    index.write([], deleted_ids=gone)
    after, ordered = engine_results(searcher, request)
    assert after == before - set(gone)
    expected, scored = whoosh_results(index, request)
    assert after == expected
    assert_same_top(scored, ordered)
    assert searcher.count() == 195
    searcher.close()


def test_update_while_a_search_holds_the_previous_snapshot(tmp_path):
    index = build(tmp_path, 100)
    searcher = Searcher(index)
    old = searcher._current()
    with old.in_use():
        doc = replace(make_doc(random.Random(5), 7, version=1), name="ゆりかご心療内科")
        index.write([doc])
        found = searcher.search(SearchRequest(q="ゆりかご", professional=True))
        assert [h.facility_id for h in found.hits] == [7]
        # The held snapshot still answers from its own generation, readers open.
        held = _run_on(old, SearchRequest(q="ゆりかご", professional=True))
        assert held == []
    assert searcher._current() is not old
    assert not old.enter()  # released: a search that picked it up takes the next one
    assert all(leaf.reader.is_closed for leaf in old.leaves if leaf.key not in _keys(searcher))
    searcher.close()


def _keys(searcher: Searcher) -> set[str]:
    """Return the segment keys of the searcher's current snapshot."""
    return {leaf.key for leaf in searcher._current().leaves}


def test_a_held_snapshot_keeps_its_segments_open_through_a_merge(tmp_path):
    index = build(tmp_path, 200, commits=2)
    searcher = Searcher(index)
    old = searcher._current()
    with old.in_use():
        index.open().optimize()  # merges both segments into a new one
        assert searcher.search(SearchRequest(q="ひだまり", professional=True)).total > 0
        # Postings never read before still come from the old segments' files.
        assert _run_on(old, SearchRequest(q="池袋", professional=True))
    assert all(leaf.reader.is_closed for leaf in old.leaves)
    assert not any(leaf.reader.is_closed for leaf in searcher._current().leaves)
    searcher.close()


def test_name_order_across_segments_and_an_update(tmp_path):
    index = build(tmp_path, 300, seed=4, commits=3)
    rng = random.Random(4)
    docs = {d.id: d for d in (make_doc(rng, i + 1) for i in range(300))}
    docs[5] = replace(docs[5], name="あああ", kana="")  # moves to the front in a new segment
    index.write([docs[5]])
    searcher = Searcher(index)
    result = searcher.search(SearchRequest(sort="name", professional=True, per_page=1000))
    expected = sorted(docs, key=lambda i: (normalize(docs[i].kana or docs[i].name), i))
    assert [h.facility_id for h in result.hits] == expected
    searcher.close()


def _run_on(snap, request: SearchRequest) -> list[int]:
    """Run a request on a given snapshot."""
    from index.execute import run

    docnums, _ = run(snap, _query(request), scored=False)
    return sorted(int(i) for i in snap.column("fid")[docnums])


def test_searches_in_threads_during_commits_see_whole_generations(tmp_path):
    index = build(tmp_path, 200)
    searcher = Searcher(index)
    request = SearchRequest(q="クリニック", professional=True, per_page=1000)
    total = searcher.search(request).total
    errors: list[BaseException] = []

    def search_many() -> None:
        try:
            for _ in range(30):
                assert searcher.search(request).total in (total, total + 20)
        except BaseException as exc:  # the main thread reports it
            errors.append(exc)

    threads = [threading.Thread(target=search_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    rng = random.Random(9)
    extra = [replace(make_doc(rng, 1000 + i), name="クリニック") for i in range(20)]
    index.write(extra)
    for thread in threads:
        thread.join()
    assert errors == []
    assert searcher.search(request).total == total + 20
    searcher.close()


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """An index of 600 documents in three segments with deletions in the first."""
    index = build(tmp_path_factory.mktemp("engine"), 600, seed=3, commits=3)
    index.write([], deleted_ids=range(1, 600, 17))
    searcher = Searcher(index)
    yield index, searcher
    searcher.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=0, max_size=2),
    filters=st.sampled_from(FILTERS),
    professional=st.booleans(),
    municipality=st.sampled_from(("", "131041")),
    sort=st.sampled_from(("", "relevance", "name", "wait")),
)
def test_vectorised_path_agrees_with_whoosh(
    segmented, words, filters, professional, municipality, sort
):
    index, searcher = segmented
    request = SearchRequest(
        q=" ".join(words),
        filters=tuple(parse_filters(Q, filters)),
        municipality=municipality,
        professional=professional,
        sort=sort,
    )
    ids, ordered = engine_results(searcher, request)
    expected, scored = whoosh_results(index, request)
    assert ids == expected
    if effective_sort(request) == "relevance":
        assert_same_top(scored, ordered)
    second = searcher.search(replace(request, page=2, per_page=7))
    assert second.total == len(ids)
    assert [h.facility_id for h in second.hits] == [fid for fid, _ in ordered[7:14]]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(st.sampled_from(WORDS), min_size=0, max_size=1),
    lat=st.floats(35.55, 35.85),
    lng=st.floats(139.55, 139.85),
    radius=st.floats(0.2, 25.0),
)
def test_radius_keeps_exactly_the_documents_within_it(segmented, words, lat, lng, radius):
    index, searcher = segmented
    request = SearchRequest(q=" ".join(words), origin=(lat, lng), radius_km=radius)
    ids, _ = engine_results(searcher, request)
    expected, _ = whoosh_results(index, request)
    places = _places(index)
    near = {
        fid
        for fid in expected
        if places[fid] is None or great_circle((lat, lng), places[fid]).km <= radius
    }
    keep_unlocated = bool(request.q.strip())
    assert ids == {f for f in near if places[f] is not None or keep_unlocated}


def _places(index: SearchIndex) -> dict[int, tuple[float, float] | None]:
    """Return each facility's coordinates as indexed (None: unknown)."""
    rng = random.Random(3)
    docs = [make_doc(rng, i + 1) for i in range(600)]
    return {d.id: (d.lat, d.lng) if d.lat is not None else None for d in docs}


def test_the_query_tree_is_what_whoosh_runs():
    # The agreement test above compares like with like only if the tree is a compound query.
    request = SearchRequest(q="新宿 クリニック", municipality="131041")
    assert isinstance(_query(request), And)
