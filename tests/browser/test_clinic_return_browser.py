"""A clinic comes back on its own and the office reviews its correction, in a real browser:
the sign-in link is read from the real SMTP server the tests start. The office pages and the
new clinic pages pass axe."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from index.sync import rebuild
from surveys.models import Campaign, Invitation, SurveyResponse
from tests.conftest import CodeClock
from tests.test_campaign_mail import smtp  # noqa: F401  (the real SMTP server fixture)

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips these tests (or fails them in CI)
    expect = None

pytestmark = pytest.mark.browser
LINK_RE = re.compile(r"http://[^/\s]+(/clinics/signin/[A-Za-z0-9_\-]+)")
OFFICE = {"OFFICE_PHONE": "03-5320-0000", "OFFICE_HOURS": "平日 9:00〜17:00"}


@pytest.fixture
def app(make_app, smtp):  # noqa: F811
    """No map tiles; mail through the loopback SMTP server; the office's contact set."""
    return make_app(MAP_TILE_URL="", MAIL_BACKEND="smtp", MAIL_SMTP_PORT=smtp.port, **OFFICE)


@pytest.fixture
def indexed(app, db, town):
    """The facilities around 錦糸町, indexed."""
    rebuild(db, app.extensions["pmh_index"])
    return town


def _choose(page, question: str, option: str) -> None:
    """Pick one option of a question by its visible texts."""
    page.get_by_role("group", name=question).get_by_label(option, exact=True).check()


def _first_answers(page) -> None:
    """Answer the survey for the first time, confirming the contact address."""
    _choose(page, "妊娠中の方の診療を受け入れていますか", "受け入れている")
    _choose(page, "産後1年以内の方の診療を受け入れていますか", "受け入れている")
    page.get_by_label("初診までの目安の待ち日数").fill("30")
    _choose(page, "掲載範囲", "一般公開（市民も検索できる）")
    page.get_by_label("回答者（氏名・職種）").fill("事務長 田中")
    page.get_by_label("調査の連絡先メールアドレス").fill("desk@oshiage.example.jp")
    page.get_by_role("button", name="回答を保存する").click()
    expect(page).to_have_url(re.compile(r"/clinic/$"))


def _sign_in_admin(page, user, clock: CodeClock) -> None:
    """Password, then the one-time code, through the forms."""
    page.goto("/login")
    page.get_by_label("メールアドレス").fill(user.email)
    page.get_by_label("パスワード").fill("correct horse")
    page.get_by_role("button", name="ログイン").click()
    page.get_by_label("確認コード(6桁)").fill(clock.code(user.totp_secret))
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(re.compile(r"/admin/$"))


def test_clinic_comes_back_by_mailed_link_and_its_correction_is_approved(
    make_page,
    db,
    app,
    indexed,
    make_invitation,
    make_user,
    code_clock,
    smtp,  # noqa: F811
    axe,
):
    facility = indexed["oshiage"]
    clinic = make_page()
    clinic.goto(f"/clinic/invite/{make_invitation(facility)}")
    clinic.get_by_role("button", name="回答ページへ進む").click()
    _first_answers(clinic)

    later = make_page()  # another day, another browser: no session, no password
    later.goto("/clinics")
    assert axe(later) == []
    later.get_by_label("登録されているメールアドレス").fill("desk@oshiage.example.jp")
    later.get_by_role("button", name="ログイン用リンクを送る").click()
    expect(later.get_by_role("status")).to_contain_text("ログイン用リンクを送信しました")
    assert smtp.to() == ["desk@oshiage.example.jp"]
    later.goto(LINK_RE.search(smtp.messages[0].get_content()).group(1))
    later.get_by_role("button", name="回答ページへ進む").click()
    expect(later).to_have_url(re.compile(r"/clinic/$"))
    later.get_by_role("link", name="回答する・修正する").click()
    later.get_by_label("初診までの目安の待ち日数").fill("3")
    later.get_by_role("button", name="回答を保存する").click()
    expect(later).to_have_url(re.compile(r"/clinic/$"))

    later.get_by_role("link", name="電話番号・診療時間などの修正").click()
    assert axe(later) == []
    later.get_by_label("電話番号").fill("03-6666-7777")
    later.get_by_role("button", name="修正を依頼する").click()
    expect(later.get_by_role("status")).to_contain_text("事務局に送りました")

    office = make_page()
    _sign_in_admin(office, make_user("admin"), code_clock)
    office.goto("/admin/corrections")
    expect(office.locator("main")).to_contain_text("03-6666-7777")
    assert axe(office) == []
    office.get_by_role("button", name="反映する").click()
    expect(office.get_by_role("status")).to_contain_text("修正を反映しました")

    nurse = make_page()
    nurse.goto("/?near=錦糸町駅&situation=pregnant&max_wait_days=7")
    results = nurse.locator("ol.results")
    expect(results).to_contain_text("押上さくら心療内科")
    expect(results).to_contain_text("03-6666-7777")
    db.expire_all()
    versions = db.exec(select(SurveyResponse).where(SurveyResponse.facility_id == facility.id))
    assert [v.answers["wait_days"] for v in versions][-1] == 3


def test_office_pages_pass_axe(make_page, db, make_user, code_clock, axe, make_facility):
    facility = make_facility(name="八王子ひかり病院")
    office = make_page()
    admin = make_user("admin")
    _sign_in_admin(office, admin, code_clock)
    office.goto("/admin/campaigns/new")
    office.get_by_label("名称").fill("2026年度 受入れ調査")
    office.get_by_label("締切日").fill("2099-03-31")
    office.get_by_label("島しょをすべて選ぶ").check()
    expect(office.get_by_label("小笠原村")).to_be_checked()  # the script ticks the region
    assert axe(office) == []
    office.get_by_role("button", name="作成する").click()
    expect(office).to_have_url(re.compile(r"/admin/campaigns/\d+$"))
    assert axe(office) == []
    campaign = db.exec(select(Campaign)).one()
    assert "13421" in campaign.scope["municipalities"]
    assert db.exec(select(Invitation)).all() == []
    for url in ("/admin/", "/admin/audit", "/admin/corrections", "/account/two-factor"):
        office.goto(url)
        assert axe(office) == [], url
    expect(office.locator("svg.qr")).to_be_visible()
    clinic = make_page()
    clinic.goto("/invite")
    assert axe(clinic) == []
    assert facility.id
