"""Search filters derived from the questionnaire: every filter item is a parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from index.errors import InvalidParameter
from surveys.numbers import whole_number
from surveys.questionnaire import Item, Questionnaire

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


def parse_filters(questionnaire: Questionnaire, params: Mapping[str, str]) -> list[Filter]:
    """Read every filter parameter present; raise InvalidParameter naming a bad one."""
    filters = []
    for item in filter_items(questionnaire):
        raw = params.get(item.search_param)
        if raw is None or not str(raw).strip():
            continue
        filters.append(_parse_one(item, str(raw)))
    return filters


def _parse_one(item: Item, raw: str) -> Filter:
    """Parse one parameter value."""
    name = item.search_param
    if item.type == "integer":
        return Filter(item, max_value=_parse_int(name, raw))
    values = tuple(dict.fromkeys(v.strip() for v in raw.split(",") if v.strip()))
    allowed = [c.value for c in item.choices]
    bad = [v for v in values if v not in allowed]
    if bad or not values:
        shown = ", ".join(allowed)
        raise InvalidParameter(
            name,
            f"「{name}」には次のいずれかを指定してください: {shown}",
            f"'{name}' must be one or more of: {shown} (comma-separated).",
        )
    return Filter(item, values=values)


def _parse_int(name: str, raw: str) -> int:
    """Parse a non-negative whole number parameter."""
    value = whole_number(raw, MAX_INT_PARAM)
    if value is None:
        raise InvalidParameter(
            name,
            f"「{name}」は0〜{MAX_INT_PARAM}の整数で指定してください。",
            f"'{name}' must be a whole number from 0 to {MAX_INT_PARAM}.",
        )
    return value
