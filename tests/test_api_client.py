"""A client generated from nothing but the OpenAPI document calls the API without hand edits.

The generator below is deliberately generic (what a municipality's staff system would do with
any generator): one function per operationId, arguments checked against the parameter
schemas before sending, answers checked against the response schemas, errors raised with the
error body's code.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from tests.conftest import KINSHICHO


class ApiError(Exception):
    """An error answer, as the document's Error body describes it."""

    def __init__(self, status: int, error: dict):
        super().__init__(f"{status} {error['code']}: {error['message']}")
        self.status, self.code, self.field = status, error["code"], error["field"]


def generate_client(document: dict, send) -> SimpleNamespace:
    """Return an object with one method per operation of the document."""
    methods = {}
    for path, operations in document["paths"].items():
        for verb, operation in operations.items():
            name = re.sub(r"(?<!^)(?=[A-Z])", "_", operation["operationId"]).lower()
            methods[name] = _operation(document, path, verb.upper(), operation, send)
    return SimpleNamespace(**methods)


def _operation(document: dict, path: str, verb: str, operation: dict, send):
    """Build the function of one operation."""
    parameters = {p["name"]: p for p in operation.get("parameters", [])}

    def call(**arguments: Any):
        unknown = set(arguments) - set(parameters)
        missing = {n for n, p in parameters.items() if p.get("required")} - set(arguments)
        if unknown or missing:
            raise TypeError(f"unknown {sorted(unknown)}, missing {sorted(missing)}")
        url, query, headers = path, [], {}
        for name, value in arguments.items():
            parameter = parameters[name]
            jsonschema.validate(value, _json_schema(parameter["schema"], document))
            wire = [_wire(v) for v in (value if isinstance(value, list) else [value])]
            if parameter["in"] == "path":
                url = url.replace("{" + name + "}", wire[0])
            elif parameter["in"] == "query":
                query += [(name, v) for v in wire]
            else:
                headers[name] = wire[0]
        status, body = send(verb, url, query, headers)
        return _answer(document, operation, status, body)

    return call


def _answer(document: dict, operation: dict, status: int, body):
    """Check the answer against its documented response; raise ApiError for an error."""
    response = _resolve(operation["responses"][str(status)], document)
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is not None:
        jsonschema.validate(body, _json_schema(schema, document))
    if status >= 400:
        raise ApiError(status, body["error"])
    return body


def _wire(value) -> str:
    """Serialise one value for a URL."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _resolve(node: dict, document: dict) -> dict:
    """Follow a local $ref."""
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _json_schema(node, document):
    """Turn an OpenAPI 3.0 schema into JSON Schema: refs inlined, `nullable` as a null type."""
    if isinstance(node, list):
        return [_json_schema(n, document) for n in node]
    if not isinstance(node, dict):
        return node
    node = _resolve(node, document)
    converted = {k: _json_schema(v, document) for k, v in node.items() if k != "nullable"}
    if node.get("nullable") and "type" in node:
        converted["type"] = [node["type"], "null"]
    return converted


@pytest.fixture
def api(client):
    """The generated client, sending through the app's test client."""

    def send(verb, url, query, headers):
        response = client.open(url, method=verb, query_string=query, headers=headers)
        return response.status_code, response.get_json()

    return generate_client(client.get("/api/v1/openapi.json").get_json(), send)


def test_generated_client_searches_and_reads_a_facility(api, town, reindex):
    reindex()
    page = api.search(lat=KINSHICHO[0], lng=KINSHICHO[1], radius_km=5, pregnant="yes", per_page=5)
    assert page["results"][0]["name"] == "錦糸町こころのクリニック"
    assert page["sort"] == "recommended" and page["results"][0]["accepts"] is True
    facility = api.get_facility(id=page["results"][0]["id"])
    assert facility["answers"]["wait_days"] == 30
    found = api.search(near="錦糸町駅", q="こころ", situation=["pregnant"], trimester="second")
    assert found["total"] >= 1


def test_generated_client_gets_documented_errors(api, town, reindex):
    reindex()
    with pytest.raises(ApiError) as refused:
        api.search(municipality="00000")
    assert (refused.value.status, refused.value.code) == (400, "unknown_municipality")
    with pytest.raises(ApiError) as stage:
        api.search(trimester="second")
    assert (stage.value.status, stage.value.code) == (400, "missing_parameter")
    with pytest.raises(ApiError) as missing:
        api.get_facility(id=town["private"].id)
    assert (missing.value.status, missing.value.code) == (404, "not_found")
    with pytest.raises(jsonschema.ValidationError):  # checked before sending, from the document
        api.search(per_page=1000)
    assert api.health()["status"] == "ok"
