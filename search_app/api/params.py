"""Read search parameters (API and, later, the HTML search) into a SearchRequest."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from index.errors import InvalidParameter
from index.filters import parse_filters, parse_flag, parse_situation
from index.gazetteer import municipality_by_code
from index.locators import Locator
from index.searcher import SORTS, SearchRequest
from surveys.numbers import whole_number
from surveys.questionnaire import Questionnaire

MAX_TEXT = 200
MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_RADIUS_KM = 300.0
MAX_NUMBER_TEXT = 32  # longer than any number these parameters accept (checked before parsing)


@dataclass(frozen=True)
class Origin:
    """Where distances are measured from, and how we understood it."""

    lat: float
    lng: float
    label: str
    level: str
    prefecture: str = ""
    suggestions: tuple[str, ...] = ()  # close names, when the place matched only loosely


def parse_search(
    params: Mapping[str, str], questionnaire: Questionnaire, professional: bool, locator: Locator
) -> tuple[SearchRequest, Origin | None]:
    """Validate every parameter; raise InvalidParameter naming the first bad one."""
    origin = parse_origin(params, locator)
    situation, situation_filters = parse_situation(questionnaire, params)
    request = SearchRequest(
        q=_text(params, "q"),
        filters=tuple(parse_filters(questionnaire, params)),
        municipality=_municipality(params),
        origin=(origin.lat, origin.lng) if origin else None,
        radius_km=_number(params, "radius_km", 10.0, 0.1, MAX_RADIUS_KM),
        sort=_choice(params, "sort", SORTS),
        page=int(_number(params, "page", 1, 1, MAX_PAGE, whole=True)),
        per_page=int(_number(params, "per_page", 20, 1, MAX_PER_PAGE, whole=True)),
        professional=professional,
        situation=situation,
        situation_filters=tuple(situation_filters),
        include_declined=parse_flag(params, "include_declined", False),
    )
    return request, origin


def _bad(field: str, ja: str, en: str) -> InvalidParameter:
    """Build the error for one parameter."""
    return InvalidParameter(field, ja, en)


def _text(params: Mapping[str, str], name: str) -> str:
    """Return a free-text parameter, bounded in length and free of control characters."""
    value = params.get(name, "") or ""
    if len(value) > MAX_TEXT:
        raise _bad(
            name,
            f"「{name}」は{MAX_TEXT}文字以内にしてください。",
            f"'{name}' must be at most {MAX_TEXT} characters.",
        )
    return "".join(ch if ch.isprintable() else " " for ch in value).strip()


def _number(params, name: str, default: float, low: float, high: float, whole=False) -> float:
    """Return a number within [low, high], the default when absent."""
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    value = _whole(raw, low, high) if whole else _float(raw)
    if not (low <= value <= high):
        kind_ja, kind_en = ("整数", "a whole number") if whole else ("数値", "a number")
        raise _bad(
            name,
            f"「{name}」は{low:g}〜{high:g}の{kind_ja}で指定してください。",
            f"'{name}' must be {kind_en} from {low:g} to {high:g}.",
        )
    return value


def _whole(raw: str, low: float, high: float) -> float:
    """Return a whole number (bounded by its length before conversion), NaN when not one."""
    value = whole_number(raw, int(high), int(low))
    return math.nan if value is None else value


def _float(raw: str) -> float:
    """Return a decimal number, NaN when not one (or longer than any valid value)."""
    if len(raw) > MAX_NUMBER_TEXT:
        return math.nan
    try:
        return float(raw)
    except ValueError:
        return math.nan


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...]) -> str:
    """Return one of the allowed values, or '' when absent."""
    value = (params.get(name) or "").strip()
    if value and value not in allowed:
        shown = ", ".join(allowed)
        raise _bad(
            name, f"「{name}」は次のいずれかです: {shown}", f"'{name}' must be one of: {shown}."
        )
    return value


def _municipality(params: Mapping[str, str]) -> str:
    """Return a known 5-digit municipality code, or ''."""
    code = (params.get("municipality") or "").strip()
    if code and (
        not (code.isascii() and code.isdigit() and len(code) == 5)
        or municipality_by_code(code) is None
    ):
        raise _bad(
            "municipality",
            "「municipality」は5桁の市区町村コード（例: 13108）です。",
            "'municipality' must be a known 5-digit municipality code (e.g. 13108).",
        )
    return code


def parse_origin(params: Mapping[str, str], locator: Locator) -> Origin | None:
    """Locate the origin from lat/lng or from a typed place (`near`)."""
    if params.get("lat") or params.get("lng"):
        lat = _number(params, "lat", math.nan, -90, 90)
        lng = _number(params, "lng", math.nan, -180, 180)
        if math.isnan(lat) or math.isnan(lng):
            field = "lng" if math.isnan(lng) else "lat"
            raise _bad(
                field,
                "緯度（lat）と経度（lng）は両方指定してください。",
                "Give both 'lat' and 'lng'.",
            )
        return Origin(lat, lng, "", "coordinates")
    near = _text(params, "near")
    if not near:
        return None
    found = locator.geocode(near)
    return Origin(
        found.lat, found.lng, found.label, found.level, found.prefecture, found.suggestions
    )
