"""The pure pieces the default order uses: pulse freshness and the referral outcome rate."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from index.capacity import CAPACITY_FRESH_DAYS, MIN_OUTCOMES, capacity_state, seen_rate

TODAY = date(2026, 12, 20)


@pytest.mark.parametrize("answer", ["room", "little", "none"])
def test_capacity_state_is_the_answer_while_fresh(answer):
    assert capacity_state(answer, TODAY, TODAY) == answer
    last_day = TODAY - timedelta(days=CAPACITY_FRESH_DAYS)
    assert capacity_state(answer, last_day, TODAY) == answer


@pytest.mark.parametrize("answer", ["room", "little", "none"])
def test_capacity_state_older_than_45_days_is_unknown(answer):
    old = TODAY - timedelta(days=CAPACITY_FRESH_DAYS + 1)
    assert CAPACITY_FRESH_DAYS == 45
    assert capacity_state(answer, old, TODAY) == "unknown"


@pytest.mark.parametrize(
    ("answer", "answered_on"),
    [("", TODAY), ("room", None), ("maybe", TODAY), ("room", TODAY + timedelta(days=2))],
)
def test_capacity_state_without_a_usable_answer_is_unknown(answer, answered_on):
    assert capacity_state(answer, answered_on, TODAY) == "unknown"


def test_seen_rate_needs_the_minimum_count():
    assert MIN_OUTCOMES == 5
    assert seen_rate(3, 1, 0) is None
    assert seen_rate(3, 1, 1) == pytest.approx(0.6)
    assert seen_rate(0, 5, 0) == 0.0
    assert seen_rate(10, 0, 0) == 1.0
