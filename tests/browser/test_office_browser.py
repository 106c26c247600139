"""The programme office in Chromium: sign in with a code, dashboard, coverage map, a campaign."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from surveys import totp
from surveys.operations import today_in_japan

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips these tests (or fails them in CI)
    expect = None

pytestmark = pytest.mark.browser
TILES = "http://tiles.invalid/{z}/{x}/{y}.png"  # answered by the test itself, never the network
TILE_PNG = Path(__file__).resolve().parents[2] / "static/vendor/leaflet/images/layers.png"


@pytest.fixture
def app(make_app, tmp_path):
    """Tiles from a host the test answers (or refuses); mail written to files."""
    return make_app(MAP_TILE_URL=TILES, MAIL_BACKEND="file", MAIL_FOLDER=str(tmp_path / "mail"))


def _sign_in_with_code(page, admin) -> None:
    """Password, then the one-time code, as an admin does."""
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(admin.email)
    page.get_by_label("パスワード").fill("correct horse")
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード(6桁)").fill(totp.totp(admin.totp_secret))
    page.get_by_role("button", name="ログイン").click()


def _markers(page):
    """The map's vector markers (facilities and far towns)."""
    return page.locator("#coverage-map path.leaflet-interactive")


def test_office_signs_in_sees_dashboard_and_coverage_map(make_page, axe, town, make_user):
    page = make_page()
    page.route("http://tiles.invalid/**", lambda route: route.fulfill(path=TILE_PNG))
    _sign_in_with_code(page, make_user("admin"))
    expect(page.get_by_role("heading", name="ダッシュボード", level=1)).to_be_visible()
    assert page.url.endswith("/admin/")
    assert axe(page) == []

    page.get_by_role("navigation", name="管理メニュー").get_by_role("link", name="空白地域").click()
    expect(page.locator("#coverage-map .leaflet-tile-loaded").first).to_be_visible()
    expect(_markers(page).first).to_be_visible()
    assert _markers(page).count() >= 2
    assert axe(page) == []


def test_coverage_markers_and_table_show_when_tiles_cannot_load(
    make_page, page_errors, town, make_user
):
    page = make_page()
    page.route("http://tiles.invalid/**", lambda route: route.abort())
    _sign_in_with_code(page, make_user("admin"))
    page.goto("/admin/coverage")
    expect(_markers(page).first).to_be_visible()
    expect(page.get_by_role("cell", name="江東区").first).to_be_visible()
    # Refused tiles are logged by the browser as failed loads; nothing else may be.
    page_errors.messages = [m for m in page_errors.messages if "tiles.invalid" not in m]


def test_office_creates_a_campaign_and_sends_invitations(make_page, axe, town, make_user, db):
    for facility in town.values():
        facility.email = f"{facility.source_id.lower()}@example.jp"
        db.add(facility)
    db.commit()
    page = make_page()
    _sign_in_with_code(page, make_user("admin"))
    page.goto("/admin/campaigns/new")
    page.get_by_label("名称").fill("2026年度 受入れ調査")
    closes = today_in_japan() + timedelta(days=30)
    page.get_by_label("締切日").fill(closes.isoformat())
    page.get_by_role("button", name="作成する").click()
    expect(page.get_by_role("heading", name="2026年度 受入れ調査")).to_be_visible()
    assert axe(page) == []

    page.get_by_label("対象の医療機関に招待メールを送信します").check()
    page.get_by_role("button", name="招待メールを送信する").click()
    expect(page.get_by_text(f"{len(town)}通送信しました。")).to_be_visible()
    expect(page.locator("#stat-sent")).to_have_text(str(len(town)))
    expect(page.locator("#stat-queued")).to_have_text("0")
