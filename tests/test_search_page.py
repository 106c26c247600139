"""The search page: a nurse's search as a bookmarkable GET URL, results list and map data."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from sqlmodel import select

from surveys.models import SurveyResponse
from surveys.operations import today_in_japan

POSTPARTUM_RX = {
    "near": "錦糸町駅",
    "situation": "postpartum",
    "breastfeeding": "y",
    "needs_rx": "y",
    "sort": "distance",
}


def _result_names(page: str) -> list[str]:
    return re.findall(r'<a href="/facilities/\d+[^"]*">([^<]+)</a>', page)


def test_search_page_without_search_shows_the_form(client):
    page = client.get("/").get_data(as_text=True)
    assert "お母さんの状況" in page and "産後1年以内" in page
    assert "その他の条件" in page  # the rest behind "more conditions"
    assert 'name="language"' in page  # generated from the questionnaire
    assert "件見つかりました" not in page


def test_search_postpartum_breastfeeding_near_station(client, town, reindex):
    reindex()
    response = client.get("/", query_string=POSTPARTUM_RX)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # breastfeeding_rx yes or consult, postpartum yes or conditional, nearest first
    assert _result_names(page) == [
        "錦糸町こころのクリニック",
        "亀戸メンタルクリニック",
        "押上さくら心療内科",
    ]
    assert "3件見つかりました" in page
    assert "錦糸町駅" in page  # the place as understood
    assert re.search(r'<p class="why">.*0\.\d km・', page)  # the distance leads the why-line


def test_search_pregnant_with_trimester_and_quick_wait(client, town, reindex):
    reindex()
    query = {"near": "錦糸町駅", "radius_km": "50", "situation": "pregnant", "trimester": "second"}
    assert _result_names(client.get("/", query_string=query).get_data(as_text=True)) == [
        "錦糸町こころのクリニック"
    ]
    quick = {"near": "錦糸町駅", "radius_km": "50", "situation": "pregnant", "max_wait_days": "14"}
    assert _result_names(client.get("/", query_string=quick).get_data(as_text=True)) == [
        "亀戸メンタルクリニック",
        "八王子ひかり病院",
    ]


def test_search_more_conditions_filter(client, town, reindex):
    reindex()
    query = {"near": "錦糸町駅", "language": ["en", "zh"]}
    page = client.get("/", query_string=query).get_data(as_text=True)
    assert _result_names(page) == ["錦糸町こころのクリニック"]
    assert '<details class="more" open>' in page


def test_search_public_vs_staff(client, town, reindex, make_user, login):
    reindex()
    query = {"near": "錦糸町駅", "radius_km": "5"}
    public = client.get("/", query_string=query).get_data(as_text=True)
    assert "関係者限定クリニック" not in public
    assert "候補リストに追加" not in public
    login(make_user("staff"))
    staff = client.get("/", query_string=query).get_data(as_text=True)
    assert "関係者限定クリニック" in staff
    assert "候補リストに追加" in staff


def test_search_unknown_place_gets_a_clear_message(client, town, reindex):
    reindex()
    response = client.get("/", query_string={"near": "xyzzy-nowhere"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "の場所がわかりませんでした" in page
    assert 'aria-invalid="true"' in page
    assert "Traceback" not in page


def test_search_stale_answers_are_flagged(client, db, town, reindex):
    response = db.exec(
        select(SurveyResponse).where(SurveyResponse.facility_id == town["near"].id)
    ).one()
    response.verified_on = today_in_japan() - timedelta(days=400)
    db.add(response)
    db.commit()
    reindex()
    page = client.get("/", query_string={"near": "錦糸町駅", "radius_km": "2"}).get_data(
        as_text=True
    )
    assert "1年以上前の情報です" in page


def test_search_pagination_keeps_the_search(client, town, reindex):
    reindex()
    query = {"near": "錦糸町駅", "radius_km": "50", "sort": "wait"}
    page = client.get("/", query_string={**query, "page": "1"}).get_data(as_text=True)
    assert "並べ替え" in page
    first = _result_names(page)
    assert len(first) == 4  # 押上 3, 亀戸 7, 八王子 10, 錦糸町 30 days
    assert first[0] == "押上さくら心療内科"


def test_search_map_markers_and_tile_policy(client, town, reindex):
    reindex()
    response = client.get("/", query_string={"near": "錦糸町駅", "sort": "distance"})
    page = response.get_data(as_text=True)
    markers = json.loads(re.search(r'data-markers="([^"]*)"', page).group(1).replace("&#34;", '"'))
    assert [m["n"] for m in markers] == [1, 2, 3]
    assert markers[0]["name"] == "錦糸町こころのクリニック"
    assert "https://cyberjapandata.gsi.go.jp" in response.headers["Content-Security-Policy"]


def test_search_without_tiles_has_no_tile_host(make_app):
    app = make_app("no-tiles", MAP_TILE_URL="")
    csp = app.test_client().get("/").headers["Content-Security-Policy"]
    assert "img-src 'self' data:;" in csp


def test_search_page_in_english(client, town, reindex):
    reindex()
    page = client.get("/", query_string={**POSTPARTUM_RX, "lang": "en"}).get_data(as_text=True)
    assert "3 found" in page
    assert "The mother&#39;s situation" in page


def test_search_without_index_is_a_503_page(client):
    response = client.get("/", query_string={"q": "こころ"})
    assert response.status_code == 503
    assert "検索の準備中です" in response.get_data(as_text=True)
