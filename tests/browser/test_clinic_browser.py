"""Clinic portal in a real browser: invitation, conditional questions, saving, accessibility."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from surveys.models import SurveyResponse

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then skips these tests (or fails them in CI)
    expect = None

pytestmark = pytest.mark.browser

SAVED = "回答を保存しました。ご協力ありがとうございます。"
PREGNANT = "妊娠中の方の診療を受け入れていますか"
POSTPARTUM = "産後1年以内の方の診療を受け入れていますか"
TRIMESTERS = "受け入れ可能な妊娠時期"
VISIBILITY = "掲載範囲"


def _stored(db, facility_id: int) -> list[SurveyResponse]:
    """Return the facility's saved answer versions, read fresh from the database."""
    db.expire_all()
    query = select(SurveyResponse).where(SurveyResponse.facility_id == facility_id)
    return list(db.exec(query.order_by(SurveyResponse.version_no)))


def _choose(page, question: str, option: str) -> None:
    """Pick one option of a radio or checkbox question by the visible texts."""
    page.get_by_role("group", name=question).get_by_label(option, exact=True).check()


def _section(page, title: str):
    """Return the survey section whose legend is `title`."""
    return page.get_by_role("group", name=title, exact=True)


def _open_survey(page, token: str) -> None:
    """Open the invitation link and press its button, as a clinic would."""
    page.goto(f"/clinic/invite/{token}")
    page.get_by_role("button", name="回答ページへ進む").click()
    expect(page).to_have_url(re.compile(r"/clinic/facilities/\d+/survey$"))


def _answer_required(page) -> None:
    """Answer the remaining required questions and one optional number."""
    _choose(page, POSTPARTUM, "受け入れている")
    page.get_by_label("初診までの目安の待ち日数").fill("14")
    _choose(page, VISIBILITY, "一般公開（市民も検索できる）")
    page.get_by_label("回答者（氏名・職種）").fill("事務長 田中")


def _save(page) -> None:
    """Press save and wait for the portal page with the thank-you message."""
    page.get_by_role("button", name="回答を保存する").click()
    expect(page).to_have_url(re.compile(r"/clinic/$"))
    expect(page.get_by_role("status")).to_have_text(SAVED)


def test_clinic_answers_survey_on_phone_with_conditional_questions(
    phone_page, db, make_facility, make_invitation
):
    facility = make_facility(name="亀戸こころのクリニック")
    page = phone_page
    _open_survey(page, make_invitation(facility))
    pregnancy = _section(page, "妊娠中の方")
    trimesters = page.get_by_role("group", name=TRIMESTERS)
    conditions = pregnancy.get_by_label("受け入れの条件")
    expect(trimesters).to_be_hidden()

    _choose(page, PREGNANT, "受け入れている")
    expect(trimesters).to_be_visible()
    expect(conditions).to_be_hidden()
    _choose(page, TRIMESTERS, "妊娠中期（16〜27週）")
    _choose(page, PREGNANT, "条件付きで受け入れている")
    expect(conditions).to_be_visible()
    conditions.fill("産科と連携している場合")
    _answer_required(page)
    _save(page)

    [saved] = _stored(db, facility.id)
    assert saved.answers["pregnant"] == "conditional"
    assert saved.answers["pregnant_trimester"] == ["second"]
    assert saved.answers["pregnant_conditions"] == "産科と連携している場合"
    assert saved.answers["postpartum"] == "yes"
    assert saved.answers["wait_days"] == 14
    assert saved.answers["visibility"] == "public"
    assert saved.answers["answered_by"] == "事務長 田中"


def test_clinic_survey_without_javascript_shows_all_questions_and_saves(
    make_page, db, make_facility, make_invitation
):
    facility = make_facility()
    page = make_page(javascript=False)
    _open_survey(page, make_invitation(facility))
    expect(page.get_by_role("group", name=TRIMESTERS)).to_be_visible()
    expect(_section(page, "妊娠中の方").get_by_label("受け入れの条件")).to_be_visible()
    sentence = f"「{PREGNANT}」で「受け入れている」「条件付きで受け入れている」を選んだ場合"
    expect(page.get_by_text(sentence).first).to_be_visible()

    _choose(page, PREGNANT, "受け入れていない")
    _choose(page, TRIMESTERS, "妊娠初期（〜15週）")  # not asked after "no": the server drops it
    _answer_required(page)
    _save(page)

    [saved] = _stored(db, facility.id)
    assert saved.answers["pregnant"] == "no"
    assert not saved.answers["pregnant_trimester"]
    assert saved.answers["answered_by"] == "事務長 田中"


def test_login_page_has_no_serious_accessibility_issue(page, axe):
    page.goto("/login")
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    assert axe(page) == []


def test_invitation_page_has_no_serious_accessibility_issue(
    phone_page, axe, make_facility, make_invitation
):
    token = make_invitation(make_facility(name="亀戸こころのクリニック"))
    phone_page.goto(f"/clinic/invite/{token}")
    expect(phone_page.get_by_text("亀戸こころのクリニック")).to_be_visible()
    assert axe(phone_page) == []


def test_survey_page_has_no_serious_accessibility_issue(
    phone_page, axe, make_facility, make_invitation
):
    _open_survey(phone_page, make_invitation(make_facility()))
    _choose(phone_page, PREGNANT, "条件付きで受け入れている")
    assert axe(phone_page) == []


def test_pages_have_an_icon(page):
    page.goto("/login")
    icons = page.locator("link[rel~='icon']")
    href = icons.first.get_attribute("href") if icons.count() else "/favicon.ico"
    assert href.startswith("data:") or page.request.get(href).ok, f"icon {href} is missing"
