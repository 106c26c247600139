"""The bundled gazetteer: the whole country ships, Tokyo's municipalities carry their codes."""

from __future__ import annotations

from index.geo import gazetteer as gz

TOKYO_23_AND_MORE = {"13101": "千代田区", "13108": "江東区", "13201": "八王子市",
                     "13303": "西多摩郡瑞穂町", "13362": "利島村", "13421": "小笠原村"}  # fmt: skip


def test_gazetteer_tokyo_has_62_municipalities_with_codes():
    rows = gz.municipalities("13")
    assert len(rows) == 62
    assert all(len(m.code) == 5 and m.code.startswith("13") for m in rows)
    assert len({m.code for m in rows}) == 62
    for code, name in TOKYO_23_AND_MORE.items():
        assert gz.municipality_by_code(code).name == name


def test_gazetteer_municipality_spellings_map_to_one_code():
    assert gz.municipality_code("東京都", "西多摩郡瑞穂町") == "13303"
    assert gz.municipality_code("東京都", "瑞穂町") == "13303"
    assert gz.municipality_by_code("99999") is None


def test_gazetteer_other_prefectures_have_codes():
    assert gz.municipality_by_code("01101").name == "札幌市中央区"
    assert gz.municipality_by_code("47201").name == "那覇市"
    assert len(gz.prefectures()) == 47


def test_gazetteer_load_towns_tokyo_rows_carry_codes():
    towns = gz.load_towns("東京都")
    assert len(towns) == 5405
    kameido8 = next(t for t in towns if t.city == "江東区" and t.town == "亀戸八丁目")
    assert kameido8.municipality_code == "13108"
    assert abs(kameido8.lat - 35.700503) < 1e-6 and abs(kameido8.lng - 139.834839) < 1e-6
    assert all(t.municipality_code for t in towns)


def test_gazetteer_whole_country_ships():
    towns = gz.load_towns()
    assert len(towns) > 277_000
    assert {t.prefecture for t in towns} == set(gz.prefectures().values())
    assert any(t.town.startswith("旭ケ丘") for t in gz.load_towns("北海道"))
    assert any(t.city == "那覇市" for t in gz.load_towns("沖縄県"))


def test_gazetteer_rows_without_coordinates_are_kept_without_crashing():
    missing = [t for t in gz.load_towns() if t.lat is None]
    assert 400 < len(missing) < 600
    assert all(t.lng is None and t.label for t in missing)
    assert gz.town_groups("東京都")  # grouping copes with them


def test_gazetteer_station_and_postal_loaders():
    stations = [s for s in gz.load_stations() if s.name == "新宿" and s.prefecture_code == "13"]
    assert len(stations) == 1 and "JR山手線" in stations[0].lines
    (area,) = gz.postal_codes("1360071")
    assert (area.prefecture, area.city, area.town, area.level) == (
        "東京都",
        "江東区",
        "亀戸",
        "town",
    )
    assert gz.postal_codes("0000000") == [] and gz.postal_codes("12") == []


def test_gazetteer_notice_names_every_data_file():
    notice = (gz.DATA_DIR / "NOTICE.md").read_text(encoding="utf-8")
    for path in gz.DATA_DIR.iterdir():
        if path.name != "NOTICE.md":
            assert path.name in notice
    assert "CC BY-SA 4.0" in notice and "Geolonia 住所データ" in notice
