"""Clinic portal: invitation links, answering, updating, 'still accurate', access rules."""

from __future__ import annotations

from sqlmodel import select

from surveys import audit
from surveys.campaigns import close_campaign
from surveys.models import AuditEvent, Campaign, IndexOutbox, Invitation, SurveyResponse
from surveys.operations import today_in_japan
from tests.conftest import csrf_token

ANSWERS = {
    "pregnant": "conditional",
    "pregnant_trimester": ["second", "third"],
    "pregnant_conditions": "産科と連携している場合",
    "postpartum": "yes",
    "breastfeeding_rx": "consult",
    "wait_days": "14",
    "visibility": "public",
    "answered_by": "事務長 田中",
}


def _enter(client, token: str):
    """Open the invitation and press the button, as a clinic would."""
    csrf = csrf_token(client, f"/clinic/invite/{token}")
    return client.post(f"/clinic/invite/{token}", data={"csrf_token": csrf})


def _post_survey(client, facility_id: int, answers: dict, base_version: int | None = None):
    """Open the survey form and submit answers on top of the version it showed."""
    url = f"/clinic/facilities/{facility_id}/survey"
    page = client.get(url).get_data(as_text=True)
    csrf = csrf_token(client, url)
    if base_version is None:
        base_version = int(page.split('name="base_version" type="hidden" value="')[1].split('"')[0])
    return client.post(url, data={**answers, "csrf_token": csrf, "base_version": base_version})


def _versions(db, facility_id: int) -> list[SurveyResponse]:
    db.expire_all()
    return list(
        db.exec(
            select(SurveyResponse)
            .where(SurveyResponse.facility_id == facility_id)
            .order_by(SurveyResponse.version_no)
        )
    )


def test_invitation_get_shows_facility_but_does_not_sign_in(
    client, db, make_facility, make_invitation
):
    facility = make_facility(name="亀戸こころのクリニック")
    token = make_invitation(facility)
    page = client.get(f"/clinic/invite/{token}")
    assert page.status_code == 200
    assert "亀戸こころのクリニック" in page.get_data(as_text=True)
    assert client.get("/clinic/").status_code == 302  # still not signed in
    assert db.exec(select(Invitation)).one().used_at is None


def test_invitation_post_signs_in_and_is_single_use(client, db, make_facility, make_invitation):
    facility = make_facility()
    token = make_invitation(facility)
    response = _enter(client, token)
    assert response.status_code == 302
    assert response.location.endswith(f"/clinic/facilities/{facility.id}/survey")
    assert client.get(response.location).status_code == 200
    db.expire_all()
    assert db.exec(select(Invitation)).one().used_at is not None

    client.post("/logout", data={"csrf_token": csrf_token(client, "/clinic/")})
    again = client.get(f"/clinic/invite/{token}")
    assert again.status_code == 410
    assert "既に使用されています" in again.get_data(as_text=True)


def test_invitation_token_is_stored_hashed(db, make_facility, make_invitation):
    token = make_invitation(make_facility())
    stored = db.exec(select(Invitation)).one().token_hash
    assert token not in stored and len(stored) == 64


def test_invitation_expired_campaign_refused(client, make_facility, make_invitation, make_campaign):
    token = make_invitation(make_facility(), make_campaign(days=-1))
    page = client.get(f"/clinic/invite/{token}")
    assert page.status_code == 410
    assert "有効期限が切れています" in page.get_data(as_text=True)


def test_invitation_closed_campaign_refused(client, make_facility, make_invitation, make_campaign):
    token = make_invitation(make_facility(), make_campaign(closed=True))
    assert client.get(f"/clinic/invite/{token}").status_code == 410


def test_invitation_unknown_token_is_a_clear_404(client):
    page = client.get("/clinic/invite/not-a-real-token")
    assert page.status_code == 404
    assert "この招待リンクは無効です" in page.get_data(as_text=True)


def test_invitation_post_without_csrf_refused(client, db, make_facility, make_invitation):
    token = make_invitation(make_facility())
    response = client.post(f"/clinic/invite/{token}")
    assert response.status_code == 400
    assert db.exec(select(Invitation)).one().used_at is None


def test_clinic_answers_and_updates_keep_history(client, db, make_facility, make_invitation):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    first = _post_survey(client, facility.id, ANSWERS)
    assert first.status_code == 302
    second = _post_survey(client, facility.id, dict(ANSWERS, wait_days="30", postpartum="no"))
    assert second.status_code == 302

    versions = _versions(db, facility.id)
    assert [v.version_no for v in versions] == [1, 2]
    assert versions[0].answers["wait_days"] == 14
    assert versions[0].answers["postpartum"] == "yes"
    assert versions[1].answers["wait_days"] == 30
    assert versions[1].answers["postpartum_patients"] is None
    assert versions[1].verified_on == today_in_japan()
    assert len(db.exec(select(IndexOutbox)).all()) == 2
    change = db.exec(
        select(AuditEvent)
        .where(AuditEvent.action == "survey.answer")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert change.detail["changes"]["wait_days"] == [14, 30]
    history = client.get(f"/clinic/facilities/{facility.id}/history").get_data(as_text=True)
    assert "版 2" in history and "版 1" in history


def test_clinic_form_shows_current_answers(client, make_facility, make_invitation):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    _post_survey(client, facility.id, ANSWERS)
    page = client.get(f"/clinic/facilities/{facility.id}/survey").get_data(as_text=True)
    assert 'value="14"' in page
    assert "産科と連携している場合" in page
    assert "（版 1）" in page or "版 1" in page


def test_clinic_form_posted_twice_saves_once(client, db, make_facility, make_invitation):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    assert _post_survey(client, facility.id, ANSWERS, base_version=0).status_code == 302
    assert _post_survey(client, facility.id, ANSWERS, base_version=0).status_code == 302
    assert [v.version_no for v in _versions(db, facility.id)] == [1]


def test_clinic_conflicting_edit_shows_both_versions(
    client, app, db, make_facility, make_invitation
):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    _post_survey(client, facility.id, ANSWERS)
    other = app.test_client()
    _enter(other, make_invitation(facility))
    _post_survey(other, facility.id, dict(ANSWERS, wait_days="60"), base_version=1)

    stale = _post_survey(client, facility.id, dict(ANSWERS, wait_days="7"), base_version=1)
    assert stale.status_code == 409
    page = stale.get_data(as_text=True)
    assert "別の方がこの医療機関の回答を保存しました" in page
    assert "60 日" in page and "7 日" in page
    assert [v.answers["wait_days"] for v in _versions(db, facility.id)] == [14, 60]


def test_clinic_invalid_answers_show_messages_and_store_nothing(
    client, db, make_facility, make_invitation
):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    response = _post_survey(client, facility.id, {"pregnant": "yes", "wait_days": "-3"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "回答してください。" in page
    assert "0〜365の範囲で入力してください。" in page
    assert _versions(db, facility.id) == []


def test_clinic_conditional_answers_dropped_without_javascript(
    client, db, make_facility, make_invitation
):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    page = client.get(f"/clinic/facilities/{facility.id}/survey").get_data(as_text=True)
    assert "を選んだ場合にお答えください" in page
    assert 'data-show-if-item="pregnant"' in page
    _post_survey(client, facility.id, dict(ANSWERS, pregnant="no"))
    stored = _versions(db, facility.id)[0].answers
    assert stored["pregnant_trimester"] == []
    assert stored["pregnant_conditions"] is None


def test_clinic_still_accurate_sets_verified_on_only(client, db, make_facility, make_invitation):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    _post_survey(client, facility.id, ANSWERS)
    csrf = csrf_token(client, "/clinic/")
    response = client.post(
        f"/clinic/facilities/{facility.id}/confirm", data={"csrf_token": csrf, "base_version": 1}
    )
    assert response.status_code == 302
    versions = _versions(db, facility.id)
    assert [v.kind for v in versions] == ["answer", "confirm"]
    assert versions[1].answers == versions[0].answers
    assert versions[1].verified_on == today_in_japan()
    assert "変更なし" in client.get("/clinic/").get_data(as_text=True)


def test_clinic_still_accurate_without_answers_is_refused(
    client, db, make_facility, make_invitation
):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    csrf = csrf_token(client, "/clinic/")
    response = client.post(
        f"/clinic/facilities/{facility.id}/confirm", data={"csrf_token": csrf, "base_version": 0}
    )
    assert response.status_code == 409
    assert "まだ回答がない" in response.get_data(as_text=True)
    assert _versions(db, facility.id) == []


def test_clinic_cannot_reach_another_facility(client, db, make_facility, make_invitation):
    mine, theirs = make_facility(), make_facility(name="別のクリニック")
    _enter(client, make_invitation(mine))
    assert client.get(f"/clinic/facilities/{theirs.id}/survey").status_code == 403
    csrf = csrf_token(client, f"/clinic/facilities/{mine.id}/survey")
    post = client.post(
        f"/clinic/facilities/{theirs.id}/survey",
        data={**ANSWERS, "csrf_token": csrf, "base_version": 0},
    )
    assert post.status_code == 403
    confirm = client.post(
        f"/clinic/facilities/{theirs.id}/confirm", data={"csrf_token": csrf, "base_version": 0}
    )
    assert confirm.status_code == 403
    assert client.get(f"/clinic/facilities/{theirs.id}/history").status_code == 403
    assert _versions(db, theirs.id) == []
    assert "別のクリニック" not in client.get("/clinic/").get_data(as_text=True)


def test_clinic_user_sees_only_linked_facilities(client, make_facility, make_user, login):
    linked, other = make_facility(name="リンク済みクリニック"), make_facility(name="他院")
    login(make_user("clinic", facilities=[linked]))
    page = client.get("/clinic/").get_data(as_text=True)
    assert "リンク済みクリニック" in page and "他院" not in page
    assert client.get(f"/clinic/facilities/{other.id}/survey").status_code == 403
    assert client.get(f"/clinic/facilities/{linked.id}/survey").status_code == 200


def test_clinic_survey_in_english(client, make_facility, make_invitation):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    page = client.get(f"/clinic/facilities/{facility.id}/survey?lang=en").get_data(as_text=True)
    assert "Do you see pregnant patients?" in page
    assert "Save answers" in page


def test_invitation_session_ends_when_its_campaign_closes(
    client, db, make_facility, make_campaign, make_invitation
):
    facility = make_facility()
    campaign = make_campaign()
    _enter(client, make_invitation(facility, campaign))
    assert _post_survey(client, facility.id, ANSWERS).status_code == 302
    url = f"/clinic/facilities/{facility.id}/survey"
    csrf = csrf_token(client, url)  # the form is open again when the office closes the round
    close_campaign(db, db.get(Campaign, campaign.id), audit.CLI_ACTOR)
    db.commit()
    late = client.post(url, data={**ANSWERS, "base_version": 1, "csrf_token": csrf})
    assert late.status_code == 302
    assert "/login" in late.location
    assert len(_versions(db, facility.id)) == 1
    page = client.get(late.location).get_data(as_text=True)
    assert "受付は終了しました" in page
    assert client.get(url).status_code == 302  # the session is gone, not just this request
