"""Staff shortlist in the session cookie: add, remove, note, cap, print sheet, share links."""

from __future__ import annotations

import random
import re
from datetime import timedelta

import pytest

from search_app.facilities import share
from search_app.facilities.shortlist import MAX_ITEMS, NOTE_MAX
from surveys.models import utcnow
from tests.conftest import csrf_token


@pytest.fixture
def staff(login, make_user):
    """Sign a staff user in."""
    login(make_user("staff"))


def _add(client, facility_id: int, next_url: str = "/"):
    token = csrf_token(client, "/shortlist/")
    data = {"facility_id": facility_id, "next": next_url, "csrf_token": token}
    return client.post("/shortlist/add", data=data)


def _note(client, facility_id: int, note: str, print_note: bool = False):
    data = {
        "facility_id": facility_id,
        "note": note,
        "csrf_token": csrf_token(client, "/shortlist/"),
    }
    if print_note:
        data["print_note"] = "y"
    return client.post("/shortlist/note", data=data, follow_redirects=True)


def _stored(client) -> list:
    with client.session_transaction() as session:
        return session.get("shortlist", [])


def _share_url(client) -> str:
    page = client.post("/shortlist/share", data={"csrf_token": csrf_token(client, "/shortlist/")})
    assert page.status_code == 200
    return re.search(r'id="share-url"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_shortlist_add_returns_to_next_and_lists_facility(client, staff, town):
    response = _add(client, town["near"].id, "/?near=%E9%8C%A6&situation=postpartum")
    assert response.status_code == 302
    assert response.location == "/?near=%E9%8C%A6&situation=postpartum"
    assert _stored(client) == [[town["near"].id, "", False]]
    html = client.get("/shortlist/").get_data(as_text=True)
    assert "錦糸町こころのクリニック" in html and "候補リストに追加しました" in html
    assert re.search(r'候補リスト \(<span id="shortlist-count">1</span>', html)  # nav count
    again = _add(client, town["near"].id)
    assert again.status_code == 302 and len(_stored(client)) == 1
    assert "すでに候補リストにあります" in client.get("/shortlist/").get_data(as_text=True)


def test_shortlist_add_refuses_offsite_next(client, staff, town):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = _add(client, town["near"].id, target)
        assert response.location == "/shortlist/"


def test_shortlist_add_unknown_facility_is_404(client, staff):
    assert _add(client, 999999).status_code == 404
    assert _stored(client) == []


def test_shortlist_remove_and_clear(client, staff, town):
    _add(client, town["near"].id)
    _add(client, town["kameido"].id)
    token = csrf_token(client, "/shortlist/")
    client.post("/shortlist/remove", data={"facility_id": town["near"].id, "csrf_token": token})
    assert [row[0] for row in _stored(client)] == [town["kameido"].id]
    html = client.get("/shortlist/").get_data(as_text=True)
    assert "錦糸町こころのクリニック" not in html and "亀戸メンタルクリニック" in html
    client.post("/shortlist/clear", data={"csrf_token": csrf_token(client, "/shortlist/")})
    assert _stored(client) == []
    assert "候補リストは空です" in client.get("/shortlist/").get_data(as_text=True)


def test_shortlist_note_saved_and_length_limited(client, staff, town):
    _add(client, town["near"].id)
    page = _note(client, town["near"].id, "  水曜午後が空いているとのこと  ", print_note=True)
    assert "メモを保存しました" in page.get_data(as_text=True)
    assert _stored(client) == [[town["near"].id, "水曜午後が空いているとのこと", True]]
    too_long = _note(client, town["near"].id, "あ" * (NOTE_MAX + 1))
    assert f"{NOTE_MAX}文字以内で入力してください" in too_long.get_data(as_text=True)
    assert _stored(client)[0][1] == "水曜午後が空いているとのこと"


def test_shortlist_cap(client, staff, make_facility, answer):
    facilities = [make_facility() for _ in range(MAX_ITEMS + 1)]
    for facility in facilities:
        answer(facility)
        _add(client, facility.id)
    assert [row[0] for row in _stored(client)] == [f.id for f in facilities[:MAX_ITEMS]]
    assert f"{MAX_ITEMS}件まで追加できます" in client.get("/shortlist/").get_data(as_text=True)


def test_shortlist_long_notes_stay_within_cookie_limit(client, staff, make_facility, answer):
    facilities = [make_facility() for _ in range(MAX_ITEMS)]
    for facility in facilities:
        answer(facility)
        _add(client, facility.id)
    kanji = [chr(c) for c in range(0x4E00, 0x9FA0)]
    pages = [
        _note(client, f.id, "".join(random.Random(n).choices(kanji, k=NOTE_MAX)))
        for n, f in enumerate(facilities)
    ]
    assert len(client.get_cookie("session").value) < 4000
    refused = [p for p in pages if "メモが多すぎて保存できません" in p.get_data(as_text=True)]
    saved = [row for row in _stored(client) if row[1]]
    assert refused and saved and len(refused) + len(saved) == MAX_ITEMS


def test_shortlist_is_for_staff_only(client, login, make_user, town):
    assert client.get("/shortlist/").status_code == 302  # the public is asked to sign in
    login(make_user("clinic"))
    assert client.get("/shortlist/").status_code == 403
    token = csrf_token(client, "/clinic/")
    data = {"facility_id": town["near"].id, "csrf_token": token}
    assert client.post("/shortlist/add", data=data).status_code == 403


def test_shortlist_posts_need_csrf(client, staff, town):
    for url in ("/shortlist/add", "/shortlist/remove", "/shortlist/note"):
        response = client.post(url, data={"facility_id": town["near"].id})
        assert response.status_code == 400
        assert "フォームの有効期限が切れました" in response.get_data(as_text=True)
    assert client.post("/shortlist/clear").status_code == 400
    assert client.post("/shortlist/share").status_code == 400
    assert _stored(client) == []


def test_shortlist_print_sheet_what_to_bring(client, staff, make_facility, answer):
    needs = make_facility(name="紹介状必須クリニック", phone="03-1234-5678")
    answer(needs, referral_letter="required", contact_fax="03-9999-0000")
    _add(client, needs.id)
    html = client.get("/shortlist/print").get_data(as_text=True)
    assert "紹介状必須クリニック" in html and "03-1234-5678" in html
    assert "母子健康手帳" in html and "お薬手帳" in html and "マイナ保険証" in html
    assert "紹介状（診療情報提供書）が必要です" in html
    assert "03-9999-0000" not in html  # the fax is for professionals, not for the mother
    assert "@media print" not in html  # print styles live in the stylesheet
    assert "css/facility.css" in html


def test_shortlist_print_sheet_without_referral_letter(client, staff, make_facility, answer):
    easy = make_facility(name="紹介状不要クリニック")
    answer(easy, referral_letter="not_needed")
    _add(client, easy.id)
    html = client.get("/shortlist/print").get_data(as_text=True)
    assert "紹介状不要クリニック" in html and "母子健康手帳" in html
    assert "紹介状" not in html.replace("紹介状不要クリニック", "")


def test_shortlist_print_sheet_only_chosen_notes(client, staff, town):
    _add(client, town["near"].id)
    _add(client, town["kameido"].id)
    _note(client, town["near"].id, "印刷してよいメモ", print_note=True)
    _note(client, town["kameido"].id, "印刷しないメモ")
    html = client.get("/shortlist/print").get_data(as_text=True)
    assert "印刷してよいメモ" in html and "印刷しないメモ" not in html


def test_share_link_shows_public_fields_of_public_facilities_only(client, staff, town):
    _add(client, town["near"].id)
    _add(client, town["private"].id)
    _note(client, town["near"].id, "担当保健師のメモ", print_note=True)
    url = _share_url(client)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/shortlist/")})
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "錦糸町こころのクリニック" in html and "母子健康手帳" in html
    for hidden in ("関係者限定クリニック", "担当保健師のメモ", "03-0000-0000"):
        assert hidden not in html
    assert page.headers["Cache-Control"] == "no-store"


def test_share_link_drops_facility_that_stopped_public_listing(client, staff, town, answer):
    _add(client, town["near"].id)
    url = _share_url(client)
    answer(town["near"], base=1, visibility="professionals")
    assert "錦糸町こころのクリニック" not in client.get(url).get_data(as_text=True)


def test_share_link_expired_and_tampered(app, client, town):
    listed = share.shared_list([town["near"].id], days=14, now=utcnow() - timedelta(days=15))
    expired = share.dumps(app.config["SECRET_KEY"], listed)
    page = client.get(f"/shortlist/shared/{expired}")
    assert page.status_code == 410
    assert "有効期限が切れています" in page.get_data(as_text=True)
    english = client.get(f"/shortlist/shared/{expired}?lang=en")
    assert "This shared link has expired" in english.get_data(as_text=True)

    valid = share.dumps(app.config["SECRET_KEY"], share.shared_list([town["near"].id], days=14))
    tampered = valid[:-2] + ("AA" if not valid.endswith("AA") else "BB")
    page = client.get(f"/shortlist/shared/{tampered}?lang=ja")
    assert page.status_code == 404
    assert "この共有リンクは無効です" in page.get_data(as_text=True)
    other_key = share.dumps("another-secret", share.shared_list([town["private"].id], days=14))
    assert client.get(f"/shortlist/shared/{other_key}").status_code == 404


def test_share_link_validity_is_configurable(make_app, login, make_user, town):
    app = make_app("short-links", SHARE_LINK_DAYS=1)
    client = app.test_client()
    token = csrf_token(client, "/login")
    user = make_user("staff")
    client.post(
        "/login", data={"email": user.email, "password": "correct horse", "csrf_token": token}
    )
    _add(client, town["near"].id)
    token = _share_url(client).rsplit("/", 1)[1]
    shared = share.loads(app.config["SECRET_KEY"], token)
    assert timedelta(hours=23) < shared.expires_at - utcnow() <= timedelta(days=1)
    with pytest.raises(share.ShareLinkExpired):
        share.loads(app.config["SECRET_KEY"], token, now=utcnow() + timedelta(days=1, seconds=1))


def test_shortlist_add_from_the_results_script_stays_on_the_page(client, staff, town, reindex):
    reindex()
    token = csrf_token(client, "/shortlist/")
    data = {"facility_id": town["near"].id, "next": "/?near=x", "csrf_token": token}
    answer = client.post("/shortlist/add", data=data, headers={"Accept": "application/json"})
    assert answer.status_code == 200  # no redirect: the page is not reloaded
    assert answer.get_json() == {"ok": True, "count": 1, "message": "候補リストに追加しました。"}
    page = client.get("/", query_string={"near": "錦糸町駅"}).get_data(as_text=True)
    assert '<span id="shortlist-count">1</span>' in page
    card = page[page.index(f'id="facility-{town["near"].id}"') :]
    assert card.index("候補に追加済み") < card.index("</li>")
    other = page[page.index(f'id="facility-{town["kameido"].id}"') :]
    assert (
        f'value="/?near=%E9%8C%A6%E7%B3%B8%E7%94%BA%E9%A7%85#facility-{town["kameido"].id}"'
        in (other[: other.index("</li>")])
    )  # without the script, the post comes back to the same card


def test_shortlist_full_answers_the_script_with_the_reason(client, staff, make_facility, answer):
    facilities = [make_facility() for _ in range(MAX_ITEMS + 1)]
    for facility in facilities[:MAX_ITEMS]:
        _add(client, facility.id)
    token = csrf_token(client, "/shortlist/")
    data = {"facility_id": facilities[-1].id, "csrf_token": token}
    refused = client.post("/shortlist/add", data=data, headers={"Accept": "application/json"})
    assert refused.status_code == 409
    error = refused.get_json()["error"]  # the app's one JSON error body (the API's)
    assert (error["code"], error["field"]) == ("conflict", None)
    assert error["message"].startswith("候補リストには")
