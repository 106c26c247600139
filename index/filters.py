"""Search filters derived from the questionnaire: every filter item is a parameter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from index.errors import InvalidParameter
from surveys.numbers import whole_number
from surveys.questionnaire import Item, Questionnaire

MAX_INT_PARAM = 100_000
# Filter items read as part of the mother's situation (parse_situation).
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


def parse_filters(questionnaire: Questionnaire, params: Mapping[str, str]) -> list[Filter]:
    """Read every filter parameter present; raise InvalidParameter naming a bad one.

    The stage of pregnancy belongs to the situation (parse_situation), not to this list.
    """
    filters = []
    for item in filter_items(questionnaire):
        if item.key in SITUATION_ITEMS:
            continue
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


# The mother's situation ------------------------------------------------------------------------

SITUATIONS = ("pregnant", "postpartum")
ACCEPTING = ("yes", "conditional")
TRIMESTERS = ("first", "second", "third")
MAX_MONTHS_POSTPARTUM = 12  # the survey asks about "up to one year after birth"
TRUE_WORDS = ("true", "1", "yes", "y", "on")
FALSE_WORDS = ("false", "0", "no", "n", "off")


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


def parse_situation(questionnaire: Questionnaire, params) -> tuple[Situation, list[Filter]]:
    """Read the situation parameters; return it and the answer filters it implies."""
    kinds = _situation_kinds(params)
    trimester = _trimesters(params)
    # Older API clients name the stage beside the raw `pregnant` answer filter.
    if trimester and "pregnant" not in kinds and not params.get("pregnant"):
        raise InvalidParameter(
            "trimester",
            "妊娠時期（trimester）は、状況に「妊娠中」（situation=pregnant）を選んだときに指定してください。",
            "'trimester' needs situation=pregnant.",
        )
    situation = Situation(
        kinds=kinds,
        trimester=trimester,
        months_postpartum=_months(params, "postpartum" in kinds),
        breastfeeding=parse_flag(params, "breastfeeding", False),
        needs_rx=parse_flag(params, "needs_rx", False),
        new_patient=parse_flag(params, "new_patient", True),
    )
    return situation, _situation_filters(questionnaire, situation)


def _situation_filters(questionnaire: Questionnaire, situation: Situation) -> list[Filter]:
    """Return the prescribing and stage filters a situation implies."""
    filters = []
    if situation.trimester:
        filters.append(Filter(questionnaire.item("pregnant_trimester"), situation.trimester))
    if situation.needs_rx and "pregnant" in situation.kinds:
        filters.append(Filter(questionnaire.item("pregnancy_rx"), ("yes", "consult")))
    if situation.needs_rx and situation.breastfeeding:
        filters.append(Filter(questionnaire.item("breastfeeding_rx"), ("yes", "consult")))
    return filters


def _values(params, name: str) -> list[str]:
    """Return every value of a repeatable parameter (also comma-separated)."""
    raw = params.getlist(name) if hasattr(params, "getlist") else [params.get(name) or ""]
    return [v.strip() for value in raw for v in str(value).split(",") if v.strip()]


def _situation_kinds(params) -> tuple[str, ...]:
    """Return the chosen situations, in a fixed order."""
    values = _values(params, "situation")
    if any(v not in SITUATIONS for v in values):
        raise InvalidParameter(
            "situation",
            "状況（situation）は pregnant（妊娠中）か postpartum（産後）で指定してください。",
            "'situation' must be pregnant or postpartum (repeat it for both).",
        )
    return tuple(kind for kind in SITUATIONS if kind in values)


def _trimesters(params) -> tuple[str, ...]:
    """Return the stages of pregnancy named (usually one)."""
    values = tuple(dict.fromkeys(_values(params, "trimester")))
    if any(v not in TRIMESTERS for v in values):
        shown = ", ".join(TRIMESTERS)
        raise InvalidParameter(
            "trimester",
            f"妊娠時期（trimester）は次のいずれかで指定してください: {shown}",
            f"'trimester' must be one of: {shown}.",
        )
    return values


def _months(params, postpartum: bool) -> int | None:
    """Return the months since birth (0-12), only with situation=postpartum."""
    raw = str(params.get("months_postpartum") or "").strip()
    if not raw:
        return None
    if not postpartum:
        raise InvalidParameter(
            "months_postpartum",
            "産後の月数（months_postpartum）は、状況に「産後」（situation=postpartum）を選んだときに指定してください。",
            "'months_postpartum' needs situation=postpartum.",
        )
    months = whole_number(raw, MAX_MONTHS_POSTPARTUM)
    if months is None:
        raise InvalidParameter(
            "months_postpartum",
            f"産後の月数（months_postpartum）は0〜{MAX_MONTHS_POSTPARTUM}の整数で指定してください"
            "（このナビは出産後1年以内の方の受け入れを掲載しています）。",
            f"'months_postpartum' must be a whole number from 0 to {MAX_MONTHS_POSTPARTUM}"
            " (the directory lists care up to one year after birth).",
        )
    return months


def parse_flag(params, name: str, default: bool) -> bool:
    """Return a true/false parameter."""
    raw = str(params.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw not in TRUE_WORDS + FALSE_WORDS:
        raise InvalidParameter(
            name,
            f"「{name}」は true か false で指定してください。",
            f"'{name}' must be true or false.",
        )
    return raw in TRUE_WORDS
