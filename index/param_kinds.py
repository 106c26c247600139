"""The kinds of search parameter: how a `Param` reads one value and how it describes it in the
OpenAPI document (the table itself is in index/params.py)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from index.errors import InvalidParameter
from surveys.numbers import whole_number
from surveys.questionnaire import Item

MAX_TEXT = 200
# Longest decimal number text read at all: float() of thousands of digits is slow, then refused.
MAX_NUMBER_CHARS = 32

_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
NO_NUL = "^[^\\u0000]*$"


@dataclass(frozen=True)
class Param:
    """One query parameter of the search: its kind, bounds and the errors it can cause.

    kind: text | number | integer | boolean (`true` / `false`) | enum (one of `values`) |
    choices (comma-separated `values`).
    An empty value means the same as an absent one; other values are read exactly as given
    (no trimming: " 5" is no integer), except that text is trimmed after checking. A
    `repeatable` parameter may be given more than once and reads as a tuple of distinct values.
    `data_codes` name the 400s a well-formed value can still get (see DATA_CODES).
    """

    name: str
    kind: str
    description: str
    minimum: float | None = None
    maximum: float | None = None
    default: float | int | bool | None = None
    values: tuple[str, ...] = ()
    max_length: int = MAX_TEXT
    pattern: str = ""
    repeatable: bool = False
    data_codes: tuple[str, ...] = ()
    item: Item | None = None
    # (ja, en) of "must be ..." when the kind's own wording does not fit.
    rule: tuple[str, str] | None = None
    # How a Japanese message names the parameter, e.g. 産後の月数（months_postpartum）.
    label_ja: str = ""
    example: str | float | None = None

    def read(self, params: Mapping[str, str]) -> Any:
        """Return the checked value (a tuple when repeatable), None when absent or empty."""
        raws = [raw for raw in _given(params, self.name, self.repeatable) if raw != ""]
        if self.repeatable:
            return tuple(dict.fromkeys(self._one(raw) for raw in raws)) or None
        return self._one(raws[0]) if raws else None

    def _one(self, raw: str) -> Any:
        """Check one non-empty value; raise InvalidParameter saying what is allowed."""
        value = _READERS[self.kind](self, raw)
        if value is None:
            raise self.invalid()
        return value

    def invalid(self) -> InvalidParameter:
        """Return the error saying what this parameter accepts."""
        ja, en = self.rule or _RULES[self.kind](self)
        label = self.label_ja or f"「{self.name}」"
        return InvalidParameter(self.name, f"{label}は{ja}", f"'{self.name}' {en}")

    def schema(self) -> dict[str, Any]:
        """Return the JSON schema of one value, as the server checks it."""
        schema = _SCHEMAS[self.kind](self)
        if self.default is not None:
            schema["default"] = self.default
        if self.repeatable:
            return {"type": "array", "items": schema}
        return schema


def _given(params: Mapping[str, str], name: str, repeatable: bool) -> list[str]:
    """Return the values given for a name: all of them when repeatable, else the first."""
    if hasattr(params, "getlist"):
        values = params.getlist(name)
    else:
        value = params.get(name)
        values = [] if value is None else list(value) if isinstance(value, list) else [value]
    return [str(v) for v in (values if repeatable else values[:1])]


def _read_text(param: Param, raw: str) -> str | None:
    """Free text: bounded, no NUL; other control characters become spaces."""
    if len(raw) > param.max_length or "\x00" in raw:
        return None
    if param.pattern and not re.fullmatch(param.pattern, raw):
        return None
    return "".join(ch if ch.isprintable() else " " for ch in raw).strip()


def _read_number(param: Param, raw: str) -> float | None:
    """A decimal number (ASCII, optional exponent) within the bounds."""
    if len(raw) > MAX_NUMBER_CHARS or not _NUMBER.fullmatch(raw):
        return None
    value = float(raw)
    return value if _within(param, value) else None


def _read_integer(param: Param, raw: str) -> int | None:
    """A whole number (ASCII digits, bounded by length before conversion) within the bounds."""
    if raw != raw.strip():
        return None  # read exactly as given, like every other kind
    return whole_number(raw, int(param.maximum), int(param.minimum or 0))


def _within(param: Param, value: float) -> bool:
    """Tell whether a number lies within the parameter's bounds."""
    low = -math.inf if param.minimum is None else param.minimum
    high = math.inf if param.maximum is None else param.maximum
    return low <= value <= high


def _read_boolean(_param: Param, raw: str) -> bool | None:
    """`true` or `false`, as OpenAPI clients write a boolean in a URL."""
    return {"true": True, "false": False}.get(raw)


def _read_enum(param: Param, raw: str) -> str | None:
    """Exactly one of the values."""
    return raw if raw in param.values else None


def _read_choices(param: Param, raw: str) -> tuple[str, ...] | None:
    """One or more of the values, comma-separated (repeats count once)."""
    values = raw.split(",")
    return tuple(dict.fromkeys(values)) if all(v in param.values for v in values) else None


def _bounds_ja(param: Param) -> str:
    """Say the bounds in Japanese."""
    return f"{param.minimum:g}〜{param.maximum:g}"


_READERS = {
    "text": _read_text,
    "number": _read_number,
    "integer": _read_integer,
    "boolean": _read_boolean,
    "enum": _read_enum,
    "choices": _read_choices,
}
_RULES = {
    "text": lambda p: (
        f"{p.max_length}文字以内で指定してください。",
        f"must be at most {p.max_length} characters.",
    ),
    "number": lambda p: (
        f"{_bounds_ja(p)}の数値で指定してください。",
        f"must be a number from {p.minimum:g} to {p.maximum:g}.",
    ),
    "integer": lambda p: (
        f"{_bounds_ja(p)}の整数で指定してください。",
        f"must be a whole number from {p.minimum:g} to {p.maximum:g}.",
    ),
    "boolean": lambda p: ("true または false で指定してください。", "must be true or false."),
    "enum": lambda p: (
        f"次のいずれかで指定してください: {', '.join(p.values)}",
        f"must be one of: {', '.join(p.values)}.",
    ),
    "choices": lambda p: (
        f"次の値をカンマ区切りで指定してください: {', '.join(p.values)}",
        f"must be one or more of: {', '.join(p.values)} (comma-separated).",
    ),
}


def _choices_pattern(values: tuple[str, ...]) -> str:
    """Return the pattern of a comma-separated list of values."""
    one = "|".join(re.escape(v) for v in values)
    return f"^({one})(,({one}))*$"


_SCHEMAS = {
    "text": lambda p: {"type": "string", "maxLength": p.max_length, "pattern": p.pattern or NO_NUL},
    "number": lambda p: {"type": "number", "minimum": p.minimum, "maximum": p.maximum},
    "integer": lambda p: {"type": "integer", "minimum": p.minimum, "maximum": p.maximum},
    "boolean": lambda p: {"type": "boolean"},
    "enum": lambda p: {"type": "string", "enum": list(p.values)},
    "choices": lambda p: {"type": "string", "pattern": _choices_pattern(p.values)},
}
