"""The API speaks conventional HTTP and its document says what the server does: one error
body, Allow on 405, HEAD, caching headers, ETag/304, Retry-After, UTF-8 JSON."""

from __future__ import annotations

from dataclasses import replace

import pytest
from werkzeug.datastructures import MultiDict

from index.errors import InvalidParameter
from index.params import Param, search_params
from search_app.api.openapi import query_parameter
from surveys import audit
from surveys.api_tokens import create_token

JSON_UTF8 = "application/json; charset=utf-8"


def _document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def _parameter(document: dict, name: str) -> dict:
    parameters = document["paths"]["/api/v1/search"]["get"]["parameters"]
    return next(p for p in parameters if p["name"] == name)


def _error(response, status: int, code: str) -> dict:
    """Check the one error body and return its `error`."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == JSON_UTF8
    error = response.get_json()["error"]
    assert error["code"] == code
    assert set(error) >= {"code", "message", "field"} and error["message"]
    return error


@pytest.mark.parametrize("path", ["/healthz", "/api/v1/facilities/1", "/api/v1/search"])
@pytest.mark.parametrize("method", ["TRACE", "POST", "DELETE"])
def test_unoffered_method_is_405_with_allow_and_the_error_body(client, path, method):
    response = client.open(path, method=method)
    _error(response, 405, "method_not_allowed")
    assert {m.strip() for m in response.headers["Allow"].split(",")} >= {"GET", "HEAD"}


def test_missing_facility_is_404_with_a_string_code(client):
    error = _error(client.get("/api/v1/facilities/987654"), 404, "not_found")
    assert error["field"] is None
    _error(client.get("/api/v1/no-such-thing"), 404, "not_found")


def test_well_formed_unknown_municipality_is_a_documented_400(client, town, reindex):
    reindex()
    error = _error(client.get("/api/v1/search?municipality=00000"), 400, "unknown_municipality")
    assert error["field"] == "municipality"
    assert "unknown_municipality" in _parameter(_document(client), "municipality")["x-error-codes"]
    _error(client.get("/api/v1/search?municipality=1310"), 400, "invalid_parameter")


def test_lat_without_lng_is_a_documented_400(client, town, reindex):
    reindex()
    error = _error(client.get("/api/v1/search?lat=35.6"), 400, "missing_parameter")
    assert error["field"] == "lng"
    assert "missing_parameter" in _parameter(_document(client), "lng")["x-error-codes"]


def test_situation_rules_are_documented_400s(client, town, reindex):
    reindex()
    document = _document(client)
    for query, field in [
        ("trimester=first", "trimester"),
        ("months_postpartum=3", "months_postpartum"),
    ]:
        error = _error(client.get(f"/api/v1/search?{query}"), 400, "missing_parameter")
        assert error["field"] == field
        assert "missing_parameter" in _parameter(document, field)["x-error-codes"]
    assert _parameter(document, "months_postpartum")["schema"] == {
        "type": "integer",
        "minimum": 0,
        "maximum": 12,
    }
    assert _parameter(document, "situation")["schema"]["items"]["enum"] == [
        "pregnant",
        "postpartum",
    ]
    assert _parameter(document, "new_patient")["schema"] == {"type": "boolean", "default": True}
    both = "situation=pregnant&situation=postpartum&trimester=first&months_postpartum=3"
    assert client.get(f"/api/v1/search?{both}").status_code == 200


def test_wrong_token_is_a_documented_401(client, town, reindex):
    reindex()
    document = _document(client)
    for path in ("/api/v1/search", "/api/v1/facilities/{id}", "/api/v1/openapi.json"):
        assert document["paths"][path]["get"]["responses"]["401"] == {
            "$ref": "#/components/responses/InvalidToken"
        }
    response = client.get("/api/v1/search", headers={"Authorization": "Bearer wrong"})
    _error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert "WWW-Authenticate" in document["components"]["responses"]["InvalidToken"]["headers"]


def test_empty_values_mean_absent_as_documented(client, town, reindex):
    reindex()
    everything = client.get("/api/v1/search").get_json()["total"]
    document = _document(client)
    for name in ("trimester", "high_risk_fee2", "page", "lat", "lng", "sort", "max_wait_days"):
        response = client.get(f"/api/v1/search?{name}=")
        assert response.status_code == 200, name
        assert response.get_json()["total"] == everything, name
        assert _parameter(document, name)["allowEmptyValue"] is True, name


def test_values_outside_the_documented_pattern_are_refused(client, town, reindex):
    reindex()
    for query in [
        "pregnant=yes,,no",
        "pregnant=%20yes",
        "trimester=first,",
        "page=%EF%BC%92",  # full-width 2
        "radius_km=1_0",
        "per_page=1.0",
        "max_wait_days=" + "9" * 4301,  # longer than int() reads: a 400, not a 500
        "page=" + "1" * 5000,
    ]:
        response = client.get(f"/api/v1/search?{query}")
        _error(response, 400, "invalid_parameter")


def test_document_parameters_come_from_the_server_table(client, questionnaire):
    parameters = _document(client)["paths"]["/api/v1/search"]["get"]["parameters"]
    specs = search_params(questionnaire)
    assert [p["name"] for p in parameters] == [spec.name for spec in specs]
    for parameter, spec in zip(parameters, specs, strict=True):
        assert parameter["schema"] == spec.schema()
    assert _parameter(_document(client), "page")["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 1000,
        "default": 1,
    }


def test_error_body_is_declared_once_and_referenced(client):
    document = _document(client)
    assert "Error" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for status, response in operation["responses"].items():
                if int(status) < 400 or (path == "/healthz" and status == "503"):
                    continue
                text = str(response)
                assert "#/components/schemas/Error" in text or "#/components/responses/" in text


def test_public_answers_are_briefly_cacheable_and_token_answers_private(
    client, db, town, reindex, make_user
):
    reindex()
    public = client.get("/api/v1/search?q=こころ")
    assert public.headers["Cache-Control"] == "public, max-age=60"
    assert public.headers["Content-Type"] == JSON_UTF8
    assert "Authorization" in public.headers["Vary"]
    _row, token = create_token(db, make_user("staff"), "test", audit.CLI_ACTOR)
    db.commit()
    staff = client.get("/api/v1/search?q=こころ", headers={"Authorization": f"Bearer {token}"})
    assert staff.headers["Cache-Control"] == "private, no-store"
    assert client.get("/healthz").headers["Cache-Control"] == "no-store"
    english = client.application.test_client().get("/api/v1/search?q=こころ&lang=en")
    assert "Set-Cookie" in english.headers  # the language is remembered: not for shared caches
    assert english.headers["Cache-Control"] == "private, no-store"


def test_facility_etag_answers_if_none_match_with_304(client, town, reindex):
    url = f"/api/v1/facilities/{town['near'].id}"
    first = client.get(url)
    etag = first.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_is_answered_where_get_is(client, town, reindex):
    reindex()
    for url in ["/api/v1/search", f"/api/v1/facilities/{town['near'].id}", "/healthz"]:
        head = client.head(url)
        assert head.status_code == 200, url
        assert head.get_data() == b"" and head.headers["Content-Type"] == JSON_UTF8


def test_unavailable_search_and_health_say_when_to_retry(client):
    search = client.get("/api/v1/search")
    _error(search, 503, "index_unavailable")
    assert int(search.headers["Retry-After"]) > 0
    health = client.get("/healthz")
    assert health.status_code == 503 and int(health.headers["Retry-After"]) > 0


def test_parameter_table_reads_repeatable_and_boolean_parameters():
    situation = Param("situation", "enum", "Situation", values=("pregnant", "postpartum"))
    situation = replace(situation, repeatable=True)
    args = MultiDict([("situation", "pregnant"), ("situation", ""), ("situation", "postpartum")])
    assert situation.read(args) == ("pregnant", "postpartum")
    assert situation.schema() == {
        "type": "array",
        "items": {"type": "string", "enum": ["pregnant", "postpartum"]},
    }
    assert query_parameter(situation)["explode"] is True
    with pytest.raises(InvalidParameter):
        situation.read(MultiDict([("situation", "pregnant"), ("situation", "other")]))
    needs_rx = Param("needs_rx", "boolean", "Needs medication")
    assert needs_rx.read({"needs_rx": "true"}) is True
    assert needs_rx.read({"needs_rx": ""}) is None
    for wrong in ("1", "yes", "True"):
        with pytest.raises(InvalidParameter):
            needs_rx.read({"needs_rx": wrong})
    assert needs_rx.schema() == {"type": "boolean"}
