"""Hearings of obstetric units and municipalities: campaigns, the answer form, contact points,
the index (psychiatric only), the facility page and the demo network."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from index.geo.gazetteer import load_towns
from index.geo.gazetteer import municipalities as gazetteer_municipalities
from index.searcher import SearchRequest
from index.sync import check, rebuild, sync_outbox
from surveys import audit, campaign_mail, campaigns, signin_links
from surveys.demo import seed_demo
from surveys.demo_network import seed_network
from surveys.errors import SurveyError
from surveys.mail import MailSettings
from surveys.models import (
    AuditEvent,
    Campaign,
    Facility,
    IndexOutbox,
    QuestionnaireVersion,
    SurveyResponse,
)
from surveys.operations import submit_answers, today_in_japan
from surveys.questionnaire import load_version
from tests.conftest import csrf_token
from tests.smtp_server import running_smtp

BASE_URL = "http://127.0.0.1:5000"
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/clinic/invite/[A-Za-z0-9_\-]+)")
OBSTETRIC = "obstetric-2026.1"
MUNICIPAL = "municipal-2026.1"
HEARING_ANSWERS = {
    "epds_use": "all",
    "epds_timing": ["postpartum_2w", "postpartum_1m"],
    "refer_to": ["psychiatric_clinic", "municipality"],
    "referral_ease": "sometimes_hard",
    "barriers": ["long_wait", "no_information"],
    "barriers_note": "初診まで1か月以上かかることが多い",
    "answered_by": "助産師 佐藤",
}
SURVEY_ANSWERS = {
    "pregnant": "yes",
    "postpartum": "yes",
    "visibility": "public",
    "answered_by": "x",
}


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1, stopped after the test."""
    with running_smtp() as handler:
        yield handler


def _campaign(db, version: str, **scope):
    """Open a campaign for this edition over Tokyo."""
    areas = gazetteer_municipalities("13")
    chosen = campaigns.make_scope("13", scope.get("municipalities", ()), (), areas)
    closes = today_in_japan() + timedelta(days=20)
    campaign = campaigns.create_campaign(
        db, load_version(version), "2026年度 ヒアリング", closes, audit.CLI_ACTOR, chosen
    )
    db.commit()
    return campaign


def _post_form(client, url: str, answers: dict):
    """Open a form and post answers with its CSRF token and shown base version."""
    page = client.get(url).get_data(as_text=True)
    base = re.search(r'name="base_version" type="hidden" value="(\d+)"', page)
    data = {**answers, "csrf_token": csrf_token(client, url)}
    if base:
        data["base_version"] = base.group(1)
    return client.post(url, data=data)


def test_obstetric_campaign_mails_its_units_and_collects_the_hearing_through_the_link(
    make_app, db, make_facility, smtp
):
    app = make_app(MAIL_BACKEND="smtp", MAIL_SMTP_PORT=smtp.port, MAIL_SMTP_TIMEOUT=10)
    client = app.test_client()
    unit = make_facility(
        name="亀戸レディースクリニック", category="obstetric", email="ob@example.jp"
    )
    clinic = make_facility(name="亀戸こころのクリニック", email="psy@example.jp")
    centre = make_facility(
        name="江東区こども家庭センター",
        category="municipal",
        kind="family_center",
        phone="03-1111-2222",
        email="koto@example.jp",
    )
    campaign = _campaign(db, OBSTETRIC)
    assert campaign.scope["category"] == "obstetric"

    settings = MailSettings.from_config(app.config, app.instance_path)
    report = campaign_mail.queue_invitations(db, campaign, audit.CLI_ACTOR, BASE_URL)
    sent = campaign_mail.send_pending(db, campaign, settings, audit.CLI_ACTOR)

    assert (report.queued, sent.sent) == (1, 1)
    assert smtp.to() == ["ob@example.jp"]  # not the psychiatric clinic, not the contact point
    assert clinic.email not in smtp.to() and centre.email not in smtp.to()
    message = smtp.messages[0]
    assert "ヒアリング" in message["Subject"]
    body = message.get_content()
    assert "一般には公開しません" in body and unit.name in body

    link = LINK_RE.search(body).group(1)
    entered = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert entered.location.endswith(f"/clinic/facilities/{unit.id}/survey")
    url = f"/clinic/facilities/{unit.id}/survey"
    form = client.get(url).get_data(as_text=True)
    assert "産科医療機関ヒアリング（2026年度）" in form
    assert "エジンバラ産後うつ病質問票（EPDS）を使用していますか" in form
    assert "妊娠中の方の診療を受け入れていますか" not in form  # not the psychiatric survey

    missing = _post_form(client, url, {k: v for k, v in HEARING_ANSWERS.items() if k != "epds_use"})
    assert missing.status_code == 422
    assert "回答してください。" in missing.get_data(as_text=True)
    assert db.exec(select(SurveyResponse)).all() == []

    saved = _post_form(client, url, HEARING_ANSWERS)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:500]
    db.expire_all()
    response = db.exec(select(SurveyResponse)).one()
    assert response.facility_id == unit.id
    assert response.answers["epds_timing"] == ["postpartum_2w", "postpartum_1m"]
    assert db.get(QuestionnaireVersion, response.questionnaire_id).version == OBSTETRIC
    assert campaigns.progress(db, campaign).answered == 1


def test_campaign_scope_follows_its_questionnaires_respondent(db, make_facility, questionnaire):
    psychiatric = make_facility()
    unit = make_facility(category="obstetric")
    centre = make_facility(category="municipal", kind="health_center", phone="03-0000-0000")
    survey = campaigns.create_campaign(
        db, questionnaire, "調査", today_in_japan() + timedelta(days=9), audit.CLI_ACTOR
    )
    hearing = _campaign(db, OBSTETRIC)
    municipal = _campaign(db, MUNICIPAL)

    def covered(campaign):
        return [f.id for f in db.exec(campaigns.in_scope(campaign))]

    assert covered(survey) == [psychiatric.id]
    assert covered(hearing) == [unit.id]
    assert covered(municipal) == [centre.id]
    assert campaigns.progress(db, hearing).in_scope == 1
    with pytest.raises(SurveyError, match="facility ids"):
        campaigns.invite(db, hearing, [psychiatric], audit.CLI_ACTOR)
    with pytest.raises(SurveyError):
        campaigns.invite(db, survey, [unit], audit.CLI_ACTOR)


def test_admin_creates_a_municipal_hearing_campaign(client, db, admin, make_facility):
    make_facility()
    centre = make_facility(category="municipal", kind="family_center", phone="03-1234-5678")
    url = "/admin/campaigns/new"
    data = {
        "name": "市区町村ヒアリング 2026",
        "category": "municipal",
        "closes_on": (today_in_japan() + timedelta(days=10)).isoformat(),
        "csrf_token": csrf_token(client, url),
    }
    response = client.post(url, data=data)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "市区町村ヒアリング" in page
    assert re.search(r'id="stat-in-scope">1<', page)
    campaign = db.exec(select(campaigns.Campaign)).one()
    assert [f.id for f in db.exec(campaigns.in_scope(campaign))] == [centre.id]
    listing = client.get("/admin/campaigns").get_data(as_text=True)
    assert re.search(r'class="muted edition">市区町村ヒアリング<', listing)


def _contact_form(client, **fields):
    url = "/admin/contact-points/new"
    data = {
        "name": "江東区こども家庭センター",
        "kind": "family_center",
        "municipality_code": "13108",
        "address": "東京都江東区東陽4-11-28",
        "phone": "03-3647-9819",
        "hours": "月〜金 8:30〜17:15",
        "email": "",
        "csrf_token": csrf_token(client, url),
    }
    return client.post(url, data=data | fields)


def test_contact_point_without_phone_is_refused_and_nothing_is_stored(client, db, admin):
    refused = _contact_form(client, phone="  ")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "相談窓口には電話番号が必要です。電話番号を入力してください。" in text
    assert db.exec(select(Facility)).all() == []

    client.get("/admin/facilities?lang=en")
    english = _contact_form(client, phone="")
    assert "A contact point needs a phone number" in english.get_data(as_text=True)
    assert db.exec(select(Facility)).all() == []
    client.get("/admin/facilities?lang=ja")

    saved = _contact_form(client)
    assert saved.status_code == 302
    db.expire_all()
    centre = db.exec(select(Facility)).one()
    assert (centre.category, centre.kind, centre.phone) == (
        "municipal",
        "family_center",
        "03-3647-9819",
    )
    assert (centre.municipality_code, centre.prefecture_code) == ("13108", "13")
    assert centre.lat is not None  # located by the offline geocoder
    query = select(AuditEvent).where(AuditEvent.action == "facility.contact_point.create")
    event = db.exec(query).one()
    assert (event.target_type, event.target_id) == ("facility", str(centre.id))
    assert event.detail["changes"]["phone"] == [None, "03-3647-9819"]
    listing = client.get("/admin/facilities?category=municipal").get_data(as_text=True)
    assert "江東区こども家庭センター" in listing and "03-3647-9819" in listing


def test_admin_facility_list_filters_by_category(client, db, admin, make_facility):
    make_facility(name="亀戸こころのクリニック")
    make_facility(name="亀戸レディースクリニック", category="obstetric")
    psychiatric = client.get("/admin/facilities").get_data(as_text=True)
    obstetric = client.get("/admin/facilities?category=obstetric").get_data(as_text=True)
    assert "亀戸こころのクリニック" in psychiatric and "亀戸レディースクリニック" not in psychiatric
    assert "亀戸レディースクリニック" in obstetric and "亀戸こころのクリニック" not in obstetric
    assert client.get("/admin/facilities?category=dentist").status_code == 404


def test_index_holds_psychiatric_facilities_only(app, db, make_facility, questionnaire):
    index = app.extensions["pmh_index"]
    clinic = make_facility()
    unit = make_facility(category="obstetric")
    centre = make_facility(category="municipal", kind="family_center", phone="03-1111-1111")
    rebuild(db, index)
    submit_answers(db, clinic, questionnaire, SURVEY_ANSWERS, audit.CLI_ACTOR, 0)
    hearing = load_version(OBSTETRIC)
    submit_answers(db, unit, hearing, HEARING_ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    sync_outbox(db, index)
    searcher = app.extensions["pmh_searcher"]

    def indexed() -> list[int]:
        request = SearchRequest(per_page=100, professional=True)
        return [h.facility_id for h in searcher.search(request).hits]

    assert indexed() == [clinic.id]
    assert check(db, index) == []
    assert rebuild(db, index) == 1
    assert indexed() == [clinic.id] and check(db, index) == []
    assert centre.id not in index.stamps() and unit.id not in index.stamps()
    result = app.test_cli_runner().invoke(args=["index", "check"])
    assert result.exit_code == 0, result.output

    clinic.category = "obstetric"  # an import that no longer lists its psychiatry
    db.add(clinic)
    db.add(IndexOutbox(facility_id=clinic.id))  # as the import's master-data change does
    db.commit()
    sync_outbox(db, index)
    assert indexed() == [] and check(db, index) == []


def test_obstetric_unit_page_shows_master_data_but_never_hearing_answers(
    client, db, make_facility, make_user, login
):
    unit = make_facility(
        name="亀戸レディースクリニック",
        category="obstetric",
        departments="産婦人科",
        phone="03-5555-1234",
        hours="月〜土 9:00〜12:00",
    )
    submit_answers(db, unit, load_version(OBSTETRIC), HEARING_ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    public = client.get(f"/facilities/{unit.id}")
    text = public.get_data(as_text=True)
    assert public.status_code == 200
    assert "亀戸レディースクリニック" in text and "03-5555-1234" in text and "産科医療機関" in text
    assert "初診まで1か月以上" not in text and "EPDS" not in text
    login(make_user("staff"))
    staff = client.get(f"/facilities/{unit.id}").get_data(as_text=True)
    assert "EPDS" not in staff and "助産師 佐藤" not in staff
    assert "本日紹介した" not in staff  # referrals and reports are about psychiatric facilities
    assert client.get(f"/api/v1/facilities/{unit.id}").status_code == 404


def test_contact_point_page_shows_phone_and_hours(client, make_facility):
    centre = make_facility(
        name="江東区こども家庭センター",
        category="municipal",
        kind="family_center",
        phone="03-3647-9819",
        hours="月〜金 8:30〜17:15",
    )
    text = client.get(f"/facilities/{centre.id}").get_data(as_text=True)
    assert "こども家庭センター" in text and "03-3647-9819" in text
    assert "受付時間" in text and "月〜金 8:30〜17:15" in text
    assert "まだ調査に回答していません" not in text


def test_hearing_export_is_for_staff_only(app, db, make_facility):
    from surveys.exports import ExportError, ExportOptions, export_facilities

    unit = make_facility(category="obstetric")
    make_facility()
    hearing = load_version(OBSTETRIC)
    submit_answers(db, unit, hearing, HEARING_ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    with pytest.raises(ExportError, match="not public"):
        export_facilities(db, hearing, ExportOptions("csv", "public"), audit.CLI_ACTOR)
    export = export_facilities(db, hearing, ExportOptions("csv", "all"), audit.CLI_ACTOR)
    text = export.content.decode("utf-8-sig")
    assert export.rows == 1 and export.filename.startswith(OBSTETRIC)
    assert "初診まで1か月以上かかることが多い" in text


def test_demo_network_has_units_contact_points_and_a_kept_conflict(app, db, questionnaire):
    towns = load_towns("東京都")
    seed_demo(db, questionnaire, 60, 4, towns)
    hearings = {"obstetric": load_version(OBSTETRIC), "municipal": load_version(MUNICIPAL)}
    network = seed_network(db, hearings, 4, towns)
    db.commit()
    by_category = {
        c: db.exec(select(Facility).where(Facility.category == c)).all()
        for c in ("psychiatric", "obstetric", "municipal")
    }
    demo_codes = {f.municipality_code for f in by_category["psychiatric"]}
    centres = by_category["municipal"]
    assert sorted(f.municipality_code for f in centres) == sorted(demo_codes)  # one each
    assert all(f.phone and f.hours for f in centres)
    assert {f.kind for f in centres} <= {"family_center", "health_center"}
    assert 12 <= len(by_category["obstetric"]) <= 48
    assert {f.municipality_code for f in by_category["obstetric"]} <= demo_codes
    versions = db.exec(
        select(SurveyResponse).where(SurveyResponse.facility_id == network["conflict_facility"])
    ).all()
    assert sorted(v.version_no for v in versions) == [1, 2]
    assert len({v.submitted_by_label for v in versions}) == 2
    psychiatric_ids = {f.id for f in by_category["psychiatric"]}
    responses = db.exec(select(SurveyResponse)).all()
    answered = {r.facility_id for r in responses if r.facility_id not in psychiatric_ids}
    hearing_facilities = by_category["obstetric"] + centres
    assert len(answered) / len(hearing_facilities) > 0.6  # most of them answered
    assert rebuild(db, app.extensions["pmh_index"]) == len(psychiatric_ids)
    stamps = app.extensions["pmh_index"].stamps()
    assert not {f.id for f in hearing_facilities} & set(stamps)


def test_contact_point_edit_keeps_the_phone_required(client, db, admin, make_facility):
    centre = make_facility(
        name="江東区保健所", category="municipal", kind="health_center", phone="03-1111-2222"
    )
    url = f"/admin/contact-points/{centre.id}"
    form = client.get(url).get_data(as_text=True)
    assert 'value="03-1111-2222"' in form
    data = {
        "name": "江東区保健所",
        "kind": "health_center",
        "municipality_code": "13108",
        "address": "",
        "phone": "",
        "hours": "月〜金 9:00〜17:00",
        "csrf_token": csrf_token(client, url),
    }
    assert client.post(url, data=data).status_code == 422
    db.expire_all()
    assert db.get(Facility, centre.id).phone == "03-1111-2222"
    assert client.post(url, data=data | {"phone": "03-9999-0000"}).status_code == 302
    db.expire_all()
    saved = db.get(Facility, centre.id)
    assert (saved.phone, saved.hours) == ("03-9999-0000", "月〜金 9:00〜17:00")
    assert client.get(f"/admin/contact-points/{make_facility().id}").status_code == 404


def test_admin_exports_a_hearing_for_staff(client, db, admin, make_facility):
    unit = make_facility(name="亀戸レディースクリニック", category="obstetric")
    submit_answers(db, unit, load_version(OBSTETRIC), HEARING_ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    url = "/admin/exports?for=obstetric"
    page = client.get(url).get_data(as_text=True)
    assert "エジンバラ産後うつ病質問票" in page  # the hearing's columns
    token = csrf_token(client, url)
    public = client.post(
        url, data={"file_format": "csv", "lang": "ja", "audience": "public", "csrf_token": token}
    )
    assert public.status_code == 400
    assert "範囲「すべて」でのみ書き出せます" in public.get_data(as_text=True)
    staff = client.post(
        url, data={"file_format": "csv", "lang": "ja", "audience": "all", "csrf_token": token}
    )
    assert staff.status_code == 200
    text = staff.get_data().decode("utf-8-sig")
    assert "亀戸レディースクリニック" in text and "初診まで1か月以上かかることが多い" in text


MUNICIPAL_ANSWERS = {
    "contact_unit": "family_center",
    "follow_up": ["visit", "case_meeting"],
    "psychiatric_partners": "some",
    "answered_by": "保健師A",
}


def test_hearing_answered_twice_by_two_staff_shows_the_conflict_and_keeps_both(
    app, client, db, make_facility, make_user, login
):
    centre = make_facility(
        name="江東区こども家庭センター", category="municipal", kind="family_center", phone="03-1"
    )
    first, second = (make_user("clinic", facilities=[centre]) for _ in range(2))
    other = app.test_client()
    login(first)
    login(second, using=other)
    url = f"/clinic/facilities/{centre.id}/survey"
    opened = [c.get(url).get_data(as_text=True) for c in (client, other)]
    assert all("市区町村ヒアリング（2026年度）" in page for page in opened)
    tokens = [csrf_token(c, url) for c in (client, other)]

    saved = client.post(
        url, data=MUNICIPAL_ANSWERS | {"base_version": "0", "csrf_token": tokens[0]}
    )
    assert saved.status_code == 302
    theirs = MUNICIPAL_ANSWERS | {"psychiatric_partners": "none", "answered_by": "保健師B"}
    conflict = other.post(url, data=theirs | {"base_version": "0", "csrf_token": tokens[1]})
    text = conflict.get_data(as_text=True)
    assert conflict.status_code == 409
    assert "更新が重なりました" in text and "保健師A" in text and "保健師B" in text
    assert "この相談窓口の回答を保存しました" in text and "この医療機関の" not in text

    again = other.post(url, data=theirs | {"base_version": "1", "csrf_token": tokens[1]})
    assert again.status_code == 302
    db.expire_all()
    versions = db.exec(
        select(SurveyResponse)
        .where(SurveyResponse.facility_id == centre.id)
        .order_by(SurveyResponse.version_no)
    ).all()
    assert [v.answers["answered_by"] for v in versions] == ["保健師A", "保健師B"]
    history = other.get(f"/clinic/facilities/{centre.id}/history").get_data(as_text=True)
    assert "妊産婦を紹介・相談できる精神科医療機関" in history


def test_a_contact_points_invitation_and_portal_name_it_a_contact_point(
    app, db, make_facility, make_user, login
):
    centre = make_facility(
        name="江東区こども家庭センター", category="municipal", kind="family_center", phone="03-1"
    )
    clinic = make_facility(name="亀戸こころのクリニック")
    campaign = _campaign(db, MUNICIPAL)
    [(_facility, token)] = campaigns.invite(db, campaign, [centre], audit.CLI_ACTOR)
    db.commit()
    client = app.test_client()
    invitation = client.get(f"/clinic/invite/{token}").get_data(as_text=True)
    assert "次の相談窓口の回答用です" in invitation and "次の医療機関" not in invitation
    _link, signin = signin_links.create_link(db, centre, 30)
    db.commit()
    link_page = client.get(f"/clinics/signin/{signin}").get_data(as_text=True)
    assert "次の相談窓口の回答ページを開きます" in link_page

    login(make_user("clinic", facilities=[centre]), using=client)
    portal = client.get("/clinic/").get_data(as_text=True)
    assert "回答する相談窓口" in portal and "回答する医療機関" not in portal
    assert "電話番号・受付時間などの修正" in portal and "診療時間" not in portal
    details = client.get(f"/clinic/facilities/{centre.id}/details").get_data(as_text=True)
    assert "相談窓口の基本情報" in details
    assert "受付時間" in details and "診療時間" not in details

    both = app.test_client()
    login(make_user("clinic", facilities=[centre, clinic]), using=both)
    mixed = both.get("/clinic/").get_data(as_text=True)
    assert "回答する医療機関・相談窓口" in mixed and "電話番号・診療時間などの修正" in mixed
    own = both.get(f"/clinic/facilities/{clinic.id}/details").get_data(as_text=True)
    assert "医療機関の基本情報" in own and "診療時間" in own


def test_campaign_cli_opens_a_hearing_for_obstetric_units(app, db, make_facility):
    unit = make_facility(category="obstetric")
    make_facility()
    closes = (today_in_japan() + timedelta(days=10)).isoformat()
    runner = app.test_cli_runner()
    args = [
        "campaign",
        "create",
        "--name",
        "産科ヒアリング",
        "--closes",
        closes,
        "--for",
        "obstetric",
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    campaign = db.exec(select(campaigns.Campaign)).one()
    version = db.get(QuestionnaireVersion, campaign.questionnaire_id)
    assert (version.version, campaign.scope["category"]) == (OBSTETRIC, "obstetric")
    links = runner.invoke(args=["campaign", "invite", "--campaign", str(campaign.id)])
    assert links.exit_code == 0, links.output
    assert f"{unit.id}," in links.stdout and links.stdout.count("/clinic/invite/") == 1


def test_office_figures_count_psychiatric_facilities_only(
    client, db, make_facility, make_user, login, questionnaire
):
    from index.coverage import all_listings
    from surveys.dashboard import scope_listings
    from surveys.listings import directory_scope

    clinic = make_facility()
    unit = make_facility(category="obstetric", email="ob@example.jp")
    make_facility(category="municipal", kind="family_center", phone="03-1")
    submit_answers(db, clinic, questionnaire, SURVEY_ANSWERS, audit.CLI_ACTOR, 0)
    submit_answers(db, unit, load_version(OBSTETRIC), HEARING_ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    assert [x.facility.id for x in scope_listings(db, "13")] == [clinic.id]
    assert [x.facility.id for x in all_listings(db)] == [clinic.id]
    assert (directory_scope(db).facilities, directory_scope(db).answered) == (1, 1)
    login(make_user("staff"))
    url = f"/facilities/{clinic.id}"
    token = csrf_token(client, url)
    refused = client.post("/shortlist/add", data={"facility_id": unit.id, "csrf_token": token})
    assert refused.status_code == 404
    added = client.post("/shortlist/add", data={"facility_id": clinic.id, "csrf_token": token})
    assert added.status_code == 302


def test_a_campaign_refuses_kinds_its_respondents_cannot_have(db):
    areas = gazetteer_municipalities("13")
    closes = today_in_japan() + timedelta(days=20)
    for version, kinds in ((MUNICIPAL, ("clinic",)), ("2026.2", ("family_center",))):
        scope = campaigns.make_scope("13", (), kinds, areas)
        with pytest.raises(SurveyError) as info:
            campaigns.create_campaign(
                db, load_version(version), "x", closes, audit.CLI_ACTOR, scope
            )
        assert "この調査票に回答する" in info.value.message_ja
    assert db.exec(select(Campaign)).all() == []
    fine = campaigns.make_scope("13", (), ("health_center",), areas)
    campaigns.create_campaign(db, load_version(MUNICIPAL), "ok", closes, audit.CLI_ACTOR, fine)
