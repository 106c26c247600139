"""The recommended order's score and reasons, on columns alone (index/ranking.py)."""

from __future__ import annotations

from datetime import date

import numpy as np

from index import capacity, ranking


def _candidates(**columns) -> ranking.Candidates:
    size = len(next(iter(columns.values())))
    defaults = {
        "distance_km": np.zeros(size),
        "strength": np.full(size, 2),
        "age_days": np.full(size, 30.0),
        "wait_days": np.full(size, 7.0),
        "open_reports": np.zeros(size),
        "accepts": np.ones(size, dtype=bool),
    }
    return ranking.Candidates(**(defaults | columns))


def _order(candidates) -> list[int]:
    return np.lexsort(ranking.recommended_keys(candidates)).tolist()


def test_each_weight_moves_a_result_by_its_kilometres():
    w = ranking.WEIGHTS
    base = ranking.penalty(_candidates(distance_km=np.array([1.0])))[0]
    assert base == 1.0 + w.wait_week_km  # 7 days = one week
    conditional = _candidates(distance_km=np.array([1.0]), strength=np.array([1]))
    assert ranking.penalty(conditional)[0] == base + w.conditional_km
    older = _candidates(distance_km=np.array([1.0]), age_days=np.array([400.0]))
    assert ranking.penalty(older)[0] == base + w.older_km
    reported = _candidates(distance_km=np.array([1.0]), open_reports=np.array([9]))
    assert ranking.penalty(reported)[0] == base + w.report_cap * w.report_km


def test_not_accepting_and_stale_rank_after_whatever_their_score():
    candidates = _candidates(
        distance_km=np.array([0.1, 0.2, 30.0]),
        accepts=np.array([False, True, True]),
        age_days=np.array([10.0, 800.0, 10.0]),
    )
    assert _order(candidates) == [2, 1, 0]


def test_reasons_render_as_one_short_line():
    reasons = ranking.reasons_for(True, 2, 2.14, 7, date(2026, 11, 3), 0, date(2026, 12, 6))
    assert ranking.render(reasons) == "2.1 km・7日以内・2026年11月確認"
    assert ranking.render(reasons, "en") == "2.1 km · within 7 days · checked Nov 2026"
    old = ranking.reasons_for(False, 0, None, None, date(2024, 1, 5), 2, date(2026, 12, 6))
    assert ranking.render(old) == (
        "この状況の受け入れなし・2024年1月確認（2年以上前）・予約が取れなかった報告2件"
    )


def test_referral_outcomes_count_only_from_the_threshold():
    seen = capacity.seen_rates(np.array([0, 1, 5]), np.array([4, 4, 0]), np.array([0, 0, 0]))
    assert np.isnan(seen[0]) and seen[1] == 0.2 and seen[2] == 1.0  # 4 counted: no rate yet
    c = _candidates(distance_km=np.array([1.0, 1.0, 1.0]), seen_rate=seen)
    few, poor, good = ranking.penalty(c)
    assert few == good  # below the threshold, outcomes change nothing
    assert poor == good + 0.8 * ranking.WEIGHTS.not_seen_km
    assert _order(c) == [0, 2, 1]


def test_little_room_is_a_penalty_and_no_room_a_tier():
    states = capacity.capacity_states(
        np.array(["little", "none", "room", "none"], dtype=object),
        np.array([100.0, 100.0, 100.0, 40.0]),
        today_day=105,
    )
    assert states.tolist() == ["little", "none", "room", "unknown"]  # 65 days old: unknown
    c = _candidates(distance_km=np.array([1.0, 0.1, 2.5, 0.5]), capacity=states)
    assert ranking.penalty(c)[0] == ranking.penalty(c)[2] - 1.5 + ranking.WEIGHTS.little_room_km
    assert _order(c) == [3, 0, 2, 1]
