"""A nurse on a phone: search by station for a postpartum mother, open, shortlist, print."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from index.geo.gazetteer import TOKYO, load_towns
from index.sync import rebuild
from surveys.demo import seed_demo
from surveys.operations import current_responses

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips these tests (or fails them in CI)
    expect = None

pytestmark = pytest.mark.browser
SCREENSHOT = Path(__file__).resolve().parents[2] / "static" / "screenshots" / "results.png"


@pytest.fixture
def app(make_app):
    """No map tiles: nothing may leave the machine, and the page must work without them."""
    return make_app(MAP_TILE_URL="")


@pytest.fixture
def indexed(app, db, town):
    """The facilities around 錦糸町, indexed."""
    rebuild(db, app.extensions["pmh_index"])
    return town


def _sign_in(page, user) -> None:
    """Sign in through the login form."""
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill("correct horse")
    page.get_by_role("button", name="ログイン").click()


def _search_postpartum_breastfeeding(page, found: str = "3件見つかりました") -> None:
    """Search near 錦糸町駅 for a postpartum, breastfeeding mother who needs medication."""
    page.goto("/")
    page.get_by_label("産後1年以内").check()
    page.get_by_label("授乳中", exact=True).check()
    page.get_by_label("服薬が必要（妊娠中・授乳中の処方に対応）").check()
    expect(page.get_by_label("すでにその医療機関に通院中（再診）")).not_to_be_checked()
    page.get_by_label("場所（住所・駅名・郵便番号・区市町村）").fill("錦糸町駅")
    page.get_by_role("button", name="検索する").click()
    expect(page.get_by_role("heading", name=re.compile(found))).to_be_visible()


def _result_names(page) -> list[str]:
    return page.locator("ol.results h3 a").all_inner_texts()


def test_nurse_finds_shortlists_and_prints_on_a_phone(
    phone_page, axe, indexed, make_user, tmp_path
):
    page = phone_page
    _sign_in(page, make_user("staff"))
    page.goto("/")
    assert axe(page) == []
    _search_postpartum_breastfeeding(page)
    # Recommended order: 押上 (1.5 km, 3 days) and 亀戸 (1.1 km, 7 days) before the nearest,
    # whose first appointment is 30 days away.
    assert _result_names(page) == [
        "押上さくら心療内科",
        "亀戸メンタルクリニック",
        "錦糸町こころのクリニック",
    ]
    expect(page.locator(".leaflet-marker-icon.map-pin")).to_have_count(3)
    assert axe(page) == []

    page.get_by_role("button", name=re.compile("候補リストに追加.*亀戸メンタルクリニック")).click()
    page.get_by_role("link", name="錦糸町こころのクリニック").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("錦糸町こころのクリニック")
    assert axe(page) == []
    page.get_by_role("button", name="候補リストに追加").click()

    page.goto("/shortlist/")
    expect(page.locator("main h2 a")).to_have_count(2)
    page.get_by_role("link", name="お母さんに渡す印刷用ページ（A4）").click()
    sheet = page.locator("main")
    expect(sheet).to_contain_text("亀戸メンタルクリニック")
    expect(sheet).to_contain_text("錦糸町こころのクリニック")
    expect(sheet).to_contain_text("母子健康手帳")
    page.emulate_media(media="print")
    assert axe(page) == []


def _screenshot_path(tmp_path: Path) -> Path:
    """Where the results screenshot goes: the README's copy when asked to update it."""
    if os.environ.get("PMH_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        return SCREENSHOT
    return tmp_path / "results.png"


def test_clinic_change_shows_in_search(make_page, indexed, make_invitation):
    clinic = make_page()
    token = make_invitation(indexed["oshiage"])
    clinic.goto(f"/clinic/invite/{token}")
    clinic.get_by_role("button", name="回答ページへ進む").click()
    clinic.get_by_role("group", name="妊娠中の方の診療を受け入れていますか").get_by_label(
        "受け入れている", exact=True
    ).check()
    clinic.get_by_role("button", name="回答を保存する").click()
    expect(clinic).to_have_url(re.compile(r"/clinic/$"))

    nurse = make_page()
    nurse.goto("/?near=錦糸町駅&situation=pregnant")
    expect(nurse.locator("ol.results")).to_contain_text("押上さくら心療内科")


def test_public_sees_no_professional_only_field(make_page, axe, indexed, make_user):
    facility = indexed["near"]
    public = make_page()
    public.goto(f"/facilities/{facility.id}")
    expect(public.get_by_role("heading", level=1)).to_have_text("錦糸町こころのクリニック")
    expect(public.locator("main")).not_to_contain_text("03-0000-0000")  # contact fax
    assert axe(public) == []
    hidden = public.request.get(f"/facilities/{indexed['private'].id}")
    assert hidden.status == 404
    assert "関係者限定クリニック" not in hidden.text()

    staff = make_page()
    _sign_in(staff, make_user("staff"))
    staff.goto(f"/facilities/{facility.id}")
    expect(staff.locator("main")).to_contain_text("03-0000-0000")


def test_search_page_works_without_javascript(make_page, indexed):
    page = make_page(javascript=False)
    page.goto("/?near=錦糸町駅&situation=postpartum&breastfeeding=y&needs_rx=y")
    assert _result_names(page)[0] == "押上さくら心療内科"
    expect(page.get_by_label("出産後の月数")).to_be_visible()  # details are never hidden
    expect(page.locator("#map")).to_be_attached()


@pytest.mark.parametrize("width", [360, 640])
def test_pages_fit_a_narrow_screen(make_page, indexed, make_invitation, width):
    """360 px phones, and 1280 px desktops at 200% zoom (640 CSS px), never scroll sideways."""
    page = make_page(viewport={"width": width, "height": 800}, mobile=width == 360)
    urls = [
        "/",
        "/?near=錦糸町駅&situation=postpartum",
        f"/facilities/{indexed['near'].id}",
        "/login",
    ]
    for url in urls:
        page.goto(url)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} is {overflow} px too wide at {width} px"


@pytest.fixture
def demo(app, db, questionnaire):
    """The 600 demo facilities, indexed."""
    seed_demo(db, questionnaire, 600, 1, load_towns(TOKYO))
    db.commit()
    rebuild(db, app.extensions["pmh_index"])


def _accepts_new_breastfeeding_mother_on_medication(answers: dict) -> bool:
    return (
        answers.get("postpartum") in ("yes", "conditional")
        and answers.get("postpartum_patients") != "existing_only"
        and answers.get("new_patients") != "no"
        and answers.get("breastfeeding_rx") in ("yes", "consult")
    )


def _card_ids(page, selector: str = "ol.results > li.result") -> list[int]:
    ids = page.locator(selector).evaluate_all("cards => cards.map(c => c.id)")
    return [int(i.removeprefix("facility-")) for i in ids]


def test_nurse_on_a_phone_sees_who_will_see_the_mother(
    phone_page, axe, demo, db, make_user, tmp_path
):
    page = phone_page
    _sign_in(page, make_user("staff"))
    _search_postpartum_breastfeeding(page, found=r"\d+件見つかりました")
    accepting = _card_ids(page)
    assert accepting
    answers = current_responses(db, accepting)
    assert all(
        _accepts_new_breastfeeding_mother_on_medication(answers[i].answers) for i in accepting
    )
    expect(page.locator("ol.results")).not_to_contain_text("通院中の方のみ")
    expect(page.locator("ol.results li.declined")).to_have_count(0)
    expect(page.locator("p.why").first).to_contain_text("km・")
    assert axe(page) == []
    page.screenshot(path=_screenshot_path(tmp_path), full_page=False)

    # Shortlisting a card further down keeps the nurse where she is.
    card = page.locator("ol.results > li.result").nth(min(3, len(accepting) - 1))
    card.get_by_role("button", name=re.compile("候補リストに追加")).scroll_into_view_if_needed()
    before = page.evaluate("window.scrollY")
    assert before > 0
    card.get_by_role("button", name=re.compile("候補リストに追加")).click()
    expect(card.get_by_role("link", name=re.compile("候補に追加済み"))).to_be_visible()
    expect(page.locator("#shortlist-count")).to_have_text("1")
    assert page.evaluate("window.scrollY") == before

    # The link shows the declining and unanswered facilities after all the accepting ones.
    link = page.get_by_role(
        "link", name=re.compile(r"受け入れていない・未回答の医療機関も表示（\d+件）")
    )
    declined_count = int(re.search(r"（(\d+)件）", link.inner_text()).group(1))
    assert declined_count > 0
    link.click()
    everything = _card_ids(page)
    assert everything[: len(accepting)] == accepting
    declined = _card_ids(page, "ol.results > li.result.declined")
    assert declined == everything[len(accepting) :] and declined
    expect(page.locator("ol.results li.declined .badge-declined").first).to_be_visible()
    assert axe(page) == []


def test_situation_details_follow_the_ticks(page, indexed):
    page.goto("/")
    stage = page.get_by_label("妊娠時期")
    expect(stage).to_be_hidden()
    page.get_by_label("妊娠中", exact=True).check()
    stage.select_option("second")
    page.get_by_label("妊娠中", exact=True).uncheck()  # changed her mind: postpartum after all
    page.get_by_label("産後1年以内").check()
    expect(page.get_by_label("出産後の月数")).to_be_visible()
    page.get_by_label("場所（住所・駅名・郵便番号・区市町村）").fill("錦糸町駅")
    page.get_by_role("button", name="検索する").click()
    expect(page.get_by_role("heading", name=re.compile("件見つかりました"))).to_be_visible()
