"""The component schemas of the OpenAPI document: what the API answers with."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

from index.params import DATA_CODES, INVALID
from index.ranking import REASON_KINDS
from search_app.errors import INVALID_TOKEN, STATUS_CODES
from surveys.models import CONTACT_KINDS, FacilityPublic
from surveys.questionnaire import Questionnaire

ERROR_SCHEMA = {"$ref": "#/components/schemas/Error"}
COMPONENT_REF = "#/components/schemas/{model}"
NULL = {"type": "null"}
# Codes more precise than the status's own (the parameter table adds its data checks).
SPECIFIC_CODES = {
    INVALID: "a parameter's value breaks its schema (`field` names it)",
    **DATA_CODES,
    INVALID_TOKEN: "the bearer token is wrong, revoked or expired (401)",
    "index_unavailable": "the search index is being prepared (503; retry after Retry-After)",
}


def component_schemas(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return the component schemas; a facility's is its read model's."""
    facility, defs = model_schema(FacilityPublic)
    facility["properties"]["answers"]["description"] += f" (edition {questionnaire.version})"
    return {
        **defs,
        "Facility": facility,
        "SearchResult": _search_result_schema(),
        "SearchResponse": _search_response_schema(),
        "Health": _health_schema(),
        "Error": _error_schema(),
    }


def model_schema(model: type[SQLModel]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return a read model's schema in OpenAPI 3.0 terms, and the schemas it refers to."""
    schema = _openapi(model.model_json_schema(ref_template=COMPONENT_REF))
    return schema, schema.pop("$defs", {})


def _openapi(node: Any) -> Any:
    """Rewrite JSON Schema's `anyOf: [X, null]` as OpenAPI 3.0's nullable X, all the way down."""
    if isinstance(node, list):
        return [_openapi(value) for value in node]
    if not isinstance(node, dict):
        return node
    node = {key: _openapi(value) for key, value in node.items()}
    if NULL not in node.get("anyOf", ()):
        return node
    others = [option for option in node.pop("anyOf") if option != NULL]
    if len(others) > 1:
        return {**node, "anyOf": others, "nullable": True}
    only = others[0]
    if "$ref" in only:  # OpenAPI 3.0 ignores what stands beside a $ref
        only = {"allOf": [only]}
    return {**only, **node, "nullable": True}


def _search_response_schema() -> dict[str, Any]:
    """Describe a page of search results."""
    return {
        "type": "object",
        "required": [
            "total",
            "declined_total",
            "page",
            "per_page",
            "sort",
            "origin",
            "local_contacts",
            "results",
        ],
        "properties": {
            "total": {"type": "integer", "minimum": 0, "description": "Results (all pages)"},
            "declined_total": {
                "type": "integer",
                "minimum": 0,
                "description": "Facilities in range that decline or have not answered "
                "(listed only with include_declined)",
            },
            "notice": _notice_schema(),
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "sort": {"type": "string"},
            "origin": _origin_schema(),
            "local_contacts": _contacts_schema(),
            "results": {"type": "array", "items": {"$ref": "#/components/schemas/SearchResult"}},
        },
    }


def _origin_schema() -> dict[str, Any]:
    """Describe the place the search measured from."""
    return {
        "type": "object",
        "nullable": True,
        "required": ["lat", "lng", "label", "level"],
        "properties": {
            "lat": {"type": "number"},
            "lng": {"type": "number"},
            "label": {"type": "string"},
            "level": {"type": "string"},
            "prefecture": {"type": "string", "description": "The place's prefecture, if known"},
            "municipality_code": {
                "type": "string",
                "description": "The place's municipality (5 digits), or empty if not known",
            },
            "suggestions": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Close place names, when the place matched only loosely",
            },
        },
    }


def _notice_schema() -> dict[str, Any]:
    """Describe the note on a whole answer (outside the area, unknown partner)."""
    return {
        "type": "object",
        "nullable": True,
        "required": ["code", "message"],
        "description": "A note on the whole answer: the place is outside the directory's "
        "prefecture (`outside_area`), or else partner_of names no obstetric unit "
        "(`unknown_partner`; no partners preferred)",
        "properties": {
            "code": {"type": "string", "enum": ["outside_area", "unknown_partner"]},
            "message": {"type": "string", "description": "For people, in their language"},
        },
    }


def _contacts_schema() -> dict[str, Any]:
    """Describe the municipal contact points of the place searched."""
    return {
        "type": "object",
        "nullable": True,
        "required": ["municipality_code", "municipality", "contact_points"],
        "description": "「お住まいの地域の相談窓口」: the municipal contact points "
        "(こども家庭センター, 保健センター) of the municipality of the place searched; "
        "null without a place, when its municipality is not known, or when it has none",
        "properties": {
            "municipality_code": {"type": "string", "pattern": "^[0-9]{5}$"},
            "municipality": {"type": "string", "description": "Its name (Japanese)"},
            "contact_points": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name", "kind", "phone", "hours", "address"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "kind": {"type": "string", "enum": list(CONTACT_KINDS)},
                        "phone": {"type": "string"},
                        "hours": {"type": "string"},
                        "address": {"type": "string"},
                    },
                },
            },
        },
    }


def _search_result_schema() -> dict[str, Any]:
    """Describe one search result: a facility, whether it accepts, and why it is there."""
    reason = {
        "type": "object",
        "required": ["kind", "value", "text"],
        "properties": {
            "kind": {"type": "string", "enum": list(REASON_KINDS)},
            "value": {
                "description": "km, days, an ISO date, a report count or the capacity "
                "(room, little, none), by kind; or null (e.g. `partner`: works with the "
                "obstetric unit given as partner_of)"
            },
            "text": {"type": "string", "description": "The reason in the response language"},
        },
    }
    extra = {
        "type": "object",
        "required": ["accepts", "rank_reasons"],
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
    }
    return {"allOf": [{"$ref": "#/components/schemas/Facility"}, extra]}


def _health_schema() -> dict[str, Any]:
    """Describe the health report."""
    return {
        "type": "object",
        "required": ["status", "facilities", "index"],
        "properties": {
            "status": {"type": "string", "enum": ["ok", "degraded"]},
            "facilities": {"type": "integer", "minimum": 0},
            "index": {
                "type": "object",
                "required": ["state"],
                "properties": {
                    "state": {"type": "string", "enum": ["ok", "unavailable", "rebuilding"]},
                    "documents": {"type": "integer", "minimum": 0},
                    "pending": {"type": "integer", "minimum": 0},
                },
            },
        },
    }


def _error_schema() -> dict[str, Any]:
    """Describe the one error body of every API error."""
    codes = {**{code: f"HTTP {status}" for status, code in STATUS_CODES.items()}, **SPECIFIC_CODES}
    listed = "; ".join(f"`{code}`: {meaning}" for code, meaning in codes.items())
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": {"type": "string", "description": f"What went wrong. {listed}"},
                    "message": {"type": "string", "description": "For people, in their language"},
                    "field": {
                        "type": "string",
                        "nullable": True,
                        "description": "The parameter at fault, or null",
                    },
                    "suggestions": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "With `place_not_understood`: places the user may mean",
                    },
                },
            }
        },
    }
