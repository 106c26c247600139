"""Coverage-gap report: counts per municipality, distances to accepting facilities, `pmh coverage`.

The hand-checked fixture: two wards with two town points each (and one town without
coordinates), an island village with no towns and no facilities, and five facilities:

    A 墨田区 (35.70, 139.80) pregnant yes, postpartum no, verified today
    B 江東区 (35.67, 139.82) pregnant conditional, postpartum yes, verified 400 days ago
    C 江東区 no coordinates, pregnant yes, postpartum conditional
    D 墨田区 (35.71, 139.81) never answered
    E 足立区 (35.74, 139.80) pregnant no, postpartum yes (outside the two wards)

Nearest accepting facility, great-circle km (geopy `great_circle`, also checked below):

    town               pregnant       postpartum
    S1 墨田区 35.71/139.81   1.432 (A)      3.456 (E)
    S2 墨田区 35.73/139.83   4.297 (A)      2.927 (E)
    K1 江東区 35.68/139.82   1.112 (B)      1.112 (B)
    K2 江東区 35.60/139.92  11.927 (B)     11.927 (B)
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from datetime import timedelta

import numpy as np
import pytest
from geopy.distance import great_circle
from sqlmodel import select

from index import coverage
from index.coverage import (
    CoverageError,
    Reach,
    compute_coverage,
    nearest_km,
    prefecture_coverage,
    report_csv,
    report_json,
)
from index.geo.gazetteer import Municipality, Town
from search_app.cli import coverage as coverage_cli
from surveys.models import SurveyResponse
from surveys.operations import today_in_japan

SUMIDA = Municipality("13107", "東京都", "墨田区")
KOTO = Municipality("13108", "東京都", "江東区")
TOSHIMA = Municipality("13362", "東京都", "利島村")
AREAS = [SUMIDA, KOTO, TOSHIMA]
A, B, E = (35.70, 139.80), (35.67, 139.82), (35.74, 139.80)
S1, S2, K1, K2 = (35.71, 139.81), (35.73, 139.83), (35.68, 139.82), (35.60, 139.92)
TOWNS = [
    Town("東京都", "墨田区", "押上一丁目", *S1, "13107"),
    Town("東京都", "墨田区", "八広一丁目", *S2, "13107"),
    Town("東京都", "墨田区", "令和一丁目", None, None, "13107"),
    Town("東京都", "江東区", "亀戸一丁目", *K1, "13108"),
    Town("東京都", "江東区", "若洲", *K2, "13108"),
    Town("東京都", "千代田区", "丸の内一丁目", 35.68, 139.76, "13101"),  # not an area: ignored
]
KM = 0.01  # tolerance: the report is rounded to 10 m, geopy uses the same Earth radius


def km(a, b) -> float:
    """Great-circle distance in km, as geopy computes it."""
    return great_circle(a, b).km


@pytest.fixture
def facilities(db, make_facility, answer):
    """The five facilities of the module docstring."""
    made = {
        "A": make_facility(name="墨田A", municipality_code="13107", lat=A[0], lng=A[1]),
        "B": make_facility(name="江東B", municipality_code="13108", lat=B[0], lng=B[1]),
        "C": make_facility(name="江東C", municipality_code="13108", lat=None, lng=None),
        "D": make_facility(name="墨田D", municipality_code="13107", lat=35.71, lng=139.81),
        "E": make_facility(name="足立E", municipality_code="13121", lat=E[0], lng=E[1]),
    }
    answer(made["A"], pregnant="yes", postpartum="no")
    answer(made["B"], pregnant="conditional", postpartum="yes")
    answer(made["C"], pregnant="yes", postpartum="conditional")
    answer(made["E"], pregnant="no", postpartum="yes")
    _verified_days_ago(db, made["B"], 400)
    return made


def _verified_days_ago(db, facility, days: int) -> None:
    """Backdate a facility's only answer."""
    query = select(SurveyResponse).where(SurveyResponse.facility_id == facility.id)
    response = db.exec(query).one()
    response.verified_on = today_in_japan() - timedelta(days=days)
    db.add(response)
    db.commit()


def report_of(db, threshold_km: float = 10.0):
    """Compute the report on the hand-made areas and towns."""
    return compute_coverage(db, AREAS, TOWNS, threshold_km, prefecture="東京都")


def test_coverage_counts_per_municipality(db, facilities):
    report = report_of(db)
    sumida, koto, toshima = report.municipalities
    assert (sumida.name, sumida.facilities, sumida.answered) == ("墨田区", 2, 1)
    assert (sumida.accepting_pregnant, sumida.accepting_postpartum) == (1, 0)
    assert (sumida.verified_recently, sumida.facilities_without_coordinates) == (1, 0)
    assert (sumida.towns, sumida.towns_without_coordinates) == (2, 1)
    assert (koto.facilities, koto.answered, koto.accepting_pregnant) == (2, 2, 2)
    assert (koto.accepting_postpartum, koto.verified_recently) == (2, 1)
    assert (koto.facilities_without_coordinates, koto.towns) == (1, 2)
    assert (toshima.facilities, toshima.answered, toshima.towns) == (0, 0, 0)
    assert toshima.pregnant == toshima.postpartum == Reach(None, None, 0)
    assert report.facilities == 5 and report.facilities_without_coordinates == 1
    assert report.accepting_without_coordinates == {"pregnant": 1, "postpartum": 1}
    assert report.unassigned_facilities == 1  # E: counted for distances only
    assert report.prefecture == "東京都" and report.threshold_km == 10.0


def test_coverage_distances_match_great_circle(db, facilities):
    sumida, koto, _toshima = report_of(db).municipalities
    # 墨田区: pregnant via A; postpartum via E, a facility in another municipality.
    assert sumida.pregnant.median_km == pytest.approx((km(S1, A) + km(S2, A)) / 2, abs=KM)
    assert sumida.pregnant.median_km == pytest.approx(2.865, abs=KM)
    assert sumida.pregnant.worst_km == pytest.approx(4.297, abs=KM)
    assert sumida.postpartum.median_km == pytest.approx((km(S1, E) + km(S2, E)) / 2, abs=KM)
    assert sumida.postpartum.worst_km == pytest.approx(km(S1, E), abs=KM)
    assert sumida.postpartum.worst_km == pytest.approx(3.456, abs=KM)
    # 江東区: C accepts both but has no coordinates, so B is the nearest for both towns.
    for reach in (koto.pregnant, koto.postpartum):
        assert reach.median_km == pytest.approx((km(K1, B) + km(K2, B)) / 2, abs=KM)
        assert reach.worst_km == pytest.approx(km(K2, B), abs=KM)
        assert reach.worst_km == pytest.approx(11.927, abs=KM)
        assert reach.towns_beyond == 1
    assert sumida.pregnant.towns_beyond == sumida.postpartum.towns_beyond == 0


def test_coverage_lists_towns_beyond_threshold(db, facilities):
    report = report_of(db)
    assert [(g.municipality, g.town) for g in report.gaps] == [("江東区", "若洲")]
    gap = report.gaps[0]
    assert gap.pregnant_km == pytest.approx(km(K2, B), abs=KM)
    assert gap.pregnant_beyond and gap.postpartum_beyond

    closer = report_of(db, threshold_km=3.0)
    # by municipality, farthest first; a town is listed when either group is beyond
    assert [(g.town, g.pregnant_beyond, g.postpartum_beyond) for g in closer.gaps] == [
        ("八広一丁目", True, False),
        ("押上一丁目", False, True),
        ("若洲", True, True),
    ]
    sumida = closer.municipalities[0]
    assert (sumida.pregnant.towns_beyond, sumida.postpartum.towns_beyond) == (1, 1)


def test_coverage_without_accepting_facility_gives_none(db, make_facility, answer):
    answer(make_facility(municipality_code="13107"), pregnant="no", postpartum="unknown")
    report = report_of(db)
    sumida = report.municipalities[0]
    assert (sumida.facilities, sumida.answered, sumida.accepting_pregnant) == (1, 1, 0)
    assert sumida.pregnant == sumida.postpartum == Reach(None, None, 2)
    assert len(report.gaps) == 4  # every located town: nothing accepts anywhere
    assert all(g.pregnant_km is None and g.pregnant_beyond for g in report.gaps)
    document = json.loads(report_json(report))
    assert document["municipalities"][0]["pregnant_median_km"] is None
    assert document["towns_beyond_threshold"][0]["postpartum_km"] is None


def test_coverage_of_empty_database_covers_every_municipality(db):
    report = prefecture_coverage(db, "13")
    assert len(report.municipalities) == 62 and report.facilities == 0
    rows = {row.name: row for row in report.municipalities}
    assert rows["利島村"].towns == 0 and rows["利島村"].pregnant == Reach(None, None, 0)
    assert rows["千代田区"].pregnant == Reach(None, None, rows["千代田区"].towns)
    assert len(report.gaps) == sum(row.towns for row in report.municipalities)
    json.loads(report_json(report))  # allow_nan=False: raises on NaN or Infinity


def test_coverage_of_tokyo_shows_islands_far_away(db, make_facility, answer):
    shinjuku = make_facility(municipality_code="13104", lat=35.6938, lng=139.7034)
    answer(shinjuku, pregnant="yes", postpartum="yes")
    report = prefecture_coverage(db, "13", threshold_km=10)
    rows = {row.name: row for row in report.municipalities}
    assert rows["新宿区"].accepting_pregnant == 1 and rows["新宿区"].pregnant.worst_km < 5
    assert rows["八丈町"].pregnant.median_km > 250
    assert rows["小笠原村"].postpartum.worst_km > 1000  # 南鳥島
    assert rows["利島村"].pregnant == Reach(None, None, 0)
    assert {g.municipality for g in report.gaps} >= {"八丈町", "小笠原村", "大島町", "八王子市"}
    assert "新宿区" not in {g.municipality for g in report.gaps}
    assert sum(row.towns_without_coordinates for row in report.municipalities) > 0


@pytest.mark.parametrize("threshold", [0, -1.0, math.nan, math.inf])
def test_coverage_refuses_bad_threshold(threshold):
    with pytest.raises(CoverageError):
        compute_coverage(None, AREAS, TOWNS, threshold)


def test_coverage_refuses_unknown_prefecture(db):
    with pytest.raises(CoverageError):
        prefecture_coverage(db, "99")


def test_nearest_km_matches_great_circle_across_chunks(monkeypatch):
    monkeypatch.setattr(coverage, "TOWN_CHUNK", 7)
    rng = random.Random(3)
    points = [(rng.uniform(24, 36), rng.uniform(136, 154)) for _ in range(30)]
    sites = [(rng.uniform(35.5, 35.9), rng.uniform(139.2, 139.9)) for _ in range(12)]
    lats, lngs = (np.array(values) for values in zip(*points, strict=True))
    site_lats, site_lngs = (np.array(values) for values in zip(*sites, strict=True))
    found = nearest_km(lats, lngs, site_lats, site_lngs)
    expected = [min(km(p, s) for s in sites) for p in points]
    assert found.tolist() == pytest.approx(expected, abs=1e-6)
    assert np.isnan(nearest_km(lats, lngs, np.array([]), np.array([]))).all()


def test_report_csv_has_headers_flags_and_empty_cells(db, facilities):
    report = report_of(db, threshold_km=3.0)
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert rows[0][:3] == ["市区町村コード", "市区町村", "医療機関数"]
    assert [r[1] for r in rows[1:]] == ["墨田区", "江東区", "利島村"]
    assert rows[3][10:] == ["", "", "0", "", "", "0"]  # 利島村: no distances
    towns = list(csv.reader(io.StringIO(report_csv(report, towns=True, lang="en").decode())))
    assert towns[0][2] == "Town" and towns[1][2:3] + towns[1][-2:] == ["八広一丁目", "yes", "no"]
    assert float(towns[1][5]) == pytest.approx(4.30, abs=KM)


def test_cli_coverage_writes_csv_and_json(app, db, facilities, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "coverage.csv"
    result = runner.invoke(coverage_cli.coverage_command, ["-o", target])
    assert result.exit_code == 0, result.output
    assert "Wrote coverage of 62 municipalities" in result.output
    content = target.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens the Japanese text
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    sumida = next(r for r in rows if r["市区町村"] == "墨田区")
    assert [sumida[k] for k in ("医療機関数", "回答あり", "妊娠中の方を受入れ")] == ["2", "1", "1"]
    assert len(rows) == 62

    document_path = tmp_path / "coverage.json"
    args = ["--threshold-km", "3", "-o", document_path]
    assert runner.invoke(coverage_cli.coverage_command, args).exit_code == 0
    document = json.loads(document_path.read_text(encoding="utf-8"))
    assert document["threshold_km"] == 3.0 and len(document["municipalities"]) == 62
    assert document["facilities_without_coordinates"] == 1
    assert any(g["municipality"] == "墨田区" for g in document["towns_beyond_threshold"])
    assert document["generated_at"].endswith("+09:00")


def test_cli_coverage_prints_table_and_town_csv(app, db, facilities):
    runner = app.test_cli_runner()
    table = runner.invoke(coverage_cli.coverage_command, [])
    assert table.exit_code == 0, table.output
    assert "墨田区" in table.output and "小笠原村" in table.output
    assert "座標のない医療機関 1 件" in table.output
    assert "10 km を超える町丁目" in table.output

    towns = runner.invoke(coverage_cli.coverage_command, ["--format", "csv", "--towns"])
    header = next(csv.reader(io.StringIO(towns.output)))
    assert header[:3] == ["市区町村コード", "市区町村", "町丁目"]


def test_cli_coverage_refuses_bad_threshold(app):
    result = app.test_cli_runner().invoke(coverage_cli.coverage_command, ["--threshold-km", "0"])
    assert result.exit_code == 2
    assert "threshold-km" in result.output
