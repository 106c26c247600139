"""The OpenAPI 3 description, with one parameter per filterable questionnaire item."""

from __future__ import annotations

from typing import Any

from index.filters import (
    MAX_MONTHS_POSTPARTUM,
    SITUATION_ITEMS,
    SITUATIONS,
    TRIMESTERS,
    filter_items,
)
from index.searcher import SORTS
from surveys.questionnaire import Item, Questionnaire

ERROR = {"$ref": "#/components/schemas/Error"}


def openapi_document(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return the OpenAPI document for this questionnaire edition."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "妊産婦こころの医療機関ナビ API",
            "version": "1",
            "description": "Search psychiatric facilities that see pregnant and postpartum "
            "patients. Without a token only public listings and public answers are returned; "
            "a staff token (Authorization: Bearer ...) sees everything.",
        },
        "paths": {
            "/api/v1/search": {"get": _search_operation(questionnaire)},
            "/api/v1/facilities/{id}": {"get": _detail_operation()},
            "/healthz": {"get": _health_operation()},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(questionnaire),
        },
        "security": [{}, {"bearer": []}],
    }


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Return a query parameter description."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _search_operation(questionnaire: Questionnaire) -> dict[str, Any]:
    """Describe GET /api/v1/search."""
    base = [
        _param(
            "q",
            "Words to find in names, kana, addresses, notes",
            {"type": "string", "maxLength": 200},
        ),
        _param(
            "near",
            "A place: address, station, postal code or municipality (geocoded offline)",
            {"type": "string", "maxLength": 200},
        ),
        _param(
            "lat",
            "Latitude of the origin (with lng)",
            {"type": "number", "minimum": -90, "maximum": 90},
        ),
        _param(
            "lng",
            "Longitude of the origin (with lat)",
            {"type": "number", "minimum": -180, "maximum": 180},
        ),
        _param(
            "radius_km",
            "Radius around the origin",
            {"type": "number", "default": 10, "minimum": 0.1, "maximum": 300},
        ),
        _param(
            "sort",
            "Order. Default `recommended` (おすすめ: one score of distance, acceptance "
            "strength, the answer's age, wait and open could-not-book reports; see README), "
            "or `relevance` for q without a place. Accepting facilities come first in every "
            "order.",
            {"type": "string", "enum": list(SORTS)},
        ),
        _param(
            "page", "Page number", {"type": "integer", "default": 1, "minimum": 1, "maximum": 1000}
        ),
        _param(
            "per_page",
            "Results per page",
            {"type": "integer", "default": 20, "minimum": 1, "maximum": 100},
        ),
        _param(
            "municipality", "5-digit municipality code", {"type": "string", "pattern": "^[0-9]{5}$"}
        ),
    ]
    filters = [
        _filter_param(item)
        for item in filter_items(questionnaire)
        if item.key not in SITUATION_ITEMS
    ]
    return {
        "summary": "Search facilities",
        "parameters": base + _situation_params() + filters,
        "responses": {
            "200": _json({"$ref": "#/components/schemas/SearchResponse"}, "A page of results"),
            "400": _json(ERROR, "A parameter is invalid (field names it)"),
            "503": _json(ERROR, "The search index is being prepared"),
        },
    }


def _situation_params() -> list[dict[str, Any]]:
    """Describe the mother's situation: it decides which facilities are listed."""
    flag = {"type": "boolean", "default": False}
    return [
        {
            **_param(
                "situation",
                "The mother's situation; repeat for both. Only facilities accepting it "
                "(yes or conditional; for a new patient not existing-patients-only and open to "
                "new patients) are listed. Absent: accepting pregnant or postpartum patients.",
                {"type": "array", "items": {"type": "string", "enum": list(SITUATIONS)}},
            ),
            "style": "form",
            "explode": True,
        },
        _param(
            "trimester",
            "Stage of pregnancy (needs situation=pregnant)",
            {"type": "string", "enum": list(TRIMESTERS)},
        ),
        _param(
            "months_postpartum",
            "Months since birth (needs situation=postpartum); the survey covers the first year",
            {"type": "integer", "minimum": 0, "maximum": MAX_MONTHS_POSTPARTUM},
        ),
        _param("breastfeeding", "She is breastfeeding", flag),
        _param(
            "needs_rx",
            "She needs psychotropic medication: prescribing in pregnancy (pregnant) or while "
            "breastfeeding (breastfeeding) must be yes or after consultation",
            flag,
        ),
        _param("new_patient", "She is new to the facility", {"type": "boolean", "default": True}),
        _param(
            "include_declined",
            "Also list facilities that decline or have not answered, after all accepting ones "
            "(their `accepts` is false or null)",
            flag,
        ),
    ]


def _filter_param(item: Item) -> dict[str, Any]:
    """Describe the parameter of one filter item."""
    if item.type == "integer":
        schema: dict[str, Any] = {"type": "integer", "minimum": 0}
        return _param(
            item.search_param, f"{item.label_en}: at most this many {item.unit_en}", schema
        )
    values = [c.value for c in item.choices]
    rule = "has all of" if item.type == "multi" else "is any of"
    description = f"{item.label_en} ({item.label_ja}): answer {rule} these, comma-separated"
    return _param(
        item.search_param,
        description,
        {"type": "string", "pattern": f"^({'|'.join(values)})(,({'|'.join(values)}))*$"},
    )


def _detail_operation() -> dict[str, Any]:
    """Describe GET /api/v1/facilities/{id}."""
    return {
        "summary": "One facility with its current answers",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "responses": {
            "200": _json({"$ref": "#/components/schemas/Facility"}, "The facility"),
            "404": _json(ERROR, "No such facility, or not public"),
        },
    }


def _health_operation() -> dict[str, Any]:
    """Describe GET /healthz."""
    schema = {
        "type": "object",
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "facilities": {"type": "integer"},
            "index": {"type": "object"},
        },
    }
    return {
        "summary": "Health",
        "responses": {"200": _json(schema, "Healthy"), "503": _json(schema, "Index unavailable")},
    }


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """Return a JSON response description."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _schemas(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return the component schemas."""
    nullable_number = {"type": "number", "nullable": True}
    facility = {
        "type": "object",
        "required": ["id", "name", "answers"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kana": {"type": "string"},
            "kind": {"type": "string", "enum": ["hospital", "clinic"]},
            "address": {"type": "string"},
            "postal_code": {"type": "string"},
            "lat": nullable_number,
            "lng": nullable_number,
            "distance_km": nullable_number,
            "municipality_code": {"type": "string"},
            "phone": {"type": "string"},
            "website": {"type": "string"},
            "hours": {"type": "string"},
            "verified_on": {"type": "string", "format": "date", "nullable": True},
            "answers": {
                "type": "object",
                "description": "Answers keyed by questionnaire item "
                f"(edition {questionnaire.version}); public fields only without a token",
            },
        },
    }
    origin = {
        "type": "object",
        "nullable": True,
        "properties": {
            "lat": {"type": "number"},
            "lng": {"type": "number"},
            "label": {"type": "string"},
            "level": {"type": "string"},
        },
    }
    return {
        "Facility": facility,
        "SearchResult": _search_result(),
        "SearchResponse": {
            "type": "object",
            "properties": {
                "total": {"type": "integer", "description": "Results listed (all pages)"},
                "declined_total": {
                    "type": "integer",
                    "description": "Facilities in range that decline or have not answered "
                    "(listed only with include_declined)",
                },
                "page": {"type": "integer"},
                "per_page": {"type": "integer"},
                "sort": {"type": "string"},
                "origin": origin,
                "results": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/SearchResult"},
                },
            },
        },
        "Error": {
            "type": "object",
            "properties": {
                "error": {
                    "type": "object",
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {"type": "string", "nullable": True},
                    },
                }
            },
        },
    }


def _search_result() -> dict[str, Any]:
    """Describe one search result: a facility, whether it accepts, and why it is there."""
    reason = {
        "type": "object",
        "properties": {
            "kind": {
                "type": "string",
                "enum": [
                    "not_accepting",
                    "unanswered",
                    "distance",
                    "conditional",
                    "wait",
                    "verified",
                    "stale",
                    "reports",
                ],
            },
            "value": {
                "nullable": True,
                "description": "km, days, an ISO date or a report count, by kind",
            },
            "text": {"type": "string", "description": "The reason in the response language"},
        },
    }
    return {
        "allOf": [
            {"$ref": "#/components/schemas/Facility"},
            {
                "type": "object",
                "properties": {
                    "accepts": {
                        "type": "boolean",
                        "nullable": True,
                        "description": "Accepts the situation asked (null: not answered)",
                    },
                    "rank_reasons": {
                        "type": "array",
                        "items": reason,
                        "description": "Why the result is where it is, e.g. "
                        "「2.1 km・7日以内・2026年11月確認」",
                    },
                },
            },
        ]
    }
