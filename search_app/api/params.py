"""Search parameters: one table says how the server reads each one and how the OpenAPI document
describes it, so the two cannot drift. To add a parameter, add a `Param` to `FIXED` (or an item
with `filter = true` to the questionnaire) and read its value in `parse_search`."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from index.errors import InvalidParameter
from index.filters import MAX_INT_PARAM, Filter, filter_items
from index.gazetteer import municipality_by_code
from index.locators import Locator
from index.searcher import SORTS, SearchRequest
from search_app.errors import PLACE_NOT_UNDERSTOOD
from surveys.questionnaire import Item, Questionnaire

MAX_TEXT = 200
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_RADIUS_KM = 300.0
# Longest number text read at all: int() of thousands of digits is slow, then refused.
MAX_NUMBER_CHARS = 32

# Error codes of a 400 (the `code` of the error body).
INVALID = "invalid_parameter"
MISSING = "missing_parameter"
UNKNOWN_MUNICIPALITY = "unknown_municipality"
# Codes a well-formed value can still get: the check needs data (what the document cannot list).
DATA_CODES = {
    MISSING: "a parameter that needs another one came without it (lat and lng go together)",
    UNKNOWN_MUNICIPALITY: "a well-formed municipality code that is not in the bundled gazetteer",
    PLACE_NOT_UNDERSTOOD: "`near` names no address, station, postal code or municipality known "
    "(the body then holds `suggestions`)",
}

_INTEGER = re.compile(r"-?[0-9]+")
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
    default: float | int | None = None
    values: tuple[str, ...] = ()
    max_length: int = MAX_TEXT
    pattern: str = ""
    repeatable: bool = False
    data_codes: tuple[str, ...] = ()
    item: Item | None = None
    # (ja, en) of "must be ..." when the kind's own wording does not fit.
    rule: tuple[str, str] | None = None
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
        return InvalidParameter(self.name, f"「{self.name}」は{ja}", f"'{self.name}' {en}")

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
    """A whole number (ASCII digits) within the bounds."""
    if len(raw) > MAX_NUMBER_CHARS or not _INTEGER.fullmatch(raw):
        return None
    value = int(raw)
    return value if _within(param, value) else None


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

FIXED = (
    Param("q", "text", "Words to find in names, kana, addresses and notes.", example="こころ"),
    Param(
        "near",
        "text",
        "A place: address, station, postal code or municipality (geocoded offline). "
        "Ignored when lat and lng are given.",
        data_codes=(PLACE_NOT_UNDERSTOOD,),
        example="錦糸町駅",
    ),
    Param(
        "lat", "number", "Latitude of the origin (give lng too).", -90, 90, data_codes=(MISSING,)
    ),
    Param(
        "lng", "number", "Longitude of the origin (give lat too).", -180, 180, data_codes=(MISSING,)
    ),
    Param("radius_km", "number", "Radius around the origin.", 0.1, MAX_RADIUS_KM, 10),
    Param(
        "sort",
        "enum",
        "Order; default distance with an origin, else relevance with q, else name.",
        values=SORTS,
    ),
    Param("page", "integer", "Page number.", 1, MAX_PAGE, 1),
    Param("per_page", "integer", "Results per page.", 1, MAX_PER_PAGE, 20),
    Param(
        "municipality",
        "text",
        "5-digit municipality code (全国地方公共団体コード without its check digit).",
        pattern="^[0-9]{5}$",
        data_codes=(UNKNOWN_MUNICIPALITY,),
        example="13108",
        rule=("5桁の市区町村コード（例: 13108）です。", "must be a 5-digit code (e.g. 13108)."),
    ),
)


def filter_param(item: Item) -> Param:
    """Return the parameter of one filter item of the questionnaire."""
    label = f"{item.label_en} ({item.label_ja})"
    if item.type == "integer":
        text = f"{label}: at most this many {item.unit_en}."
        return Param(item.search_param, "integer", text, 0, MAX_INT_PARAM, item=item)
    rule = "holds all of" if item.type == "multi" else "is any of"
    text = f"{label}: the answer {rule} these (comma-separated)."
    values = tuple(c.value for c in item.choices)
    return Param(item.search_param, "choices", text, values=values, item=item)


def search_params(questionnaire: Questionnaire) -> list[Param]:
    """Return every parameter of the search, in the order they are checked."""
    return [*FIXED, *(filter_param(item) for item in filter_items(questionnaire))]


def parse_filters(questionnaire: Questionnaire, params: Mapping[str, str]) -> list[Filter]:
    """Read just the filter parameters given (the benchmark builds requests from them)."""
    specs = [filter_param(item) for item in filter_items(questionnaire)]
    return [f for spec in specs if (f := _filter(spec, spec.read(params))) is not None]


@dataclass(frozen=True)
class Origin:
    """Where distances are measured from, and how we understood it."""

    lat: float
    lng: float
    label: str
    level: str


def parse_search(
    params: Mapping[str, str], questionnaire: Questionnaire, professional: bool, locator: Locator
) -> tuple[SearchRequest, Origin | None]:
    """Validate every parameter; raise InvalidParameter naming the first bad one."""
    specs = search_params(questionnaire)
    values = {spec.name: spec.read(params) for spec in specs}
    _check_municipality(values["municipality"])
    origin = _origin(values, locator)
    filters = [_filter(spec, values[spec.name]) for spec in specs if spec.item]
    request = SearchRequest(
        q=values["q"] or "",
        filters=tuple(f for f in filters if f is not None),
        municipality=values["municipality"] or "",
        origin=(origin.lat, origin.lng) if origin else None,
        radius_km=_or(values["radius_km"], 10.0),
        sort=values["sort"] or "",
        page=_or(values["page"], 1),
        per_page=_or(values["per_page"], 20),
        professional=professional,
    )
    return request, origin


def _or(value, default):
    """Return the value, or the default when the parameter was absent."""
    return default if value is None else value


def _filter(spec: Param, value) -> Filter | None:
    """Return the filter of a filter parameter's value (None when absent)."""
    if value is None:
        return None
    if spec.kind == "integer":
        return Filter(spec.item, max_value=value)
    return Filter(spec.item, values=value)


def _check_municipality(code: str | None) -> None:
    """Refuse a well-formed code that names no municipality we know."""
    if code and municipality_by_code(code) is None:
        raise InvalidParameter(
            "municipality",
            f"市区町村コード「{code}」は見つかりません。5桁の市区町村コード（例: 13108）です。",
            f"No municipality has the code '{code}'; give a 5-digit municipality code "
            "(e.g. 13108).",
            UNKNOWN_MUNICIPALITY,
        )


def _origin(values: Mapping[str, Any], locator: Locator) -> Origin | None:
    """Locate the origin from lat/lng or from a typed place (`near`)."""
    lat, lng = values["lat"], values["lng"]
    if lat is not None or lng is not None:
        if lat is None or lng is None:
            raise InvalidParameter(
                "lng" if lng is None else "lat",
                "緯度（lat）と経度（lng）は両方指定してください。",
                "Give both 'lat' and 'lng'.",
                MISSING,
            )
        return Origin(lat, lng, "", "coordinates")
    if not values["near"]:
        return None
    found = locator.geocode(values["near"])
    return Origin(found.lat, found.lng, found.label, found.level)
