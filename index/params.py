"""Search parameters, parsed beside the filters they build: one table says how the page and the
API read each one and how the OpenAPI document describes it, so the two cannot drift. To add a
parameter, add a `Param` to `FIXED` or `SITUATION` (or an item with `filter = true` to the
questionnaire) and read its value in `parse_search`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from index.errors import InvalidParameter
from index.filters import (
    MAX_INT_PARAM,
    MAX_MONTHS_POSTPARTUM,
    SITUATION_ITEMS,
    SITUATIONS,
    TRIMESTERS,
    Filter,
    Situation,
    filter_items,
    situation_filters,
)
from index.geo.areas import municipality_at
from index.geo.gazetteer import five_digit_code, municipality_by_code
from index.geo.locators import Locator
from index.param_kinds import Param
from index.searcher import SORTS, SearchRequest
from surveys.numbers import DATABASE_INT_MAX
from surveys.questionnaire import Item, Questionnaire

MAX_PER_PAGE = 100
MAX_PAGE = 1000
MAX_RADIUS_KM = 300.0

# Error codes of a 400 (the `code` of the error body).
INVALID = "invalid_parameter"
MISSING = "missing_parameter"
UNKNOWN_MUNICIPALITY = "unknown_municipality"
PLACE_NOT_UNDERSTOOD = "place_not_understood"
# Codes a well-formed value can still get: the check needs data (what the document cannot list).
DATA_CODES = {
    MISSING: "a parameter that needs another one came without it (lat and lng go together; "
    "trimester needs situation=pregnant, months_postpartum needs situation=postpartum)",
    UNKNOWN_MUNICIPALITY: "a well-formed municipality code that is not in the bundled gazetteer",
    PLACE_NOT_UNDERSTOOD: "`near` names no address, station, postal code or municipality known "
    "(the body then holds `suggestions`)",
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
        "Order. Default `recommended` (おすすめ: one score of distance, acceptance strength, the "
        "answer's age, wait and open could-not-book reports; see README), or `relevance` for q "
        "without a place. Accepting facilities come first in every order.",
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
    Param(
        "place_municipality",
        "text",
        "The municipality of the point lat/lng when the caller knows it (5-digit code, or 6 "
        "digits with its check digit): `local_contacts` then lists that municipality's contact "
        "points. Without it the municipality is read from the point, and none is named when "
        "the point lies about equally near two. Ignored without lat and lng; filters nothing.",
        pattern="^[0-9]{5,6}$",
        data_codes=(UNKNOWN_MUNICIPALITY,),
        example="131083",
        label_ja="基準地点の市区町村（place_municipality）",
        rule=(
            "5桁または6桁の市区町村コード（例: 131083）です。",
            "must be a 5- or 6-digit municipality code (e.g. 131083).",
        ),
    ),
    Param(
        "partner_of",
        "integer",
        "A referring obstetric unit (its facility id): in the recommended order, facilities "
        "whose answer names it as a partner move up (see README) and say so (rank reason "
        "`partner`). An id that names no obstetric unit (e.g. one removed since) changes "
        "nothing; `notice` then says so (`unknown_partner`).",
        1,
        DATABASE_INT_MAX,
        label_ja="連携先の産科（partner_of）",
        rule=(
            "医療機関の番号（1以上の整数）で指定してください。",
            "must be a facility id (a whole number from 1).",
        ),
        example=1,
    ),
)


SITUATION = (
    Param(
        "situation",
        "enum",
        "The mother's situation; repeat for both. Only facilities accepting it (yes or "
        "conditional; for a new patient not existing-patients-only and open to new patients) "
        "are listed. Absent: accepting pregnant or postpartum patients.",
        values=SITUATIONS,
        repeatable=True,
        label_ja="状況（situation）",
        rule=(
            "pregnant（妊娠中）か postpartum（産後）で指定してください。",
            "must be pregnant or postpartum (repeat it for both).",
        ),
        example="pregnant",
    ),
    Param(
        "trimester",
        "choices",
        "Stage of pregnancy (comma-separated); needs situation=pregnant.",
        values=TRIMESTERS,
        data_codes=(MISSING,),
        label_ja="妊娠時期（trimester）",
    ),
    Param(
        "months_postpartum",
        "integer",
        "Months since birth; needs situation=postpartum. The survey covers the first year.",
        0,
        MAX_MONTHS_POSTPARTUM,
        data_codes=(MISSING,),
        label_ja="産後の月数（months_postpartum）",
        rule=(
            f"0〜{MAX_MONTHS_POSTPARTUM}の整数で指定してください"
            "（このナビは出産後1年以内の方の受け入れを掲載しています）。",
            f"must be a whole number from 0 to {MAX_MONTHS_POSTPARTUM}"
            " (the directory lists care up to one year after birth).",
        ),
    ),
    Param("breastfeeding", "boolean", "She is breastfeeding.", default=False),
    Param(
        "needs_rx",
        "boolean",
        "She needs psychotropic medication: prescribing in pregnancy (situation=pregnant) or "
        "while breastfeeding (breastfeeding=true) must be yes or after consultation.",
        default=False,
    ),
    Param("new_patient", "boolean", "She is new to the facility.", default=True),
    Param(
        "include_declined",
        "boolean",
        "Also list facilities that decline or have not answered, after all accepting ones "
        "(their `accepts` is false or null).",
        default=False,
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


def _filter_params(questionnaire: Questionnaire) -> list[Param]:
    """Return the answer filters (the stage of pregnancy is read with the situation)."""
    items = filter_items(questionnaire)
    return [filter_param(item) for item in items if item.key not in SITUATION_ITEMS]


def search_params(questionnaire: Questionnaire) -> list[Param]:
    """Return every parameter of the search, in the order they are checked."""
    return [*FIXED, *SITUATION, *_filter_params(questionnaire)]


def parse_filters(questionnaire: Questionnaire, params: Mapping[str, str]) -> list[Filter]:
    """Read just the filter parameters given (the benchmark builds requests from them)."""
    specs = _filter_params(questionnaire)
    return [f for spec in specs if (f := _filter(spec, spec.read(params))) is not None]


@dataclass(frozen=True)
class Origin:
    """Where distances are measured from, and how we understood it."""

    lat: float
    lng: float
    label: str
    level: str
    prefecture: str = ""
    suggestions: tuple[str, ...] = ()  # close names, when the place matched only loosely
    municipality_code: str = ""  # the place's municipality (5 digits; "" when not known)


def parse_search(
    params: Mapping[str, str], questionnaire: Questionnaire, professional: bool, locator: Locator
) -> tuple[SearchRequest, Origin | None]:
    """Validate every parameter; raise InvalidParameter naming the first bad one."""
    specs = search_params(questionnaire)
    values = {spec.name: spec.read(params) for spec in specs}
    _check_municipality(values["municipality"])
    origin = _origin(values, locator)
    situation = _situation(values)
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
        situation=situation,
        situation_filters=tuple(situation_filters(questionnaire, situation)),
        include_declined=_or(values["include_declined"], False),
        partner_of=values["partner_of"],
    )
    return request, origin


def parse_origin(params: Mapping[str, str], locator: Locator) -> Origin | None:
    """Read just the place parameters (lat, lng, near) and locate the origin."""
    values = {spec.name: spec.read(params) for spec in FIXED if spec.name in ORIGIN_PARAMS}
    return _origin(values, locator)


ORIGIN_PARAMS = ("lat", "lng", "near", "place_municipality")


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


def _situation(values: Mapping[str, Any]) -> Situation:
    """Return the mother's situation; a stage needs its situation said."""
    kinds = tuple(kind for kind in SITUATIONS if kind in (values["situation"] or ()))
    # Older API clients name the stage beside the raw `pregnant` answer filter.
    if values["trimester"] and "pregnant" not in kinds and not values.get("pregnant"):
        raise InvalidParameter(
            "trimester",
            "妊娠時期（trimester）は、状況に「妊娠中」（situation=pregnant）を選んだときに"
            "指定してください。",
            "'trimester' needs situation=pregnant.",
            MISSING,
        )
    if values["months_postpartum"] is not None and "postpartum" not in kinds:
        raise InvalidParameter(
            "months_postpartum",
            "産後の月数（months_postpartum）は、状況に「産後」（situation=postpartum）を"
            "選んだときに指定してください。",
            "'months_postpartum' needs situation=postpartum.",
            MISSING,
        )
    return Situation(
        kinds=kinds,
        trimester=values["trimester"] or (),
        months_postpartum=values["months_postpartum"],
        breastfeeding=_or(values["breastfeeding"], False),
        needs_rx=_or(values["needs_rx"], False),
        new_patient=_or(values["new_patient"], True),
    )


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


def _place_municipality(code: str | None) -> str:
    """Return the 5-digit code of a known place's municipality ("" when none was given)."""
    if not code:
        return ""
    five = five_digit_code(code)
    if municipality_by_code(five) is None:
        raise InvalidParameter(
            "place_municipality",
            f"市区町村コード「{code}」は見つかりません。5桁または6桁の市区町村コード"
            "（例: 131083）です。",
            f"No municipality has the code '{code}'; give a 5- or 6-digit municipality code "
            "(e.g. 131083).",
            UNKNOWN_MUNICIPALITY,
        )
    return five


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
        code = _place_municipality(values.get("place_municipality"))
        return Origin(
            lat, lng, "", "coordinates", municipality_code=code or municipality_at(lat, lng)
        )
    if not values["near"]:
        return None
    found = locator.geocode(values["near"])
    code = found.municipality_code
    if not code and found.level != "prefecture":
        code = municipality_at(found.lat, found.lng, found.prefecture)
    return Origin(
        found.lat,
        found.lng,
        found.label,
        found.level,
        found.prefecture,
        found.suggestions,
        five_digit_code(code) if code else "",
    )
