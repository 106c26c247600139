"""The OpenAPI 3 description, generated from the search's own parameter table."""

from __future__ import annotations

from typing import Any

from index.params import DATA_CODES, INVALID, Param, search_params
from search_app.api.schemas import ERROR_SCHEMA, component_schemas
from surveys.questionnaire import Questionnaire

MAX_AGE = 60
MAX_FACILITY_ID = 2**31 - 1
# Every operation under /api/v1 checks a token when one is sent.
INVALID_TOKEN_RESPONSE = {"$ref": "#/components/responses/InvalidToken"}
DESCRIPTION = """Search psychiatric facilities that see pregnant and postpartum patients.

Without a token only public listings and public answers are returned; a staff token
(`Authorization: Bearer ...`) sees everything. A wrong, revoked or expired token gets 401
`invalid_token` with a `WWW-Authenticate` header (never silently the public view).

Every error, whatever its status, has the body `{"error": {"code", "message", "field"}}`
(schema `Error`); `message` is in the language of the request (`?lang=en`), `field` names the
parameter at fault or is null. A method a path does not offer gets 405 with an `Allow` header;
HEAD is answered wherever GET is. Public answers may be cached for a minute; answers to a token
are `private, no-store`. A facility carries an `ETag` and answers `If-None-Match` with 304."""


def openapi_document(questionnaire: Questionnaire) -> dict[str, Any]:
    """Return the OpenAPI document for this questionnaire edition."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "妊産婦こころの医療機関ナビ API",
            "version": "1",
            "description": DESCRIPTION,
        },
        "paths": {
            "/api/v1/search": {"get": _search_operation(questionnaire)},
            "/api/v1/facilities/{id}": {"get": _detail_operation()},
            "/api/v1/openapi.json": {"get": _document_operation()},
            "/healthz": {"get": _health_operation()},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": component_schemas(questionnaire),
            "headers": _headers(),
            "responses": _error_responses(),
        },
        "security": [{}, {"bearer": []}],
    }


def query_parameter(spec: Param) -> dict[str, Any]:
    """Describe one search parameter exactly as the server reads it."""
    notes = [spec.description, "Empty means the same as absent."]
    if spec.repeatable:
        notes.append("May be given more than once.")
    notes += [f"400 `{code}`: {DATA_CODES[code]}." for code in spec.data_codes]
    parameter = {
        "name": spec.name,
        "in": "query",
        "required": False,
        "description": " ".join(notes),
        "schema": spec.schema(),
        "allowEmptyValue": True,
        "x-error-codes": [INVALID, *spec.data_codes],
    }
    if spec.repeatable:
        parameter |= {"style": "form", "explode": True}
    if spec.example is not None:
        parameter["example"] = spec.example
    return parameter


def _search_operation(questionnaire: Questionnaire) -> dict[str, Any]:
    """Describe GET /api/v1/search."""
    specs = search_params(questionnaire)
    codes = sorted({INVALID, *(code for spec in specs for code in spec.data_codes)})
    return {
        "operationId": "search",
        "summary": "Search facilities",
        "parameters": [query_parameter(spec) for spec in specs],
        "responses": {
            "200": _json(
                "#/components/schemas/SearchResponse", "A page of results", ["Cache-Control"]
            ),
            "400": _error("A parameter is refused; `code` is one of: " + ", ".join(codes)),
            "401": INVALID_TOKEN_RESPONSE,
            "500": {"$ref": "#/components/responses/ServerError"},
            "503": {"$ref": "#/components/responses/IndexUnavailable"},
        },
    }


def _detail_operation() -> dict[str, Any]:
    """Describe GET /api/v1/facilities/{id}."""
    facility_id = {"type": "integer", "minimum": 1, "maximum": MAX_FACILITY_ID}
    return {
        "operationId": "getFacility",
        "summary": "One facility with its current answers",
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": facility_id},
            {
                "name": "If-None-Match",
                "in": "header",
                "required": False,
                "description": "The ETag of a copy held: 304 while it is current.",
                "schema": {"type": "string"},
            },
        ],
        "responses": {
            "200": _json(
                "#/components/schemas/Facility", "The facility", ["Cache-Control", "ETag"]
            ),
            "304": {
                "description": "The copy with this ETag is current",
                "headers": _header_refs(["Cache-Control", "ETag"]),
            },
            "401": INVALID_TOKEN_RESPONSE,
            "404": {"$ref": "#/components/responses/NotFound"},
            "500": {"$ref": "#/components/responses/ServerError"},
        },
    }


def _document_operation() -> dict[str, Any]:
    """Describe GET /api/v1/openapi.json (this document)."""
    schema = {"type": "object", "required": ["openapi", "paths"]}
    return {
        "operationId": "getOpenapi",
        "summary": "This document",
        "responses": {
            "200": {
                "description": "The OpenAPI document",
                "headers": _header_refs(["Cache-Control"]),
                "content": {"application/json": {"schema": schema}},
            },
            "401": INVALID_TOKEN_RESPONSE,
            "500": {"$ref": "#/components/responses/ServerError"},
        },
    }


def _health_operation() -> dict[str, Any]:
    """Describe GET /healthz."""
    health = "#/components/schemas/Health"
    return {
        "operationId": "health",
        "summary": "Health for monitors (never cached)",
        "responses": {
            "200": _json(health, "Database and index are ready", ["Cache-Control"]),
            "503": _json(
                health, "The index is unavailable or rebuilding", ["Cache-Control", "Retry-After"]
            ),
            "500": {"$ref": "#/components/responses/ServerError"},
        },
    }


def _json(ref: str, description: str, headers: list[str]) -> dict[str, Any]:
    """Return a JSON response with the given schema and required headers."""
    return {
        "description": description,
        "headers": _header_refs(headers),
        "content": {"application/json": {"schema": {"$ref": ref}}},
    }


def _error(description: str, headers: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return an error response: the one Error body."""
    response = {
        "description": description,
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    }
    if headers:
        response["headers"] = _header_refs(list(headers))
    return response


def _header_refs(names: list[str]) -> dict[str, Any]:
    """Reference response headers declared once in components."""
    return {name: {"$ref": f"#/components/headers/{name}"} for name in names}


def _headers() -> dict[str, Any]:
    """Declare the response headers."""
    return {
        "Cache-Control": {
            "required": True,
            "description": f"`public, max-age={MAX_AGE}` for the public; "
            "`private, no-store` for an answer to a token or a signed-in user; "
            "`no-store` for errors and /healthz.",
            "schema": {"type": "string"},
        },
        "ETag": {
            "required": True,
            "description": "Version of this facility's answer in this view (strong)",
            "schema": {"type": "string", "pattern": '^"[^"]+"$'},
        },
        "WWW-Authenticate": {
            "required": True,
            "description": 'The refused token\'s challenge: `Bearer error="invalid_token"`',
            "schema": {"type": "string"},
        },
        "Retry-After": {
            "required": True,
            "description": "Seconds to wait before asking again",
            "schema": {"type": "integer", "minimum": 1},
        },
    }


def _error_responses() -> dict[str, Any]:
    """Declare the error responses every operation shares."""
    return {
        "InvalidToken": _error(
            "The bearer token is wrong, revoked or expired (`invalid_token`); send none for "
            "the public view",
            ("WWW-Authenticate",),
        ),
        "NotFound": _error("No such facility, or not public (`not_found`)"),
        "MethodNotAllowed": _error(
            "The path does not offer this method (`method_not_allowed`; see `Allow`)"
        ),
        "TooManyRequests": _error("Too many requests (`too_many_requests`)", ("Retry-After",)),
        "ServerError": _error("Unexpected failure (`internal_error`); no detail is shown"),
        "IndexUnavailable": _error(
            "The search index is being prepared (`index_unavailable`)", ("Retry-After",)
        ),
    }
