"""The network in a browser: an obstetrician sees the clinics that work with her unit and
searches near it preferring them; a clinic chooses its partner units with and without
JavaScript."""

from __future__ import annotations

import pytest

from index.sync import rebuild
from surveys.operations import current_response

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips these tests (or fails them in CI)
    expect = None

pytestmark = pytest.mark.browser

KAMEIDO = (35.6975, 139.8262)


@pytest.fixture
def app(make_app):
    """No map tiles: nothing may leave the machine."""
    return make_app(MAP_TILE_URL="")


@pytest.fixture
def network(make_facility, answer):
    """An obstetric unit in 江東区, its contact point, and two equal clinics near it of which
    only the one that sorts second by name names the unit as a partner."""
    lat, lng = KAMEIDO
    unit = make_facility(
        name="亀戸さくら産婦人科", category="obstetric", departments="産婦人科", lat=lat, lng=lng
    )
    make_facility(
        name="江東区こども家庭センター",
        category="municipal",
        kind="family_center",
        municipality_code="13108",
        phone="03-3647-0000",
        hours="平日 8:30〜17:15",
    )
    other = make_facility(name="あおばメンタルクリニック", kana="アオバ", lat=lat + 0.01, lng=lng)
    partner = make_facility(name="わかばメンタルクリニック", kana="ワカバ", lat=lat - 0.01, lng=lng)
    answer(other, wait_days=7)
    answer(partner, wait_days=7, partner_facilities=[unit.id])
    return {"unit": unit, "partner": partner, "other": other}


def _sign_in(page, user) -> None:
    """Sign in through the login form."""
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill("correct horse")
    page.get_by_role("button", name="ログイン").click()


def test_obstetrician_finds_partner_clinics_and_searches_near_her_unit(
    app, db, page, axe, network, make_user
):
    rebuild(db, app.extensions["pmh_index"])
    _sign_in(page, make_user("staff"))
    page.goto(f"/facilities/{network['unit'].id}")
    partners = page.locator("section.partners")
    expect(partners).to_contain_text("この産科と連携している医療機関")
    expect(partners.get_by_role("link", name="わかばメンタルクリニック")).to_be_visible()
    expect(partners).not_to_contain_text("あおばメンタルクリニック")
    assert axe(page) == []

    partners.get_by_role("link", name="この産科と連携する医療機関を近くで探す").click()
    expect(page.locator(".partner-note")).to_contain_text("亀戸さくら産婦人科")
    first = page.locator("li.result").first
    expect(first).to_contain_text("わかばメンタルクリニック")
    expect(first.locator(".why")).to_contain_text("紹介元の産科と連携あり")
    expect(page.locator("li.result").nth(1)).to_contain_text("あおばメンタルクリニック")
    contacts = page.locator("section.local-contacts")
    expect(contacts).to_contain_text("江東区こども家庭センター")
    expect(contacts.get_by_role("link", name="03-3647-0000")).to_have_attribute(
        "href", "tel:0336470000"
    )
    assert axe(page) == []

    page.locator("li.result").first.get_by_role("link", name="わかばメンタルクリニック").click()
    expect(page.get_by_role("link", name="亀戸さくら産婦人科")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False])
def test_clinic_chooses_its_partner_unit(
    app, db, make_page, axe, network, make_facility, make_user, javascript
):
    clinic = network["other"]
    make_facility(name="墨田ひかり産院", category="obstetric", municipality_code="13107")
    page = make_page(javascript=javascript)
    _sign_in(page, make_user("clinic", facilities=[clinic]))
    page.goto(f"/clinic/facilities/{clinic.id}/survey")
    picker = page.locator("[data-links-picker]")
    expect(picker).to_contain_text("まだ選ばれていません。")
    if javascript:  # a filter by name opens the matching group and hides the others
        picker.get_by_label("名前で絞り込む").fill("さくら")
        expect(picker.get_by_label("墨田ひかり産院")).to_be_hidden()
        assert axe(page) == []  # axe itself needs JavaScript
    else:
        expect(picker.get_by_label("名前で絞り込む")).to_be_hidden()
        picker.locator("summary", has_text="江東区").click()
    picker.get_by_label("亀戸さくら産婦人科").check()
    page.get_by_role("button", name="回答を保存する").click()
    expect(page.locator(".flash")).to_contain_text("回答を保存しました")
    db.expire_all()
    links = current_response(db, clinic.id).answers["partner_facilities"]
    assert links == [{"id": network["unit"].id, "name": "亀戸さくら産婦人科"}]
