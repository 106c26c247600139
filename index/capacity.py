"""Freshness signals for the default order: the capacity pulse and referral outcomes.

Pure functions; the ranking decides how much each signal weighs.
"""

from __future__ import annotations

from datetime import date

import numpy as np

# A pulse answer older than this says nothing about this month any more.
CAPACITY_FRESH_DAYS = 45
CAPACITY_STATES = ("room", "little", "none", "unknown")
# Outcome rates count only from this many answered referrals on (with fewer, a single mother
# who did not go would swing a facility's place), and only outcomes the facility had a hand
# in: seen, no appointment, refused. "Did not go" and "don't know" are left out.
MIN_OUTCOMES = 5


def capacity_state(answer: str, answered_on: date | None, today: date) -> str:
    """Return "room", "little" or "none" for a fresh pulse answer, else "unknown"."""
    if answer not in CAPACITY_STATES[:3] or answered_on is None:
        return "unknown"
    age = (today - answered_on).days
    return answer if 0 <= age <= CAPACITY_FRESH_DAYS else "unknown"


def seen_rate(seen: int, no_appointment: int, refused: int) -> float | None:
    """Return the share of counted referrals that led to a visit, or None below MIN_OUTCOMES."""
    counted = seen + no_appointment + refused
    if counted < MIN_OUTCOMES:
        return None
    return seen / counted


def capacity_states(answers: np.ndarray, days: np.ndarray, today_day: int) -> np.ndarray:
    """Vectorised capacity_state: answers and their days since EPOCH (NaN: none) per facility."""
    age = today_day - np.nan_to_num(days, nan=-(10**9))
    fresh = (age >= 0) & (age <= CAPACITY_FRESH_DAYS) & np.isin(answers, CAPACITY_STATES[:3])
    return np.where(fresh, answers, "unknown")


def seen_rates(seen: np.ndarray, no_appointment: np.ndarray, refused: np.ndarray) -> np.ndarray:
    """Vectorised seen_rate: NaN where fewer than MIN_OUTCOMES referrals were counted."""
    counted = seen + no_appointment + refused
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counted >= MIN_OUTCOMES, seen / np.maximum(counted, 1), np.nan)
