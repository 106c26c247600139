"""Facility page: what the public and professionals see, stale warnings, dates, safe links."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from surveys.models import SurveyResponse
from surveys.operations import today_in_japan

PRO_ANSWERS = {
    "contact_name": "地域連携室 佐藤",
    "contact_phone": "03-1111-2222",
    "contact_fax": "03-3333-4444",
    "note_for_referrers": "紹介前に地域連携室へお電話ください",
    "partner_obstetrics": "墨田さくら産婦人科",
}


def _page(client, facility_id: int, lang: str = "ja"):
    return client.get(f"/facilities/{facility_id}?lang={lang}")


def _age(db, facility, days: int):
    """Move a facility's verification date `days` days into the past."""
    response = db.exec(
        select(SurveyResponse).where(SurveyResponse.facility_id == facility.id)
    ).one()
    response.verified_on = today_in_japan() - timedelta(days=days)
    db.add(response)
    db.commit()


def test_facility_page_public_sees_public_answers_only(client, make_facility, answer):
    facility = make_facility(
        name="亀戸こころのクリニック", phone="03-5555-0000", hours="月〜金 9:00-17:00"
    )
    answer(
        facility,
        pregnant="yes",
        wait_days=14,
        referral_letter="required",
        answered_by="院長 山田",
        **PRO_ANSWERS,
    )
    page = _page(client, facility.id)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "亀戸こころのクリニック" in html
    assert "妊娠中の方の診療を受け入れていますか" in html and "受け入れている" in html
    assert "14 日" in html and "必須" in html
    assert 'href="tel:0355550000"' in html and "月〜金 9:00-17:00" in html
    for secret in [*PRO_ANSWERS.values(), "連絡窓口のFAX番号", "回答者（氏名", "院長 山田"]:
        assert secret not in html
    assert "予約が取れなかったことを報告する" not in html


def test_facility_page_staff_sees_professional_fields(
    client, login, make_user, make_facility, answer
):
    facility = make_facility()
    answer(facility, pregnant="yes", **PRO_ANSWERS)
    login(make_user("staff"))
    html = _page(client, facility.id).get_data(as_text=True)
    for value in PRO_ANSWERS.values():
        assert value in html
    assert "関係機関のみ" in html
    assert 'href="tel:0311112222"' in html  # the referral line is a tap-to-call link
    assert "予約が取れなかったことを報告する" in html and "候補リストに追加" in html


def test_facility_page_non_public_listing_is_404_for_public(client, login, make_user, town):
    private = town["private"]
    assert _page(client, private.id).status_code == 404
    login(make_user("clinic"))
    assert _page(client, private.id).status_code == 404
    client.post("/logout", data={"csrf_token": _token(client)})
    login(make_user("staff"))
    page = _page(client, private.id)
    assert page.status_code == 200
    assert "関係機関のみ掲載" in page.get_data(as_text=True)


def _token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/")


def test_facility_page_unknown_and_unanswered(client, login, make_user, make_facility):
    facility = make_facility(name="未回答クリニック")
    assert client.get("/facilities/999999").status_code == 404
    assert _page(client, facility.id).status_code == 404  # never answered: not public
    login(make_user("staff"))
    html = _page(client, facility.id).get_data(as_text=True)
    assert "まだ調査に回答していません" in html
    assert "確認日がありません" in html


def test_facility_page_groups_answers_and_hides_questions_not_asked(client, make_facility, answer):
    facility = make_facility()
    answer(facility, pregnant="no", inpatient="no")
    html = _page(client, facility.id).get_data(as_text=True)
    assert "妊娠中の方" in html and "処方" in html  # section titles
    assert "受け入れ可能な妊娠時期" not in html  # asked only when pregnant is yes/conditional
    assert "母子同室での入院" not in html  # asked only with inpatient beds
    assert "未回答" in html  # e.g. prescribing during pregnancy, not answered
    assert html.index("妊娠中の方の診療") < html.index("授乳中の方への向精神薬の処方")


def test_facility_page_stale_warning(client, db, make_facility, answer):
    facility = make_facility()
    answer(facility)
    fresh = _page(client, facility.id).get_data(as_text=True)
    assert "1年以上確認されていない" not in fresh
    _age(db, facility, 400)
    stale = _page(client, facility.id).get_data(as_text=True)
    assert "1年以上確認されていない情報です" in stale
    english = _page(client, facility.id, "en").get_data(as_text=True)
    assert "Not verified for over a year" in english


def test_facility_page_dates_in_each_language(client, db, make_facility, answer):
    facility = make_facility()
    answer(facility, pregnant="conditional", wait_days=7)
    day = today_in_japan()
    ja = _page(client, facility.id).get_data(as_text=True)
    assert f"{day.year}年{day.month}月{day.day}日" in ja
    en = _page(client, facility.id, "en").get_data(as_text=True)
    assert f"{day.day} {day.strftime('%b')} {day.year}" in en
    assert "Do you see pregnant patients?" in en
    assert "Under conditions" in en and "7 days" in en  # answers in English too
    assert "条件付きで受け入れている" not in en


def test_facility_page_links_only_http_websites(client, make_facility, answer):
    good = make_facility(website="https://kokoro.example.jp/")
    bad = make_facility(website="javascript:alert(1)")
    answer(good)
    answer(bad)
    assert 'href="https://kokoro.example.jp/"' in _page(client, good.id).get_data(as_text=True)
    assert 'href="javascript:' not in _page(client, bad.id).get_data(as_text=True)
