"""Admin dashboard and coverage-gap page: figures, SVG chart, threshold form, map, CSV.

The hand-made dashboard fixture (prefecture 13 unless said):

    A 墨田区  pregnant yes, postpartum yes, verified today, one open report
    B 墨田区  pregnant no, postpartum yes, verified 13 months ago
    C 江東区  never answered
    D 江東区  pregnant conditional, postpartum no, verified today, one resolved report
    F (no municipality code) never answered: in scope, not in any municipality
    K Kanagawa (14) pregnant yes, open report: out of scope
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlmodel import select

from index.coverage import prefecture_coverage, report_csv
from index.geo.gazetteer import municipalities
from surveys import audit
from surveys.dashboard import Figures, dashboard
from surveys.models import SurveyResponse, utcnow
from surveys.operations import confirm_still_accurate, today_in_japan
from surveys.reports import create_report, resolve_report

SVG = "{http://www.w3.org/2000/svg}"
ROW_RE = re.compile(r'<tr data-code="([^"]*)">(.*?)</tr>', re.S)
CELL_RE = re.compile(r"<td>([^<]*)")
BAD_THRESHOLD = "しきい値は0より大きく200以下の数（km）で入力してください。"


def _backdate(db, facility, days: int) -> None:
    """Move a facility's only answer `days` days into the past."""
    response = db.exec(
        select(SurveyResponse).where(SurveyResponse.facility_id == facility.id)
    ).one()
    response.verified_on = today_in_japan() - timedelta(days=days)
    db.add(response)
    db.commit()


def _report(db, facility, reporter) -> object:
    """Store an access report made a moment after the facility's answer."""
    actor = audit.Actor(label=reporter.email, user_id=reporter.id)
    report = create_report(
        db, facility, "no_capacity", "", actor, now=utcnow() + timedelta(seconds=5)
    )
    db.commit()
    return report


@pytest.fixture
def scope(db, make_facility, make_user, answer):
    """The facilities of the module docstring."""
    made = {
        "A": make_facility(name="墨田A", municipality_code="13107"),
        "B": make_facility(name="墨田B", municipality_code="13107"),
        "C": make_facility(name="江東C", municipality_code="13108"),
        "D": make_facility(name="江東D", municipality_code="13108"),
        "F": make_facility(name="不明F", municipality_code=""),
        "K": make_facility(name="横浜K", prefecture_code="14", municipality_code="14101"),
    }
    answer(made["A"], pregnant="yes", postpartum="yes")
    answer(made["B"], pregnant="no", postpartum="yes")
    answer(made["D"], pregnant="conditional", postpartum="no")
    answer(made["K"], pregnant="yes")
    _backdate(db, made["B"], 396)  # 13 months
    nurse = make_user("staff")
    _report(db, made["A"], nurse)
    _report(db, made["K"], nurse)
    resolved = _report(db, made["D"], nurse)
    resolve_report(db, resolved.id, audit.CLI_ACTOR)
    db.commit()
    return made


def _rows(page: str) -> dict[str, list[str]]:
    """Return each table row's data cells by its data-code."""
    return {code: CELL_RE.findall(body) for code, body in ROW_RE.findall(page)}


def _svg(page: str) -> ET.Element:
    """Parse the page's inline SVG chart."""
    match = re.search(r"<svg.*?</svg>", page, re.S)
    assert match, "no SVG chart on the page"
    return ET.fromstring(match.group(0))


def test_dashboard_figures_count_scope_answers_verification_and_open_reports(db, scope):
    data = dashboard(db, "13", "東京都", municipalities("13"))
    assert data.prefecture == "東京都"
    assert data.total == Figures(5, 3, 2, 2, 2, 1)
    rows = {row.code: row for row in data.municipalities}
    assert rows["13107"].name == "墨田区"
    assert rows["13107"].figures == Figures(2, 2, 1, 2, 1, 1)
    assert rows["13108"].figures == Figures(2, 1, 1, 0, 1, 0)
    assert rows["13101"].figures == Figures()
    assert data.unassigned == Figures(1, 0, 0, 0, 0, 0)
    assert [row.code for row in data.municipalities] == [m.code for m in municipalities("13")]


def test_dashboard_verified_counts_a_still_accurate_confirmation(db, scope, questionnaire):
    confirm_still_accurate(db, scope["B"], audit.CLI_ACTOR, 1)
    db.commit()
    assert dashboard(db, "13", "東京都", municipalities("13")).total.verified_recently == 3


def test_dashboard_page_shows_the_figures_table_and_nav(client, admin, scope):
    page = client.get("/admin/").get_data(as_text=True)
    assert '<span class="stat-value" id="stat-facilities">5</span>' in page
    assert '<span class="stat-value" id="stat-verified">2</span>' in page
    assert '<span class="stat-value" id="stat-reports">1</span>' in page
    rows = _rows(page)
    assert [c.strip() for c in rows["13107"]] == ["2", "2", "1", "2", "1", "1"]
    assert [c.strip() for c in rows["13108"]] == ["2", "1", "1", "0", "1", "0"]
    assert [c.strip() for c in rows["total"]] == ["5", "3", "2", "2", "2", "1"]
    assert [c.strip() for c in rows[""]] == ["1", "0", "0", "0", "0", "0"]
    nav = re.search(r'<nav class="admin-nav".*?</nav>', page, re.S).group(0)
    for url in ("/admin/", "/admin/coverage", "/admin/exports", "/admin/reports"):
        assert f'href="{url}"' in nav
    assert 'href="/admin/" aria-current="page"' in nav
    assert 'href="/admin/">管理</a>' in page  # the header link


def test_dashboard_chart_is_svg_with_one_bar_group_per_municipality(client, admin, scope):
    page = client.get("/admin/").get_data(as_text=True)
    svg = _svg(page)
    assert svg.get("role") == "img"
    labelled = svg.get("aria-labelledby").split()
    ids = {el.get("id") for el in svg.iter() if el.get("id")}
    assert labelled and set(labelled) <= ids
    assert svg.find(f"{SVG}title").text
    groups = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "bar-group"]
    codes = [m.code for m in municipalities("13")]
    assert [g.get("data-key") for g in groups] == codes
    sumida = groups[codes.index("13107")]
    assert len(sumida.findall(f"{SVG}rect")) == 4
    assert sumida.find(f"{SVG}title").text.startswith("墨田区: 医療機関 2、回答あり 2")
    assert "style=" not in page.split("<main", 1)[1]  # the CSP forbids inline styles


def test_reports_page_has_the_admin_nav(client, admin):
    page = client.get("/admin/reports").get_data(as_text=True)
    assert '<nav class="admin-nav"' in page
    assert 'href="/admin/reports" aria-current="page"' in page


@pytest.fixture
def spread(make_facility, answer):
    """Accepting facilities in central Tokyo and one in 八王子, plus one that does not accept."""
    made = [
        make_facility(name="墨田受入", municipality_code="13107", lat=35.70, lng=139.80),
        make_facility(name="江東受入", municipality_code="13108", lat=35.67, lng=139.82),
        make_facility(name="八王子受入", municipality_code="13201", lat=35.66, lng=139.32),
        make_facility(name="新宿なし", municipality_code="13104", lat=35.69, lng=139.70),
    ]
    answer(made[0], pregnant="yes", postpartum="no")
    answer(made[1], pregnant="conditional", postpartum="yes")
    answer(made[2], pregnant="yes", postpartum="yes")
    answer(made[3], pregnant="no", postpartum="no")
    return made


def _km(value: float | None) -> str:
    """Format a distance as the page does."""
    return "–" if value is None else f"{value:.1f}"


def test_coverage_page_table_matches_the_coverage_report(app, client, admin, db, spread):
    page = client.get("/admin/coverage?threshold_km=15").get_data(as_text=True)
    report = prefecture_coverage(db, "13", 15.0)
    rows = _rows(page)
    for row in report.municipalities:
        expected = [
            str(row.accepting_pregnant),
            str(row.accepting_postpartum),
            _km(row.pregnant.median_km),
            _km(row.pregnant.worst_km),
            _km(row.postpartum.median_km),
            _km(row.postpartum.worst_km),
            f"{row.pregnant.towns_beyond} / {row.postpartum.towns_beyond}",
        ]
        assert rows[row.code] == expected, row.name
    assert rows["13107"][:2] == ["1", "0"]
    assert f"15 km を超える町丁目: {len(report.gaps)} 件" in page
    assert 'value="15"' in page


def test_coverage_csv_is_the_coverage_report(client, admin, db, spread):
    response = client.get("/admin/coverage.csv?threshold_km=15")
    assert response.status_code == 200
    assert response.data == report_csv(prefecture_coverage(db, "13", 15.0))
    assert "attachment;" in response.headers["Content-Disposition"]
    towns = client.get("/admin/coverage.csv?threshold_km=15&towns=1")
    assert towns.data == report_csv(prefecture_coverage(db, "13", 15.0), towns=True)
    assert client.get("/admin/coverage.csv?threshold_km=abc").status_code == 400


@pytest.mark.parametrize("value", ["abc", "-3", "0", "1e9"])
def test_coverage_threshold_form_rejects_bad_input_with_a_message(client, admin, spread, value):
    response = client.get(f"/admin/coverage?threshold_km={value}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert BAD_THRESHOLD in page
    assert 'aria-invalid="true"' in page
    assert 'id="coverage-table"' in page  # the table still shows, with the default threshold
    assert "10 km を超える町丁目" in page


def test_coverage_threshold_accepts_full_width_digits(client, admin, spread):
    response = client.get("/admin/coverage?threshold_km=１２.５")
    assert response.status_code == 200
    assert "12.5 km を超える町丁目" in response.get_data(as_text=True)


def _coverage_page(app, login, user) -> str:
    """Sign in on a fresh client of `app` and return the coverage page."""
    client = app.test_client()
    login(user, using=client)
    response = client.get("/admin/coverage?threshold_km=15")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_coverage_map_appears_only_when_tiles_are_configured(
    app, make_app, login, make_user, spread
):
    with_tiles = _coverage_page(app, login, make_user("admin"))
    assert 'id="coverage-map"' in with_tiles and "js/coverage_map.js" in with_tiles
    raw = re.search(
        r'<script type="application/json" id="coverage-data">(.*?)</script>', with_tiles, re.S
    ).group(1)
    data = json.loads(raw)
    assert data["tiles"] == app.config["MAP_TILE_URL"]
    assert {s["name"] for s in data["sites"]} == {"墨田受入", "江東受入", "八王子受入"}
    assert data["gaps"] and all({"lat", "lng", "name"} <= set(g) for g in data["gaps"])

    # Another admin: a one-time code is accepted once only.
    without = _coverage_page(make_app("notiles", MAP_TILE_URL=""), login, make_user("admin"))
    assert 'id="coverage-map"' not in without and "coverage-data" not in without
    assert "coverage_map.js" not in without
    assert 'id="coverage-table"' in without


@pytest.mark.parametrize("role", ["staff", "clinic"])
def test_new_admin_pages_are_forbidden_to_other_roles(
    client, login, make_user, make_facility, role
):
    facilities = [make_facility()] if role == "clinic" else []
    login(make_user(role, facilities=facilities))
    for url in ("/admin/", "/admin/coverage", "/admin/coverage.csv", "/admin/exports"):
        assert client.get(url).status_code == 403, url
