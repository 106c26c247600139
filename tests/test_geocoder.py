"""The offline geocoder understands what a nurse types, and says so when it does not."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
from click.testing import CliRunner
from geopy.distance import geodesic, great_circle

from index.geo import gazetteer as gz
from index.geo.distance import haversine_km, haversine_np
from index.geo.errors import AddressNotUnderstood
from index.geo.geocoder import OfflineGeocoder, geocode
from index.geo.locators import GeopyLocator
from search_app.cli.geocode import geocode_command
from tests.geopy_stand_in import StandInGeocoder

TOL = 1e-6  # degrees: results are gazetteer points, so they must match the row exactly


def town(pref: str, city: str, name: str) -> gz.Town:
    """Return a gazetteer row."""
    return next(t for t in gz.load_towns(pref) if t.city == city and t.town == name and not t.koaza)


def assert_at(result, row: gz.Town) -> None:
    """Assert a result sits on a gazetteer row's point."""
    assert abs(result.lat - row.lat) < TOL and abs(result.lng - row.lng) < TOL


@pytest.mark.parametrize(
    "query",
    [
        "亀戸8-5-1",
        "江東区亀戸8-5-1",
        "東京都江東区亀戸八丁目5番1号",
        "亀戸８－５－１",
        "亀戸８ー５ー１",
        "亀戸8丁目",
        "江東区亀戸八丁目",
        "東京都 江東区 亀戸 8-5-1 カメイドビル3F",
        "〒136-0071 東京都江東区亀戸8-5-1",
    ],
)
def test_geocoder_address_forms_resolve_to_kameido_8(query):
    result = geocode(query)
    assert (result.level, result.label) == ("town", "東京都江東区亀戸八丁目")
    assert result.municipality_code == "13108"
    assert_at(result, town("東京都", "江東区", "亀戸八丁目"))


@pytest.mark.parametrize(
    ("query", "city", "name"),
    [
        ("霞ヶ関1-1", "千代田区", "霞が関一丁目"),
        ("千代田区霞ケ関1丁目", "千代田区", "霞が関一丁目"),
        ("千代田区一つ橋2-1", "千代田区", "一ツ橋二丁目"),
        ("瑞穂町二本木", "西多摩郡瑞穂町", "大字二本木"),
        ("西多摩郡瑞穂町大字二本木123", "西多摩郡瑞穂町", "大字二本木"),
        ("港区六本木6-10-1 六本木ヒルズ森タワー", "港区", "六本木六丁目"),
    ],
)
def test_geocoder_variant_spellings_resolve(query, city, name):
    result = geocode(query)
    assert result.level == "town"
    assert result.label == f"東京都{city}{name}"
    assert_at(result, town("東京都", city, name))


def test_geocoder_town_without_chome_gives_town_centre():
    result = geocode("江東区亀戸")
    assert (result.level, result.label, result.approximate) == ("town", "東京都江東区亀戸", False)
    chome = [t for t in gz.load_towns("東京都") if t.town.startswith("亀戸") and t.city == "江東区"]
    assert min(t.lat for t in chome) <= result.lat <= max(t.lat for t in chome)


def test_geocoder_unknown_chome_is_flagged_approximate():
    result = geocode("江東区亀戸12-3")
    assert (result.level, result.label, result.approximate) == ("town", "東京都江東区亀戸", True)


@pytest.mark.parametrize("query", ["江東区", "東京都江東区"])
def test_geocoder_municipality_names(query):
    result = geocode(query)
    assert (result.level, result.label, result.municipality_code) == (
        "municipality",
        "東京都江東区",
        "13108",
    )
    muni = gz.municipality_by_code("13108")
    assert (result.lat, result.lng) == (muni.lat, muni.lng)


@pytest.mark.parametrize(
    ("query", "code"),
    [("東京都八王子市", "13201"), ("八王子市", "13201"), ("桧原村", "13307"), ("利島村", "13362")],
)
def test_geocoder_municipality_codes(query, code):
    result = geocode(query)
    assert (result.level, result.municipality_code) == ("municipality", code)


@pytest.mark.parametrize(
    "query", ["136-0071", "〒1360071", "１３６－００７１", "〒１３６ー００７１"]
)
def test_geocoder_postal_code(query):
    result = geocode(query)
    assert result.level == "postal_code"
    assert result.label == "〒136-0071 東京都江東区亀戸"
    assert result.municipality_code == "13108"
    assert haversine_km(result.lat, result.lng, 35.6997, 139.8300) < 1.5


def test_geocoder_unknown_postal_code_says_so():
    with pytest.raises(AddressNotUnderstood) as info:
        geocode("〒999-9999")
    assert "999-9999" in info.value.message_ja


@pytest.mark.parametrize(
    "query", ["新宿駅", "新宿", "新宿駅（JR）", "新宿(小田急線)", "しんじゅく"]
)
def test_geocoder_station_forms(query):
    shinjuku = next(s for s in gz.load_stations() if s.name == "新宿" and s.prefecture_code == "13")
    result = geocode(query)
    assert result.level == "station"
    assert result.label.startswith("新宿駅（東京都")
    assert (result.lat, result.lng) == (shinjuku.lat, shinjuku.lng)


def test_geocoder_station_line_hint_is_named_in_label():
    assert "小田急小田原線" in geocode("新宿(小田急線)").label


def test_geocoder_same_named_station_prefers_tokyo_unless_hinted():
    assert geocode("府中駅").prefecture == "東京都"
    assert geocode("府中駅(広島)").prefecture == "広島県"


def test_geocoder_ambiguous_town_prefers_tokyo_and_says_so():
    result = geocode("本町2丁目")
    assert result.prefecture == "東京都" and result.level == "town"
    assert "同名の町がほかに" in result.label
    assert result.alternatives and all(a.startswith("東京都") for a in result.alternatives)


def test_geocoder_preferred_prefecture_is_configurable():
    result = OfflineGeocoder("大阪府").geocode("本町")
    assert result.prefecture == "大阪府"
    with pytest.raises(ValueError):
        OfflineGeocoder("東京")


@pytest.mark.parametrize(
    ("query", "pref", "city", "name"),
    [
        ("北海道札幌市中央区旭ケ丘1丁目", "北海道", "札幌市中央区", "旭ケ丘一丁目"),
        ("札幌市中央区北1条西2丁目", "北海道", "札幌市中央区", "北一条西二丁目"),
        ("那覇市泉崎1-2-2", "沖縄県", "那覇市", "泉崎一丁目"),
        ("沖縄県国頭郡恩納村字恩納", "沖縄県", "国頭郡恩納村", "字恩納"),
        ("大阪市北区梅田1丁目", "大阪府", "大阪市北区", "梅田一丁目"),
    ],
)
def test_geocoder_whole_country(query, pref, city, name):
    result = geocode(query)
    assert (result.level, result.label) == ("town", f"{pref}{city}{name}")
    assert_at(result, town(pref, city, name))


@pytest.mark.parametrize("query", ["asdfgh", "zzzz 999", "？？？", "ほげほげふがふが", " "])
def test_geocoder_garbage_raises_not_understood(query):
    with pytest.raises(AddressNotUnderstood) as info:
        geocode(query)
    assert "わかりませんでした" in info.value.message_ja
    assert "Could not locate" in info.value.message_en
    assert info.value.status == 422


def test_geocoder_not_understood_offers_close_names():
    with pytest.raises(AddressNotUnderstood) as info:
        geocode("江東駅")
    assert info.value.suggestions
    assert "もしかして" in info.value.message_ja


def test_geocoder_rows_without_coordinates_do_not_crash():
    missing = [t for t in gz.load_towns() if t.lat is None][:50]
    for row in missing:
        result = geocode(row.label)  # falls back to a located neighbour or the municipality
        assert result.lat is not None and result.level in ("town", "municipality")


def test_geopy_locator_reads_level_and_label_from_a_geopy_geocoder():
    locator = GeopyLocator(StandInGeocoder())
    place = locator.geocode("亀戸8-5-1")
    assert place.level == "town" and place.label == "東京都江東区亀戸八丁目"
    with pytest.raises(AddressNotUnderstood):
        locator.geocode("asdfgh")


def test_haversine_matches_geopy():
    # Same sphere as great_circle (R = 6371.009 km): agreement to 1 mm. Against the WGS-84
    # ellipsoid (geodesic) a sphere errs by at most ~0.5 %.
    rng = random.Random(7)
    pairs = [
        ((rng.uniform(24, 46), rng.uniform(122, 154)), (rng.uniform(24, 46), rng.uniform(122, 154)))
        for _ in range(200)
    ]
    for a, b in pairs:
        assert math.isclose(haversine_km(*a, *b), great_circle(a, b).km, abs_tol=1e-6)
        assert math.isclose(haversine_km(*a, *b), geodesic(a, b).km, rel_tol=5e-3, abs_tol=1e-6)
    origin, points = pairs[0][0], [b for _, b in pairs]
    lats, lngs = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    assert list(haversine_np(*origin, lats, lngs)) == pytest.approx(
        [great_circle(origin, p).km for p in points], abs=1e-6
    )


def test_geocode_command_arguments_and_exit_code():
    runner = CliRunner()
    ok = runner.invoke(geocode_command, ["--json", "亀戸8-5-1", "新宿駅"])
    assert ok.exit_code == 0, ok.output
    first, second = (json.loads(line) for line in ok.output.splitlines())
    assert first["level"] == "town" and first["label"] == "東京都江東区亀戸八丁目"
    assert second["level"] == "station"
    bad = runner.invoke(geocode_command, ["江東区", "asdfgh"])
    assert bad.exit_code == 1
    assert "ERROR" in bad.output.splitlines()[1]


def test_geocode_command_reads_stdin_as_json_lines():
    runner = CliRunner()
    result = runner.invoke(geocode_command, ["-"], input="136-0071\n\nasdfgh\n江東区\n")
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["query"] for r in records] == ["136-0071", "asdfgh", "江東区"]
    assert set(records[0]) == {"query", "lat", "lng", "level", "label"}
    assert set(records[1]) == {"query", "error"} and records[1]["error"]
    assert records[2]["level"] == "municipality"
