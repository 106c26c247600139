"""JSON API search: places, filters, distance order, audiences, bad parameters."""

from __future__ import annotations

import pytest
from geopy.distance import great_circle
from sqlmodel import select

from index.sync import rebuild
from surveys import audit
from surveys.api_tokens import create_token
from surveys.models import Facility
from tests.conftest import BASE, KINSHICHO


def _names(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [r["name"] for r in response.get_json()["results"]]


def test_search_near_station_ranks_by_distance(client, town, reindex):
    reindex()
    query = {"near": "錦糸町駅", "sort": "distance"}
    body = client.get("/api/v1/search", query_string=query).get_json()
    # 亀戸 is about 1.1 km east of the station, 押上 about 1.5 km north.
    assert [r["name"] for r in body["results"]] == [
        "錦糸町こころのクリニック",
        "亀戸メンタルクリニック",
        "押上さくら心療内科",
    ]
    assert body["origin"]["level"] == "station"
    assert "錦糸町" in body["origin"]["label"]
    first = body["results"][0]
    expected = great_circle(
        (body["origin"]["lat"], body["origin"]["lng"]), (first["lat"], first["lng"])
    ).km
    assert first["distance_km"] == pytest.approx(expected, abs=0.002)
    assert body["total"] == 3  # 八王子 is outside the default 10 km


def test_search_radius_and_filters(client, town, reindex):
    reindex()
    wide = {"lat": KINSHICHO[0], "lng": KINSHICHO[1], "radius_km": 60}
    assert "八王子ひかり病院" in _names(client.get("/api/v1/search", query_string=wide))
    accepting = _names(
        client.get(
            "/api/v1/search",
            query_string={**wide, "pregnant": "yes,conditional", "breastfeeding_rx": "yes"},
        )
    )
    assert accepting == ["錦糸町こころのクリニック", "八王子ひかり病院"]
    quick = _names(client.get("/api/v1/search", query_string={**wide, "max_wait_days": 10}))
    assert set(quick) == {"亀戸メンタルクリニック", "押上さくら心療内科", "八王子ひかり病院"}
    both = _names(client.get("/api/v1/search", query_string={**wide, "language": "en,zh"}))
    assert both == ["錦糸町こころのクリニック"]
    ward = _names(client.get("/api/v1/search", query_string={**wide, "municipality": "13108"}))
    assert ward == ["亀戸メンタルクリニック"]


def test_search_sort_by_wait_and_paging(client, town, reindex):
    reindex()
    query = {"lat": KINSHICHO[0], "lng": KINSHICHO[1], "radius_km": 60, "sort": "wait"}
    assert _names(client.get("/api/v1/search", query_string=query)) == [
        "押上さくら心療内科",
        "亀戸メンタルクリニック",
        "八王子ひかり病院",
        "錦糸町こころのクリニック",
    ]
    page2 = client.get("/api/v1/search", query_string={**query, "per_page": 3, "page": 2})
    assert _names(page2) == ["錦糸町こころのクリニック"]
    assert page2.get_json()["total"] == 4


def test_search_public_sees_public_listings_and_fields_only(client, db, town, reindex, make_user):
    reindex()
    public = client.get("/api/v1/search", query_string={"near": "錦糸町", "radius_km": 5})
    assert "関係者限定クリニック" not in _names(public)
    near = next(r for r in public.get_json()["results"] if r["name"].startswith("錦糸町"))
    assert "contact_fax" not in near["answers"]
    assert client.get(f"/api/v1/facilities/{town['private'].id}").status_code == 404

    _row, token = create_token(db, make_user("staff"), "test", audit.CLI_ACTOR)
    db.commit()
    headers = {"Authorization": f"Bearer {token}"}
    staff = client.get(
        "/api/v1/search", query_string={"near": "錦糸町", "radius_km": 5}, headers=headers
    )
    assert "関係者限定クリニック" in _names(staff)
    near = next(r for r in staff.get_json()["results"] if r["name"].startswith("錦糸町"))
    assert near["answers"]["contact_fax"] == "03-0000-0000"
    detail = client.get(f"/api/v1/facilities/{town['private'].id}", headers=headers)
    assert detail.status_code == 200
    bad = client.get(
        "/api/v1/search",
        query_string={"near": "錦糸町", "radius_km": 5},
        headers={"Authorization": "Bearer wrong"},
    )
    assert bad.status_code == 401  # a wrong token is an error, not the public view
    assert bad.get_json()["error"]["code"] == "invalid_token"


def test_search_text_finds_facility_without_coordinates_last(client, town, reindex):
    reindex()
    found = _names(client.get("/api/v1/search", query_string={"q": "こころ", "near": "錦糸町駅"}))
    assert found == ["錦糸町こころのクリニック", "座標なしこころクリニック"]
    body = client.get("/api/v1/search", query_string={"q": "こころ", "near": "錦糸町駅"}).get_json()
    assert body["results"][1]["distance_km"] is None


def test_search_kana_in_either_script(client, town, reindex):
    reindex()
    assert _names(client.get("/api/v1/search", query_string={"q": "かめいど"})) == [
        "亀戸メンタルクリニック"
    ]
    assert "押上さくら心療内科" in _names(
        client.get("/api/v1/search", query_string={"q": "サクラ"})
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": "1000"}, "per_page"),
        ({"page": "0"}, "page"),
        ({"radius_km": "abc"}, "radius_km"),
        ({"radius_km": "nan"}, "radius_km"),
        ({"lat": "35.6"}, "lng"),
        ({"lat": "1e999", "lng": "139"}, "lat"),
        ({"pregnant": "maybe"}, "pregnant"),
        ({"language": "en,klingon"}, "language"),
        ({"max_wait_days": "-1"}, "max_wait_days"),
        ({"max_wait_days": "９"}, "max_wait_days"),
        ({"municipality": "99999"}, "municipality"),
        ({"sort": "random"}, "sort"),
        ({"q": "あ" * 201}, "q"),
        ({"near": "xyzzy-nowhere-123"}, "near"),
    ],
)
def test_search_bad_parameters_get_400_naming_the_field(client, town, reindex, params, field):
    reindex()
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == field
    assert error["message"] and "Traceback" not in error["message"]


def test_search_garbage_query_never_fails(client, town, reindex):
    reindex()
    for q in [")))", "AND OR NOT", '"', "*", "name:x", "\x01\x02", "😀", "　"]:
        assert client.get("/api/v1/search", query_string={"q": q}).status_code == 200, q
    # NUL is the one character refused: PostgreSQL cannot compare text holding it.
    refused = client.get("/api/v1/search", query_string={"q": "\x00\x01"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["field"] == "q"


def test_clinic_change_is_searchable_at_once(client, db, town, reindex, make_invitation):
    from tests.conftest import csrf_token

    reindex()
    query = {"lat": KINSHICHO[0], "lng": KINSHICHO[1], "pregnant": "yes"}
    assert "押上さくら心療内科" not in _names(client.get("/api/v1/search", query_string=query))
    facility = town["oshiage"]
    token = make_invitation(facility)
    clinic = client.application.test_client()
    clinic.post(
        f"/clinic/invite/{token}",
        data={"csrf_token": csrf_token(clinic, f"/clinic/invite/{token}")},
    )
    url = f"/clinic/facilities/{facility.id}/survey"
    saved = clinic.post(
        url,
        data={**BASE, "pregnant": "yes", "base_version": 1, "csrf_token": csrf_token(clinic, url)},
    )
    assert saved.status_code == 302
    assert "押上さくら心療内科" in _names(client.get("/api/v1/search", query_string=query))


def test_openapi_lists_every_filter_parameter(client, questionnaire):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    params = {p["name"] for p in document["paths"]["/api/v1/search"]["get"]["parameters"]}
    expected = {i.search_param for i in questionnaire.items if i.filter}
    assert expected <= params
    assert {
        "pregnant",
        "postpartum",
        "breastfeeding_rx",
        "new_patients",
        "max_wait_days",
        "baby_ok",
        "language",
        "online",
        "inpatient",
        "woman_doctor",
        "municipality",
        "q",
        "near",
        "lat",
        "lng",
        "radius_km",
        "sort",
        "page",
        "per_page",
        "situation",
        "trimester",
        "months_postpartum",
        "breastfeeding",
        "needs_rx",
        "new_patient",
        "include_declined",
    } <= params
    result = document["components"]["schemas"]["SearchResult"]["allOf"][1]["properties"]
    assert {"accepts", "rank_reasons"} <= set(result)


def test_healthz_reports_index_state(client, db, town, reindex):
    missing = client.get("/healthz")
    assert missing.status_code == 503
    assert missing.get_json()["index"]["state"] == "unavailable"
    reindex()
    ok = client.get("/healthz").get_json()
    assert ok["status"] == "ok"
    assert ok["facilities"] == len(db.exec(select(Facility)).all())
    assert ok["index"]["documents"] == ok["facilities"]


def test_search_without_index_is_503_not_500(client):
    response = client.get("/api/v1/search", query_string={"q": "こころ"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "index_unavailable"


def test_search_with_a_configured_geopy_geocoder(make_app):
    """Any geopy geocoder can stand in for the offline one (here one answering offline)."""
    from sqlmodel import Session

    app = make_app("geo", GEOCODER="tests.geopy_stand_in:StandInGeocoder")
    with Session(app.extensions["pmh_engine"]) as session:
        rebuild(session, app.extensions["pmh_index"])
    client = app.test_client()
    query = {"near": "錦糸町駅", "sort": "distance"}
    body = client.get("/api/v1/search", query_string=query).get_json()
    assert body["origin"]["level"] == "station"
    missing = client.get("/api/v1/search", query_string={"near": "xyzzy-nowhere"})
    assert missing.status_code == 400
    assert missing.get_json()["error"]["field"] == "near"
