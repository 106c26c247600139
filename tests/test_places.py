"""Places a nurse types: romaji names, typos with suggestions, places outside Tokyo."""

from __future__ import annotations

import re

import pytest

from index.geo.errors import AddressNotUnderstood
from index.geo.geocoder import geocode
from index.geo.romaji import kana_to_romaji, loose_key


@pytest.mark.parametrize(
    ("typed", "level", "label"),
    [
        ("Kinshicho", "station", "錦糸町駅"),
        ("Kinshichō Station", "station", "錦糸町駅"),
        ("kinshichou eki", "station", "錦糸町駅"),
        ("KINSICHO", "station", "錦糸町駅"),
        ("Setagaya", "station", "世田谷駅"),
        ("Setagaya-ku", "municipality", "東京都世田谷区"),
        ("Setagaya City", "municipality", "東京都世田谷区"),
        ("Koto-ku", "municipality", "東京都江東区"),
        ("Adachi", "municipality", "東京都足立区"),  # no such station in Tokyo
        ("Hatchōbori Station", "station", "八丁堀駅"),
        ("Ōji", "station", "王子駅"),
    ],
)
def test_romaji_station_and_municipality_names(typed, level, label):
    found = geocode(typed)
    assert found.level == level
    assert found.label.startswith(label)
    assert found.prefecture == "東京都"


def test_romanised_readings_fold_the_usual_spellings():
    assert kana_to_romaji("きんしちょう") == "kinshichou"
    assert kana_to_romaji("はっちょうぼり") == "hatchoubori"
    assert loose_key("Kinshichō") == loose_key("kinshichou") == loose_key("Kinsicho")


def test_unknown_romaji_gets_suggestions():
    with pytest.raises(AddressNotUnderstood) as caught:
        geocode("Kinshichi")
    assert caught.value.suggestions[0] == "錦糸町駅"


def test_a_misspelt_station_is_located_and_gets_suggestions():
    found = geocode("錦糸長駅")  # 長 for 町: the town 錦糸 matched, not a station
    assert found.level == "town" and "錦糸" in found.label
    assert found.suggestions[0] == "錦糸町駅"
    assert len(found.suggestions) <= 5


def test_an_unknown_kana_station_is_suggested_by_reading():
    with pytest.raises(AddressNotUnderstood) as caught:
        geocode("きんしちょ駅")
    assert "錦糸町駅" in caught.value.suggestions


def test_a_prefecture_alone_is_understood():
    found = geocode("大阪府")
    assert (found.level, found.prefecture) == ("prefecture", "大阪府")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_romaji_on_the_page_in_both_languages(client, town, reindex, lang):
    reindex()
    page = client.get("/", query_string={"near": "Kinshichō Station", "lang": lang})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "錦糸町駅" in text and "錦糸町こころのクリニック" in text


def test_suggestions_are_links_to_the_same_search(client, town, reindex):
    reindex()
    page = client.get("/", query_string={"near": "錦糸長駅", "situation": "postpartum"}).get_data(
        as_text=True
    )
    assert "もしかして" in page
    links = re.findall(r'<a href="([^"]+)" lang="ja">錦糸町駅</a>', page)
    assert links and "situation=postpartum" in links[0]
    followed = client.get(links[0].replace("&amp;", "&"))
    assert "錦糸町駅（東京都" in followed.get_data(as_text=True)

    unknown = client.get("/", query_string={"near": "きんしちょ駅"})
    assert unknown.status_code == 400
    assert re.search(r'<a href="[^"]*near=[^"]*" lang="ja">錦糸町駅</a>', unknown.get_data(True))


def test_api_gives_suggestions(client, town, reindex):
    reindex()
    loose = client.get("/api/v1/search", query_string={"near": "錦糸長駅"}).get_json()
    assert loose["origin"]["suggestions"][0] == "錦糸町駅"
    unknown = client.get("/api/v1/search", query_string={"near": "Kinshichi"})
    assert unknown.status_code == 400
    assert unknown.get_json()["error"]["suggestions"] == ["錦糸町駅"]


@pytest.mark.parametrize("place", ["大阪市北区梅田1-1", "大阪府", "Umeda Station"])
def test_a_place_outside_tokyo_is_answered_with_that_fact(client, town, reindex, place):
    reindex()
    body = client.get("/api/v1/search", query_string={"near": place}).get_json()
    assert body["origin"]["prefecture"] == "大阪府"
    assert body["notice"]["code"] == "outside_area"
    assert "このナビは東京都内の医療機関を掲載しています" in body["notice"]["message"]
    page = client.get("/", query_string={"near": place}).get_data(as_text=True)
    assert "このナビは東京都内の医療機関を掲載しています" in page
    assert "範囲を広げるか" not in page
    english = client.get("/", query_string={"near": place, "lang": "en"}).get_data(True)
    assert "This directory lists facilities in Tokyo only" in english


def test_a_place_in_tokyo_has_no_notice(client, town, reindex):
    reindex()
    body = client.get("/api/v1/search", query_string={"near": "Kinshicho"}).get_json()
    assert body["notice"] is None
