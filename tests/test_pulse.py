"""Capacity pulse: a monthly mail round over real SMTP, one-click links, cards, portal, office."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from index.sync import check
from surveys import audit, pulse, pulse_mail
from surveys.campaign_mail import SendInterrupted
from surveys.models import AuditEvent, IndexOutbox, PulseAnswer, PulseMail, utcnow
from surveys.operations import today_in_japan
from tests.conftest import KINSHICHO, csrf_token
from tests.smtp_server import running_smtp

BASE_URL = "http://127.0.0.1:5000"
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/pulse/\d+/[A-Za-z0-9_.\-]+)")
SEARCH = {"lat": KINSHICHO[0], "lng": KINSHICHO[1], "situation": "postpartum"}


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1, stopped after the test."""
    with running_smtp() as handler:
        yield handler


@pytest.fixture
def app(make_app, smtp):
    """The app, mailing through the loopback SMTP server."""
    return make_app(MAIL_BACKEND="smtp", MAIL_SMTP_PORT=smtp.port, MAIL_SMTP_TIMEOUT=10)


@pytest.fixture
def clinics(make_facility, answer, reindex):
    """Two accepting facilities with addresses, one without, one not accepting."""
    made = {
        "a": make_facility(
            name="Aこころクリニック", email="a@example.jp", lat=35.6975, lng=139.815
        ),
        "b": make_facility(
            name="Bメンタルクリニック", email="b@example.jp", lat=35.698, lng=139.816
        ),
        "no_mail": make_facility(name="メールなしクリニック"),
        "declines": make_facility(name="受入れなしクリニック", email="d@example.jp"),
    }
    for key in ("a", "b", "no_mail"):
        answer(made[key], pregnant="yes")
    answer(made["declines"], pregnant="no", postpartum="no")
    reindex()
    return made


def _round(db, app, smtp, now=None):
    """Open this month's round, queue and send it; return the round and the links per address."""
    pulse_round = pulse_mail.open_round(db, 31, now)
    secret = app.config["SECRET_KEY"]
    pulse_mail.queue_round(db, pulse_round, secret, BASE_URL, audit.CLI_ACTOR)
    settings = _settings(app)
    pulse_mail.send_round(db, pulse_round, settings, audit.CLI_ACTOR)
    links = {m["To"]: LINK_RE.findall(m.get_content()) for m in smtp.messages}
    return pulse_round, links


def _settings(app):
    from surveys.mail import MailSettings

    return MailSettings.from_config(app.config, app.instance_path)


def test_pulse_round_mails_each_accepting_facility_once_with_three_links(
    app,
    db,
    smtp,
    clinics,
):
    pulse_round, links = _round(db, app, smtp)
    assert sorted(smtp.to()) == ["a@example.jp", "b@example.jp"]
    assert all(len(found) == 3 for found in links.values())
    message = smtp.messages[0]
    assert "新規受け入れ枠" in message["Subject"]
    assert "あり:" in message.get_content() and "なし:" in message.get_content()
    stored = db.exec(select(PulseMail).where(PulseMail.round_id == pulse_round.id)).all()
    assert {m.status for m in stored} == {"sent"} and all(m.body == "" for m in stored)
    # Running again (cron runs daily) sends nothing twice.
    _round(db, app, smtp)
    assert len(smtp.messages) == 2


def test_one_click_answer_get_changes_nothing_post_records_it(
    app,
    db,
    client,
    smtp,
    clinics,
):
    _round(db, app, smtp)
    room, little, _none = _links(smtp, "a@example.jp")
    page = client.get(little)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Aこころクリニック" in html and "少し" in html
    assert db.exec(select(PulseAnswer)).all() == []
    token = csrf_token(client, little)
    done = client.post(little, data={"csrf_token": token, "wait_days": "12"})
    assert done.status_code == 200
    assert "ご回答ありがとうございました" in done.get_data(as_text=True)
    stored = db.exec(select(PulseAnswer)).one()
    facility = clinics["a"]
    assert (stored.facility_id, stored.capacity, stored.wait_days, stored.via) == (
        facility.id, "little", 12, "mail",
    )  # fmt: skip
    assert stored.answered_on == today_in_japan()
    outbox = db.exec(select(IndexOutbox).where(IndexOutbox.facility_id == facility.id)).all()
    assert outbox and all(row.processed_at is not None for row in outbox)
    assert check(db, app.extensions["pmh_index"]) == []
    # The same mail's other link, or the same one again: refused, nothing more stored.
    for again in (little, room):
        refused = client.post(again, data={"csrf_token": token})
        assert refused.status_code == 409
        assert "既に記録されています" in refused.get_data(as_text=True)
    second = client.get(room)
    assert second.status_code == 409
    assert "既に記録されています" in second.get_data(as_text=True)
    assert len(db.exec(select(PulseAnswer)).all()) == 1


def _links(smtp, address: str) -> list[str]:
    """Return the (room, little, none) paths mailed to an address."""
    message = next(m for m in smtp.messages if m["To"] == address)
    return LINK_RE.findall(message.get_content())


def test_link_used_twice_expired_or_for_another_facility_is_refused(
    app,
    db,
    client,
    smtp,
    clinics,
):
    _round(db, app, smtp)
    room = _links(smtp, "a@example.jp")[0]
    other = room.replace(f"/pulse/{clinics['a'].id}/", f"/pulse/{clinics['b'].id}/")
    wrong = client.get(other)
    assert wrong.status_code == 400
    assert "別の医療機関" in wrong.get_data(as_text=True)
    broken = client.get(room[:-3])
    assert broken.status_code == 400
    secret = app.config["SECRET_KEY"]
    token = room.rsplit("/", 1)[1]
    later = utcnow() + timedelta(days=32)
    with pytest.raises(pulse.PulseLinkExpired):
        pulse.record_from_link(db, secret, clinics["a"].id, token, None, later)
    db.rollback()
    pulse.record_from_link(db, secret, clinics["a"].id, token, None)
    db.commit()
    with pytest.raises(pulse.PulseLinkUsed):
        pulse.record_from_link(db, secret, clinics["a"].id, token, None)
    db.rollback()
    assert len(db.exec(select(PulseAnswer)).all()) == 1


def test_expired_link_page_says_so(app, db, client, smtp, clinics):
    _round(db, app, smtp, now=utcnow() - timedelta(days=40))
    page = client.get(_links(smtp, "a@example.jp")[0])
    assert page.status_code == 410
    assert "有効期限が切れています" in page.get_data(as_text=True)


def test_bad_wait_days_shows_the_form_again_and_stores_nothing(
    app,
    db,
    client,
    smtp,
    clinics,
):
    _round(db, app, smtp)
    room = _links(smtp, "a@example.jp")[0]
    page = client.post(room, data={"csrf_token": csrf_token(client, room), "wait_days": "9999"})
    assert page.status_code == 422
    assert "0〜365" in page.get_data(as_text=True)
    assert db.exec(select(PulseAnswer)).all() == []


def _answer(db, facility, capacity: str, days_ago: int = 0, wait=None):
    """Store a portal answer given `days_ago` days ago."""
    now = utcnow() - timedelta(days=days_ago)
    pulse.record_from_portal(db, facility, capacity, wait, audit.CLI_ACTOR, now)
    db.commit()


def _date(day) -> str:
    return f"{day.month}月{day.day}日"


def test_card_and_facility_page_show_the_answer_with_its_date(
    app, db, client, clinics, reindex, make_user, login
):
    _answer(db, clinics["a"], "little", wait=12)
    _answer(db, clinics["b"], "room", days_ago=50)
    reindex()
    html = client.get("/", query_string=SEARCH).get_data(as_text=True)
    today = today_in_japan()
    assert f"新規枠: <strong>少し</strong>（{_date(today)}時点）" in html
    assert "初診まで約12日" in html
    old = today_in_japan(utcnow() - timedelta(days=50))
    assert f"新規枠: <strong>あり</strong>（{_date(old)}時点）" in html
    assert "45日以上前の回答です" in html
    detail = client.get(f"/facilities/{clinics['a'].id}").get_data(as_text=True)
    assert f"（{_date(today)}時点）" in detail


def test_newest_answer_counts_and_goes_into_the_index(app, db, clinics, reindex):
    from index.documents import load_docs

    _answer(db, clinics["a"], "room", days_ago=3)
    _answer(db, clinics["a"], "none")
    (doc,) = load_docs(db, [clinics["a"].id], app.extensions["pmh_index"].questionnaire)
    assert (doc.capacity, doc.capacity_on) == ("none", today_in_japan())
    assert "|p" in doc.stamp
    reindex()
    assert check(db, app.extensions["pmh_index"]) == []


def test_clinic_updates_its_capacity_from_the_portal_only_for_its_own(
    app, db, client, clinics, make_user, login
):
    user = make_user("clinic", facilities=[clinics["a"]])
    login(user)
    token = csrf_token(client, "/clinic/")
    own = client.post(
        f"/clinic/facilities/{clinics['a'].id}/capacity",
        data={"csrf_token": token, "capacity": "none", "wait_days": ""},
    )
    assert own.status_code == 302
    page = client.get("/clinic/").get_data(as_text=True)
    assert "今月の新規受け入れ枠を更新しました" in page
    assert f"（{_date(today_in_japan())}時点）" in page
    other = client.post(
        f"/clinic/facilities/{clinics['b'].id}/capacity",
        data={"csrf_token": token, "capacity": "room"},
    )
    assert other.status_code == 403
    bad = client.post(
        f"/clinic/facilities/{clinics['a'].id}/capacity",
        data={"csrf_token": token, "capacity": "plenty"},
    )
    assert bad.status_code == 302
    answers = db.exec(select(PulseAnswer)).all()
    assert [(a.facility_id, a.capacity, a.via) for a in answers] == [
        (clinics["a"].id, "none", "portal")
    ]
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "pulse.answer")).one()
    assert event.actor_user_id == user.id


def test_office_sees_response_rates_per_month(app, db, client, smtp, clinics, admin):
    _round(db, app, smtp)
    secret = app.config["SECRET_KEY"]
    token = _links(smtp, "a@example.jp")[2].rsplit("/", 1)[1]
    pulse.record_from_link(db, secret, clinics["a"].id, token)
    db.commit()
    (month,) = pulse.monthly_rates(db)
    assert (month.mailed, month.answered, month.counts["none"]) == (2, 1, 1)
    html = client.get("/admin/pulse").get_data(as_text=True)
    assert pulse_mail.month_of() in html and "50%" in html


def test_pulse_send_command_waits_for_its_day_then_sends(app, db, smtp, clinics):
    runner = app.test_cli_runner()
    app.config["PULSE_SEND_DAY"] = 32  # never due
    result = runner.invoke(args=["pulse", "send"], catch_exceptions=False)
    assert "Not yet" in result.output and smtp.messages == []
    app.config["PULSE_SEND_DAY"] = 1
    result = runner.invoke(args=["pulse", "send"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert sorted(smtp.to()) == ["a@example.jp", "b@example.jp"]
    status = runner.invoke(args=["pulse", "status"], catch_exceptions=False)
    assert "mailed 2, answered 0" in status.output


def test_index_columns_carry_the_newest_answer_and_its_day_for_the_order(app, db, clinics, reindex):
    from index.schema import EPOCH, NO_WAIT

    _answer(db, clinics["a"], "none")
    reindex()
    with app.extensions["pmh_index"].open().reader() as reader:
        ids = list(reader.column_reader("fid"))
        capacity = dict(zip(ids, reader.column_reader("capacity"), strict=True))
        day = dict(zip(ids, reader.column_reader("capacity_day"), strict=True))
    assert capacity[clinics["a"].id] == "none" and capacity[clinics["b"].id] == ""
    assert day[clinics["a"].id] == (today_in_japan() - EPOCH).days
    assert day[clinics["b"].id] == NO_WAIT


def test_interrupted_pulse_send_resumes_and_sends_nothing_twice(app, db, smtp, clinics):
    pulse_round = pulse_mail.open_round(db)
    pulse_mail.queue_round(db, pulse_round, app.config["SECRET_KEY"], BASE_URL, audit.CLI_ACTOR)
    smtp.busy_after = 1  # the server asks to try later after one message
    with pytest.raises(SendInterrupted):
        pulse_mail.send_round(db, pulse_round, _settings(app), audit.CLI_ACTOR)
    assert len(smtp.messages) == 1
    smtp.busy_after = None
    report = pulse_mail.send_round(db, pulse_round, _settings(app), audit.CLI_ACTOR)
    assert (report.sent, report.remaining) == (1, 0)
    assert sorted(smtp.to()) == ["a@example.jp", "b@example.jp"]
