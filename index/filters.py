"""Search filters derived from the questionnaire: every filter item is a parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from surveys.questionnaire import Item, Questionnaire

# Largest value of an integer filter parameter (e.g. max_wait_days).
MAX_INT_PARAM = 100_000
# Filter items read as part of the mother's situation (the `trimester` parameter).
SITUATION_ITEMS = ("pregnant_trimester",)


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


# The mother's situation ------------------------------------------------------------------------

SITUATIONS = ("pregnant", "postpartum")
ACCEPTING = ("yes", "conditional")
TRIMESTERS = ("first", "second", "third")
MAX_MONTHS_POSTPARTUM = 12  # the survey asks about "up to one year after birth"


@dataclass(frozen=True)
class Situation:
    """The mother's situation as a referrer describes it (nothing about her is stored).

    `kinds` empty means "not said": a facility then qualifies by accepting either kind.
    """

    kinds: tuple[str, ...] = ()
    trimester: tuple[str, ...] = ()
    months_postpartum: int | None = None
    breastfeeding: bool = False
    needs_rx: bool = False
    new_patient: bool = True

    @property
    def tokens(self) -> tuple[str, ...]:
        """Return the `accepts` index terms a facility needs (any of them when kinds is empty)."""
        suffix = "_new" if self.new_patient else ""
        return tuple(f"{kind}{suffix}" for kind in (self.kinds or SITUATIONS))

    @property
    def needs_all(self) -> bool:
        """Tell whether every token is needed (kinds given) or any one will do."""
        return bool(self.kinds)


def accepted_situations(answers: Mapping[str, object]) -> list[str]:
    """Return the `accepts` terms of a facility's answers.

    `pregnant` / `postpartum`: the answer is yes or conditional; `<kind>_new`: also for a new
    patient, i.e. not 「通院中の方のみ」 and not closed to new patients.
    """
    terms = []
    open_to_new = answers.get("new_patients") != "no"
    for kind in SITUATIONS:
        if answers.get(kind) in ACCEPTING:
            terms.append(kind)
            if open_to_new and answers.get(f"{kind}_patients") != "existing_only":
                terms.append(f"{kind}_new")
    return terms


def acceptance_strength(answers: Mapping[str, object], kind: str) -> int:
    """Return 2 for yes, 1 for conditional, 0 for no / unknown, -1 for no answer."""
    value = answers.get(kind)
    return {"yes": 2, "conditional": 1}.get(str(value), -1 if value is None else 0)


def situation_filters(questionnaire: Questionnaire, situation: Situation) -> list[Filter]:
    """Return the prescribing and stage filters a situation implies."""
    filters = []
    if situation.trimester:
        filters.append(Filter(questionnaire.item("pregnant_trimester"), situation.trimester))
    if situation.needs_rx and "pregnant" in situation.kinds:
        filters.append(Filter(questionnaire.item("pregnancy_rx"), ("yes", "consult")))
    if situation.needs_rx and situation.breastfeeding:
        filters.append(Filter(questionnaire.item("breastfeeding_rx"), ("yes", "consult")))
    return filters
