"""The facility page answers "how do I get there": map, nearest stations, distance, way back."""

from __future__ import annotations

import re
from html import unescape

import pytest


def _detail_link(page: str, name: str) -> str:
    return unescape(
        re.search(rf'<a href="(/facilities/\d+\?back=[^"]+)">{name}</a>', page).group(1)
    )


def test_from_the_results_to_the_facility_and_back(client, town, reindex):
    reindex()
    results = client.get("/", query_string={"near": "錦糸町駅", "situation": "postpartum"})
    link = _detail_link(results.get_data(as_text=True), "亀戸メンタルクリニック")
    page = client.get(link).get_data(as_text=True)
    assert "亀戸駅" in page and "JR中央・総武線" in page  # the nearest station, 0.0 km
    assert re.search(r"亀戸駅.*: 0\.0 km・徒歩約1分", page)
    # 錦糸町駅 to 亀戸 is about 1.1 km in a straight line
    assert re.search(r"検索した場所（錦糸町駅（東京都.*）から直線で1\.1 km", page)
    back = re.search(r'<p class="back"><a href="([^"]+)">検索結果に戻る</a>', page).group(1)
    assert unescape(back).startswith("/?near=")
    assert unescape(back).endswith(f"#facility-{town['kameido'].id}")
    assert "situation=postpartum" in unescape(back)
    assert 'data-tiles="https://cyberjapandata.gsi.go.jp' in page  # the results' tile setting


def test_facility_page_without_a_search_has_map_and_stations_only(client, town):
    page = client.get(f"/facilities/{town['near'].id}").get_data(as_text=True)
    assert 'id="map"' in page and "錦糸町駅" in page
    assert "検索した場所" not in page and "検索結果に戻る" not in page


def test_facility_page_map_follows_the_tile_setting(make_app, town):
    app = make_app("no-tiles", MAP_TILE_URL="")
    page = app.test_client().get(f"/facilities/{town['near'].id}").get_data(as_text=True)
    assert 'data-tiles=""' in page and 'id="map"' in page


@pytest.mark.parametrize(
    "back",
    ["https://evil.example/?q=1", "//evil.example/?x", "/admin/", "/?\\x", "/?" + "a" * 3000],
)
def test_only_results_urls_become_the_way_back(client, town, back):
    page = client.get(f"/facilities/{town['near'].id}", query_string={"back": back})
    assert page.status_code == 200
    assert "検索結果に戻る" not in page.get_data(as_text=True)


def test_an_unknown_place_in_the_way_back_is_ignored(client, town):
    page = client.get(f"/facilities/{town['near'].id}", query_string={"back": "/?near=xyzzy"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "検索結果に戻る" in text and "検索した場所" not in text
