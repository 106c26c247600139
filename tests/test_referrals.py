"""Referral outcomes: "referred today", one question two weeks later, counts, no patient data."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import String, Text, select
from sqlmodel import SQLModel

from index.documents import load_docs
from surveys import audit, referral_mail, referrals, reports
from surveys.mail import MailSettings
from surveys.models import AccessReport, AuditEvent, Referral, utcnow
from surveys.operations import today_in_japan
from tests.conftest import csrf_token
from tests.smtp_server import running_smtp

ORGANISATION = "江東区 子ども家庭センター"
# What a careless form post might carry about the mother: none of it may be stored anywhere.
PATIENT = {
    "name": "山田花子",
    "birth": "1990-04-01",
    "phone": "090-1234-5678",
    "address": "東京都江東区亀戸九丁目99-99",
    "note": "産後うつ 授乳中 エジンバラ15点",
}


@pytest.fixture
def nurse(make_user, db):
    """A staff user of a municipal centre."""
    return _staff(make_user, db)


def _staff(make_user, db, organisation: str = ORGANISATION, municipality: str = "13108"):
    user = make_user("staff")
    user.organisation, user.municipality_code = organisation, municipality
    db.add(user)
    db.commit()
    return user


@pytest.fixture
def clinic(make_facility, answer):
    """An accepting, public facility."""
    facility = make_facility(name="錦糸町こころのクリニック", municipality_code="13107")
    answer(facility, pregnant="yes")
    return facility


def _refer(client, facility_id: int, **extra):
    """Press 「本日紹介した」 on the facility page."""
    url = f"/facilities/{facility_id}"
    data = {"csrf_token": csrf_token(client, url), "facility_id": facility_id, "next": url, **extra}
    return client.post("/referrals/", data=data)


def _backdate(db, days: int = referrals.FOLLOW_UP_DAYS) -> None:
    """Move every referral `days` into the past (the nurse comes back two weeks later)."""
    for referral in db.exec(select(Referral)).scalars():
        referral.referred_on -= timedelta(days=days)
        db.add(referral)
    db.commit()


def _answer(client, referral_id: int, outcome: str, **extra):
    """Tap one answer of the outcome question on the start page."""
    data = {"csrf_token": csrf_token(client, "/referrals/"), "outcome": outcome, "next": "/"}
    return client.post(f"/referrals/{referral_id}/outcome", data=data | extra)


def test_nurse_marks_referred_today_and_only_facility_organisation_and_date_are_kept(
    client, db, login, nurse, clinic
):
    login(nurse)
    response = _refer(client, clinic.id)
    assert response.status_code == 302
    page = client.get(response.location).get_data(as_text=True)
    assert "本日の紹介を記録しました" in page
    referral = db.exec(select(Referral)).scalar_one()
    assert (referral.facility_id, referral.referrer_user_id) == (clinic.id, nurse.id)
    assert (referral.organisation, referral.municipality_code) == (ORGANISATION, "13108")
    assert referral.referred_on == today_in_japan() and referral.outcome == ""
    again = client.get(_refer(client, clinic.id).location).get_data(as_text=True)
    assert "本日の紹介は既に記録されています" in again
    assert len(db.exec(select(Referral)).all()) == 1


def test_referral_for_a_removed_facility_is_refused_with_a_message(
    client, db, login, nurse, make_facility
):
    login(nurse)
    gone = make_facility(name="閉院したクリニック")
    token = csrf_token(client, f"/facilities/{gone.id}")
    db.delete(gone)
    db.commit()
    response = client.post("/referrals/", data={"csrf_token": token, "facility_id": gone.id})
    assert response.status_code == 404
    assert "掲載されていないため" in response.get_data(as_text=True)
    assert db.exec(select(Referral)).all() == []


def test_referral_to_an_obstetric_unit_is_refused_with_a_message(
    client, db, login, nurse, make_facility
):
    login(nurse)
    unit = make_facility(name="森の産婦人科", category="obstetric")
    token = csrf_token(client, "/")
    response = client.post("/referrals/", data={"csrf_token": token, "facility_id": unit.id})
    assert response.status_code == 400
    assert "精神科・心療内科の医療機関に対してのみ" in response.get_data(as_text=True)
    assert db.exec(select(Referral)).all() == []


def test_outcome_question_appears_only_after_two_weeks(db, nurse, clinic):
    start = utcnow()
    referral = referrals.create_referral(db, clinic.id, nurse, audit.CLI_ACTOR, start)
    db.commit()
    day_13 = start + timedelta(days=referrals.FOLLOW_UP_DAYS - 1)
    day_14 = start + timedelta(days=referrals.FOLLOW_UP_DAYS)
    assert referrals.due_questions(db, nurse, day_13) == []
    with pytest.raises(referrals.OutcomeNotDue):
        referrals.answer_outcome(db, referral.id, nurse, "seen", audit.CLI_ACTOR, day_13)
    db.rollback()
    assert [r.id for r, _name in referrals.due_questions(db, nurse, day_14)] == [referral.id]
    referrals.answer_outcome(db, referral.id, nurse, "seen", audit.CLI_ACTOR, day_14)
    db.commit()
    assert referrals.due_questions(db, nurse, day_14) == []


def test_question_shows_on_the_start_page_and_one_tap_answers_it(client, db, login, nurse, clinic):
    login(nurse)
    _refer(client, clinic.id)
    assert "受診につながりましたか" not in client.get("/").get_data(as_text=True)
    _backdate(db)
    home = client.get("/").get_data(as_text=True)
    assert "受診につながりましたか" in home and "錦糸町こころのクリニック" in home
    referral = db.exec(select(Referral)).scalar_one()
    response = _answer(client, referral.id, "seen")
    assert response.status_code == 302 and response.location == "/"
    db.refresh(referral)
    assert (referral.outcome, referral.answered_by_user_id) == ("seen", nurse.id)
    assert "受診につながりましたか" not in client.get("/").get_data(as_text=True)
    twice = _answer(client, referral.id, "refused")
    assert twice.status_code == 409
    assert "既に回答されています" in twice.get_data(as_text=True)
    db.refresh(referral)
    assert referral.outcome == "seen"


def test_only_the_referring_organisation_may_answer(
    app, client, db, login, make_user, nurse, clinic
):
    referral = referrals.create_referral(
        db, clinic.id, nurse, audit.CLI_ACTOR, utcnow() - timedelta(days=15)
    )
    db.commit()
    stranger = _staff(make_user, db, organisation="墨田区 保健センター", municipality="13107")
    login(stranger)
    refused = _answer(client, referral.id, "seen")
    assert refused.status_code == 403
    assert "同じ機関の方だけが回答できます" in refused.get_data(as_text=True)
    db.refresh(referral)
    assert referral.outcome == ""
    colleague = _staff(make_user, db)
    other = app.test_client()
    login(colleague, using=other)
    assert _answer(other, referral.id, "did_not_go").status_code == 302
    db.refresh(referral)
    assert (referral.outcome, referral.answered_by_user_id) == ("did_not_go", colleague.id)


def test_bad_outcome_code_is_refused_and_nothing_stored(client, db, login, nurse, clinic):
    login(nurse)
    _refer(client, clinic.id)
    _backdate(db)
    referral = db.exec(select(Referral)).scalar_one()
    assert _answer(client, referral.id, "maybe").status_code == 400
    db.refresh(referral)
    assert referral.outcome == ""


def test_no_appointment_opens_the_re_verification_flow(client, db, login, nurse, clinic, make_user):
    login(nurse)
    _refer(client, clinic.id)
    _backdate(db)
    referral = db.exec(select(Referral)).scalar_one()
    _answer(client, referral.id, "no_appointment")
    (report,) = reports.open_reports(db, [clinic.id])[clinic.id]
    assert (report.reason, report.reporter_user_id, report.comment) == ("no_capacity", nurse.id, "")
    owner = make_user("clinic", facilities=[clinic])
    other = client.application.test_client()
    login(owner, using=other)
    portal = other.get("/clinic/").get_data(as_text=True)
    assert "予約が取れなかった」との報告がありました（1件）" in portal


def _cycle(db, clinic, people, outcomes, start):
    """Refer once per person, then answer each with its outcome ("" leaves it pending)."""
    for user, outcome in zip(people, outcomes, strict=True):
        referral = referrals.create_referral(db, clinic.id, user, audit.CLI_ACTOR, start)
        if outcome:
            later = start + timedelta(days=referrals.FOLLOW_UP_DAYS)
            referrals.answer_outcome(db, referral.id, user, outcome, audit.CLI_ACTOR, later)
        db.commit()


def test_counts_match_the_database_and_reach_office_facility_and_index(
    app, client, db, login, make_user, clinic, make_facility, answer, admin
):
    people = [_staff(make_user, db, organisation=f"機関{i}") for i in range(7)]
    outcomes = ["seen", "seen", "seen", "no_appointment", "refused", "did_not_go", ""]
    _cycle(db, clinic, people, outcomes, utcnow() - timedelta(days=20))
    (counts,) = referrals.outcome_counts(db, [clinic.id]).values()
    rows = db.exec(select(Referral.outcome)).scalars().all()
    assert counts.referrals == len(rows) == 7
    assert counts.seen == rows.count("seen") == 3
    assert (counts.no_appointment, counts.refused, counts.did_not_go, counts.pending) == (
        1,
        1,
        1,
        1,
    )
    assert referrals.counts_by_municipality(db)["13107"] == counts
    page = re.sub(r">\s+<", "><", client.get("/admin/referrals").get_data(as_text=True))
    assert "錦糸町こころのクリニック" in page and "墨田区" in page
    assert "<td>7</td><td>3</td><td>1</td><td>1</td><td>1</td><td>0</td><td>1</td>" in page
    (doc,) = load_docs(db, [clinic.id], app.extensions["pmh_index"].questionnaire)
    assert (doc.outcomes.seen, doc.outcomes.no_appointment, doc.outcomes.refused) == (3, 1, 1)
    owner = make_user("clinic", facilities=[clinic])
    portal_client = app.test_client()
    login(owner, using=portal_client)
    portal = portal_client.get("/clinic/").get_data(as_text=True)
    assert "紹介 7件: 受診につながった 3件" in portal
    public = app.test_client().get(f"/facilities/{clinic.id}").get_data(as_text=True)
    assert "受診につながった" not in public and "紹介 7件" not in public


def _snapshot(db) -> dict[str, set]:
    """Every row of every table, as tuples."""
    connection = db.connection()
    return {
        table.name: {tuple(map(_hashable, row)) for row in connection.execute(table.select())}
        for table in SQLModel.metadata.sorted_tables
    }


def _hashable(value):
    """JSON columns come back as dicts and lists: compare them as their JSON text."""
    return (
        json.dumps(value, sort_keys=True, default=str) if isinstance(value, dict | list) else value
    )


REFERRAL_COLUMNS = {
    "id", "facility_id", "referrer_user_id", "organisation", "municipality_code", "referred_on",
    "outcome", "answered_on", "answered_by_user_id", "created_at",
}  # fmt: skip


def test_privacy_walk_finds_no_patient_data_after_a_full_referral_cycle(
    app, client, db, login, nurse, clinic
):
    login(nurse)
    before = _snapshot(db)
    _refer(client, clinic.id, **PATIENT)
    _backdate(db)
    referral = db.exec(select(Referral)).scalar_one()
    _answer(client, referral.id, "no_appointment", **PATIENT)
    client.get("/referrals/", query_string=PATIENT)
    db.expire_all()
    after = _snapshot(db)
    # 1. Nothing typed about the mother is stored in any column of any table.
    for table, rows in after.items():
        for row in rows:
            text = " ".join(str(value) for value in row)
            assert not [v for v in PATIENT.values() if v in text], f"patient data in {table}"
    # 2. The referral table has exactly the agreed columns, none of them free text.
    table = SQLModel.metadata.tables["referral"]
    assert {c.name for c in table.columns} == REFERRAL_COLUMNS
    for column in table.columns:
        assert not isinstance(column.type, Text)
        if isinstance(column.type, String):
            assert column.name in {"organisation", "municipality_code", "outcome"}
    (stored,) = after["referral"] - before["referral"]
    row = dict(zip([c.name for c in table.columns], stored, strict=True))
    assert (row["organisation"], row["municipality_code"], row["outcome"]) == (
        ORGANISATION, "13108", "no_appointment",
    )  # fmt: skip
    # 3. The report the outcome opened has no comment; audit events carry codes only.
    (report,) = db.exec(select(AccessReport)).scalars().all()
    assert report.comment == ""
    new_events = db.exec(select(AuditEvent).where(AuditEvent.action.like("referral.%"))).scalars()
    for event in new_events:
        assert set(event.detail) <= {"facility_id", "outcome"}
    # 4. Every other table that changed is one we expect (no hidden copy of the request).
    changed = {name for name in after if after[name] != before[name]}
    assert changed <= {"referral", "accessreport", "auditevent", "indexoutbox", "ratelimitcounter"}


def test_optional_mail_tells_referrers_once_when_their_question_becomes_due(
    make_app, db, make_user, nurse, clinic
):
    start = utcnow()
    referrals.create_referral(db, clinic.id, nurse, audit.CLI_ACTOR, start)
    db.commit()
    with running_smtp() as smtp:
        app = make_app("mailing", MAIL_BACKEND="smtp", MAIL_SMTP_PORT=smtp.port)
        settings = MailSettings.from_config(app.config, app.instance_path)
        day_13 = start + timedelta(days=referrals.FOLLOW_UP_DAYS - 1)
        assert referral_mail.mail_due_questions(db, settings, "https://navi.example", day_13) == 0
        day_14 = start + timedelta(days=referrals.FOLLOW_UP_DAYS)
        assert referral_mail.mail_due_questions(db, settings, "https://navi.example", day_14) == 1
        (message,) = smtp.messages
        assert message["To"] == nurse.email
        assert "（1件）" in message["Subject"]
        assert "https://navi.example/referrals/" in message.get_content()
        assert clinic.name not in message.get_content()
        day_15 = start + timedelta(days=referrals.FOLLOW_UP_DAYS + 1)
        assert referral_mail.mail_due_questions(db, settings, "https://navi.example", day_15) == 0


def test_remind_command_is_off_unless_configured(app):
    result = app.test_cli_runner().invoke(args=["referrals", "remind"])
    assert result.exit_code == 0 and "switched off" in result.output
    app.config["REFERRAL_OUTCOME_MAIL"] = True
    app.config["MAIL_FOLDER"] = str(Path(app.instance_path) / "mail")
    result = app.test_cli_runner().invoke(args=["referrals", "remind"])
    assert result.exit_code == 0 and "Mailed 0 referrer(s)." in result.output
