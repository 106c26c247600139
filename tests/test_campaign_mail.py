"""Campaign e-mail against a real SMTP server on loopback: queue, send, resume, remind, close."""

from __future__ import annotations

import email
import os
import re
import signal
import subprocess
import sys
from collections import defaultdict
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlmodel import select

from index.geo.gazetteer import municipalities as gazetteer_municipalities
from surveys import audit, campaign_mail, campaigns
from surveys.campaigns import CampaignClosed
from surveys.mail import MailSettings
from surveys.models import AuditEvent, Invitation, MailMessage
from surveys.operations import today_in_japan
from tests.conftest import csrf_token
from tests.smtp_server import free_port, running_smtp

BASE_URL = "http://127.0.0.1:5000"
LINK_RE = re.compile(r"http://127\.0\.0\.1:5000(/clinic/invite/[A-Za-z0-9_\-]+)")


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
def settings(app):
    """The app's mail settings."""
    return MailSettings.from_config(app.config, app.instance_path)


@pytest.fixture
def open_campaign(db, questionnaire):
    """Create a campaign over Tokyo, optionally narrowed to municipalities and kinds."""

    def make(municipalities=(), kinds=()):
        scope = campaigns.make_scope("13", municipalities, kinds, gazetteer_municipalities("13"))
        closes = today_in_japan() + timedelta(days=20)
        campaign = campaigns.create_campaign(
            db, questionnaire, "2026年度 受入れ調査", closes, audit.CLI_ACTOR, scope
        )
        db.commit()
        return campaign

    return make


def _invite_all(db, campaign, settings, **options):
    """Queue the invitations and send everything pending."""
    report = campaign_mail.queue_invitations(db, campaign, audit.CLI_ACTOR, BASE_URL)
    sent = campaign_mail.send_pending(db, campaign, settings, audit.CLI_ACTOR, **options)
    return report, sent


def _messages(db, campaign) -> list[MailMessage]:
    db.expire_all()
    query = select(MailMessage).where(MailMessage.campaign_id == campaign.id)
    return list(db.exec(query.order_by(MailMessage.id)))


def _link(message) -> str:
    """Return the invitation path in a received message."""
    return LINK_RE.search(message.get_content()).group(1)


def _clinics(make_facility, n: int, **fields):
    return [make_facility(email=f"clinic{i}@example.jp", **fields) for i in range(1, n + 1)]


def test_every_facility_in_scope_gets_one_invitation_with_its_own_working_link(
    db, client, smtp, settings, make_facility, open_campaign
):
    koto = _clinics(make_facility, 3, municipality_code="13108")
    no_address = make_facility(name="メールなしクリニック", municipality_code="13108")
    elsewhere = make_facility(email="far@example.com", municipality_code="13201")
    hospital = make_facility(email="hosp@example.com", kind="hospital", municipality_code="13108")
    kanagawa = make_facility(email="k@example.com", prefecture_code="14", municipality_code="14131")
    campaign = open_campaign(municipalities=["13108"], kinds=["clinic"])

    report, sent = _invite_all(db, campaign, settings)

    assert (report.queued, sent.sent, sent.failed) == (3, 3, 0)
    assert report.without_email == [(no_address.id, "メールなしクリニック")]
    assert sorted(smtp.to()) == sorted(f.email for f in koto)
    for facility in (elsewhere, hospital, kanagawa):
        assert facility.email not in smtp.to()
    by_address = {m["To"]: m for m in smtp.messages}
    for facility in koto:
        received = by_address[facility.email]
        assert "2026年度 受入れ調査" in received["Subject"]
        body = received.get_content()
        assert facility.name in body
        assert re.search(r"回答期限: \d{4}年\d{1,2}月\d{1,2}日（[月火水木金土日]）", body)
        page = client.get(_link(received))
        assert page.status_code == 200
        assert facility.name in page.get_data(as_text=True)
    links = {_link(m) for m in smtp.messages}
    assert len(links) == 3
    stored = _messages(db, campaign)
    assert {(m.status, m.body, m.attempts) for m in stored} == {("sent", "", 1)}
    assert all(m.sent_at is not None for m in stored)
    assert {i.facility_id for i in db.exec(select(Invitation))} == {f.id for f in koto}


def test_sending_again_sends_nothing_twice(db, smtp, settings, make_facility, open_campaign):
    _clinics(make_facility, 2)
    campaign = open_campaign()
    _invite_all(db, campaign, settings)
    report, sent = _invite_all(db, campaign, settings)
    assert (report.queued, report.already, sent.sent) == (0, 2, 0)
    assert len(smtp.messages) == 2


def test_interrupted_send_resumes_and_every_facility_gets_exactly_one(
    db, smtp, settings, make_facility, open_campaign
):
    facilities = _clinics(make_facility, 5)
    campaign = open_campaign()
    smtp.busy_after = 2
    with pytest.raises(campaign_mail.SendInterrupted) as stopped:
        _invite_all(db, campaign, settings)
    assert "421" in stopped.value.message("en")
    assert "2/5" in stopped.value.message("en")
    assert [m.status for m in _messages(db, campaign)] == ["sent"] * 2 + ["queued"] * 3
    assert len(smtp.messages) == 2

    smtp.busy_after = None  # the server recovered
    sent = campaign_mail.send_pending(db, campaign, settings, audit.CLI_ACTOR)

    assert sent.sent == 3
    assert sorted(smtp.to()) == sorted(f.email for f in facilities)
    assert {m.status for m in _messages(db, campaign)} == {"sent"}
    details = [
        e.detail for e in db.exec(select(AuditEvent).where(AuditEvent.action == "campaign.send"))
    ]
    assert [(d["sent"], d["remaining"]) for d in details] == [(2, 3), (3, 0)]


def _send_command(app, database_url: str, smtp, campaign) -> tuple[list[str], dict]:
    """`pmh campaign send` in its own process, on the test's database and SMTP server."""
    env = {
        **os.environ,
        "PMH_INSTANCE_PATH": app.instance_path,
        "PMH_DATABASE_URL": database_url,
        "PMH_SECRET_KEY": "test-secret",
        "PMH_MAIL_BACKEND": "smtp",
        "PMH_MAIL_SMTP_PORT": str(smtp.port),
        "PMH_MAIL_SEND_LEASE_SECONDS": "0",  # the killed run is known to be dead
    }
    pmh = str(Path(sys.executable).parent / "pmh")
    return [pmh, "campaign", "send", str(campaign.id)], env


def test_killed_send_resumes_and_no_facility_is_skipped_or_sent_two_different_mails(
    app, database_url, db, smtp, make_facility, open_campaign
):
    facilities = _clinics(make_facility, 8)
    campaign = open_campaign()
    command, env = _send_command(app, database_url, smtp, campaign)
    smtp.stall_at = 3
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert smtp.stalled.wait(timeout=60), run.communicate(timeout=5)
        run.send_signal(signal.SIGKILL)  # the third message is accepted, not yet marked sent
    finally:
        run.wait(timeout=30)
        run.stdout.close()
        run.stderr.close()
    smtp.stall_at = None
    statuses = [m.status for m in _messages(db, campaign)]
    assert statuses.count("sent") == 2 and statuses.count("queued") == 6

    resumed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr

    ids_by_address = defaultdict(set)
    for message in smtp.messages:
        ids_by_address[message["To"]].add(message["Message-ID"])
    assert set(ids_by_address) == {f.email for f in facilities}  # no one skipped
    assert all(len(ids) == 1 for ids in ids_by_address.values())  # a resend is the same mail
    assert len(smtp.messages) <= len(facilities) + 1  # at most the one in flight, once more
    assert {m.status for m in _messages(db, campaign)} == {"sent"}


def test_permanent_refusal_marks_only_that_message_failed(
    db, smtp, settings, make_facility, open_campaign
):
    good, bad, also_good = _clinics(make_facility, 3)
    smtp.refuse = {bad.email}
    campaign = open_campaign()

    _report, sent = _invite_all(db, campaign, settings)

    assert (sent.sent, sent.failed) == (2, 1)
    assert sorted(smtp.to()) == sorted([good.email, also_good.email])
    status = {m.facility_id: m for m in _messages(db, campaign)}
    assert status[bad.id].status == "failed"
    assert status[bad.id].last_error.startswith("550")
    assert status[bad.id].body  # kept, so it can be sent once the address is fixed
    assert {status[good.id].status, status[also_good.id].status} == {"sent"}

    assert campaign_mail.send_pending(db, campaign, settings, audit.CLI_ACTOR).total == 0
    smtp.refuse = set()
    again = campaign_mail.send_pending(db, campaign, settings, audit.CLI_ACTOR, retry_failed=True)
    assert (again.sent, again.failed) == (1, 0)
    assert smtp.to().count(bad.email) == 1
    assert _messages(db, campaign)[1].attempts == 2


def test_message_rejected_at_data_is_marked_failed_and_the_run_goes_on(
    db, smtp, settings, make_facility, open_campaign
):
    good, rejected, also_good = _clinics(make_facility, 3)
    smtp.reject_content = {rejected.email}
    campaign = open_campaign()
    _report, sent = _invite_all(db, campaign, settings)
    assert (sent.sent, sent.failed, sent.remaining) == (2, 1, 0)
    assert sorted(smtp.to()) == sorted([good.email, also_good.email])
    status = {m.facility_id: m for m in _messages(db, campaign)}
    assert status[rejected.id].status == "failed"
    assert status[rejected.id].last_error.startswith("554")


def test_reminders_go_only_to_facilities_that_have_not_answered_since_the_start(
    db, client, smtp, settings, make_facility, open_campaign, answer
):
    answered, silent, answered_last_year = _clinics(make_facility, 3)
    answer(answered_last_year)
    campaign = open_campaign()
    _invite_all(db, campaign, settings)
    answer(answered)
    first_links = {m["To"]: _link(m) for m in smtp.messages}

    report = campaign_mail.queue_reminders(db, campaign, audit.CLI_ACTOR, BASE_URL, "en")
    sent = campaign_mail.send_pending(db, campaign, settings, audit.CLI_ACTOR)

    assert (report.round, report.queued, sent.sent) == (1, 2, 2)
    reminders = smtp.messages[3:]
    assert sorted(m["To"] for m in reminders) == sorted([silent.email, answered_last_year.email])
    assert all(m["Subject"].startswith("[Perinatal") for m in reminders)
    for message in reminders:
        assert _link(message) != first_links[message["To"]]
        assert client.get(_link(message)).status_code == 200
    with pytest.raises(campaign_mail.RoundAlreadyQueued):
        campaign_mail.queue_reminders(db, campaign, audit.CLI_ACTOR, BASE_URL, expected_round=1)
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "campaign.remind")).one()


def test_reminders_wait_until_queued_messages_are_sent(
    db, smtp, settings, make_facility, open_campaign
):
    _clinics(make_facility, 2)
    campaign = open_campaign()
    campaign_mail.queue_invitations(db, campaign, audit.CLI_ACTOR, BASE_URL)
    with pytest.raises(campaign_mail.MessagesPending):
        campaign_mail.queue_reminders(db, campaign, audit.CLI_ACTOR, BASE_URL)


def test_closing_stops_links_and_refuses_more_mail(
    db, client, smtp, settings, make_facility, open_campaign
):
    first = make_facility(email="first@example.jp")
    campaign = open_campaign()
    _invite_all(db, campaign, settings)
    link = _link(smtp.messages[0])
    make_facility(email="late@example.jp")

    campaigns.close_campaign(db, campaign, audit.CLI_ACTOR)
    db.commit()

    assert campaign.closed and campaign.closed_at is not None
    assert client.get(link).status_code == 410
    with pytest.raises(CampaignClosed):
        campaign_mail.queue_invitations(db, campaign, audit.CLI_ACTOR, BASE_URL)
    with pytest.raises(CampaignClosed):
        campaign_mail.send_pending(db, campaign, settings, audit.CLI_ACTOR)
    with pytest.raises(CampaignClosed):
        campaign_mail.queue_reminders(db, campaign, audit.CLI_ACTOR, BASE_URL)
    assert smtp.to() == [first.email]
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "campaign.close")).one()


def test_file_backend_writes_eml_files(db, tmp_path, make_facility, open_campaign):
    facilities = _clinics(make_facility, 2)
    campaign = open_campaign()
    folder = tmp_path / "outbox"
    files = MailSettings(backend="file", folder=str(folder))

    _invite_all(db, campaign, files)

    written = [
        email.message_from_bytes(p.read_bytes(), policy=default_policy)
        for p in sorted(folder.glob("*.eml"))
    ]
    assert sorted(m["To"] for m in written) == sorted(f.email for f in facilities)
    assert all(LINK_RE.search(m.get_content()) for m in written)
    assert {m.body for m in _messages(db, campaign)} == {""}


def test_unreachable_server_stops_with_a_clear_message_and_keeps_the_queue(
    db, make_facility, open_campaign
):
    _clinics(make_facility, 2)
    campaign = open_campaign()
    nowhere = MailSettings(backend="smtp", port=free_port(), timeout=5)
    with pytest.raises(campaign_mail.SendInterrupted) as stopped:
        _invite_all(db, campaign, nowhere)
    assert "Send again later" in stopped.value.message("en")
    assert [m.status for m in _messages(db, campaign)] == ["queued", "queued"]


# Admin pages


def _admin(login, make_user):
    login(make_user("admin"))


def _post(client, url: str, page: str, **data):
    return client.post(url, data={"csrf_token": csrf_token(client, page), **data})


def test_admin_creates_a_campaign_with_a_scope(client, db, login, make_user):
    _admin(login, make_user)
    closes = (today_in_japan() + timedelta(days=10)).isoformat()
    page = "/admin/campaigns/new"
    response = _post(
        client, page, page, name="江東区 病院調査", closes_on=closes,
        municipalities=["13108"], kinds=["hospital"],
    )  # fmt: skip
    assert response.status_code == 302
    campaign = db.exec(select(campaigns.Campaign)).one()
    assert campaign.scope == {
        "prefecture": "13",
        "municipalities": ["13108"],
        "kinds": ["hospital"],
        "category": "psychiatric",  # the questionnaire's respondent
    }
    assert "江東区" in client.get(response.location).get_data(as_text=True)

    past = (today_in_japan() - timedelta(days=1)).isoformat()
    refused = _post(client, page, page, name="x", closes_on=past)
    assert refused.status_code == 200
    assert "締切日は今日以降にしてください" in refused.get_data(as_text=True)


def test_admin_pages_send_and_show_progress(
    client, db, smtp, login, make_user, make_facility, open_campaign, answer
):
    first, second, refused = _clinics(make_facility, 3)
    make_facility(name="アドレス未登録クリニック")
    smtp.refuse = {refused.email}
    campaign = open_campaign()
    _admin(login, make_user)
    detail = f"/admin/campaigns/{campaign.id}"

    unconfirmed = _post(client, f"{detail}/send", detail, language="ja")
    assert unconfirmed.status_code == 302 and smtp.messages == []
    for _ in range(2):  # a double post sends nothing twice
        _post(client, f"{detail}/send", detail, language="ja", confirm="y")
    assert sorted(smtp.to()) == sorted([first.email, second.email])
    answer(first)

    listing = client.get("/admin/campaigns").get_data(as_text=True)
    row = re.search(rf'<tr data-campaign="{campaign.id}">.*?</tr>', listing, re.S).group(0)
    assert re.search(r'class="invited">3<', row) and re.search(r'class="sent">2<', row)
    assert re.search(r'class="answered">1<', row)
    assert '<progress value="1" max="4"' in row and "25.0%" in row
    page = client.get(detail).get_data(as_text=True)
    assert 'id="stat-failed">1<' in page
    assert "550 5.1.1 No such user here" in page
    assert "アドレス未登録クリニック" in page


def test_admin_send_stops_at_its_time_budget_and_continues_when_pressed_again(
    app, client, smtp, login, make_user, make_facility, open_campaign
):
    app.config["MAIL_SEND_REQUEST_SECONDS"] = 0  # spent after the first message
    clinics = _clinics(make_facility, 3)
    campaign = open_campaign()
    _admin(login, make_user)
    detail = f"/admin/campaigns/{campaign.id}"
    _post(client, f"{detail}/send", detail, language="ja", confirm="y")
    assert len(smtp.messages) == 1
    assert "残り2通は送信待ちです" in client.get(detail).get_data(as_text=True)
    for _ in range(2):
        _post(client, f"{detail}/send", detail, language="ja", confirm="y")
    assert sorted(smtp.to()) == sorted(c.email for c in clinics)


def test_admin_send_failure_shows_a_message_not_a_500(
    client, db, smtp, login, make_user, make_facility, open_campaign
):
    _clinics(make_facility, 2)
    campaign = open_campaign()
    smtp.busy_after = 0
    _admin(login, make_user)
    detail = f"/admin/campaigns/{campaign.id}"
    response = _post(client, f"{detail}/send", detail, language="ja", confirm="y")
    assert response.status_code == 302
    page = client.get(detail).get_data(as_text=True)
    assert "送信を中断しました" in page
    assert 'id="stat-queued">2<' in page


def test_admin_reminds_once_per_round_and_closes(
    client, db, smtp, login, make_user, make_facility, open_campaign
):
    _clinics(make_facility, 2)
    campaign = open_campaign()
    _admin(login, make_user)
    detail = f"/admin/campaigns/{campaign.id}"
    _post(client, f"{detail}/send", detail, language="ja", confirm="y")
    token = csrf_token(client, detail)
    for _ in range(2):  # the same form posted twice
        client.post(
            f"{detail}/remind",
            data={"csrf_token": token, "round": "1", "language": "ja", "confirm": "y"},
        )
    assert len(smtp.messages) == 4
    assert "この督促は既に作成されています" in client.get(detail).get_data(as_text=True)

    closed = _post(client, f"{detail}/close", detail, confirm="y")
    assert closed.status_code == 302
    db.refresh(campaign)
    assert campaign.closed
    again = _post(client, f"{detail}/close", "/admin/campaigns/new", confirm="y")
    assert again.status_code == 302
    assert "既に締め切っています" in client.get(detail).get_data(as_text=True)
