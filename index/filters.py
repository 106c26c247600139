"""Search filters derived from the questionnaire: every filter item is a parameter."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.questionnaire import Item, Questionnaire

# Largest value of an integer filter parameter (e.g. max_wait_days).
MAX_INT_PARAM = 100_000


@dataclass(frozen=True)
class Filter:
    """One condition on a survey answer.

    choice items: the answer is any of `values`; multi items: the answer holds all `values`;
    integer items: the answer is at most `max_value` (parameter `max_<key>` unless renamed).
    """

    item: Item
    values: tuple[str, ...] = ()
    max_value: int | None = None


def filter_items(questionnaire: Questionnaire) -> list[Item]:
    """Return the items a referrer can filter on."""
    return [item for item in questionnaire.items if item.filter]
