"""`pmh campaign create|invite`: invitation links for a survey round."""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from surveys.models import Campaign, Invitation, MailMessage
from surveys.operations import TOKYO, today_in_japan


def test_campaign_create_and_invite_prints_working_links(app, client, db, make_facility):
    answered, fresh = make_facility(), make_facility(name="未回答クリニック")
    runner = app.test_cli_runner()
    closes = (today_in_japan() + timedelta(days=14)).isoformat()
    created = runner.invoke(args=["campaign", "create", "--name", "2026年度", "--closes", closes])
    assert created.exit_code == 0, created.output
    campaign = db.exec(select(Campaign)).one()
    assert campaign.closes_at.astimezone(TOKYO).date().isoformat() == closes

    result = runner.invoke(
        args=["campaign", "invite", "--campaign", str(campaign.id), "--facility", str(fresh.id)]
    )
    assert result.exit_code == 0, result.output
    assert "未回答クリニック" in result.output
    path = re.search(r"http://127\.0\.0\.1:5000(/clinic/invite/\S+)", result.output).group(1)
    assert "未回答クリニック" in client.get(path).get_data(as_text=True)
    assert [i.facility_id for i in db.exec(select(Invitation))] == [fresh.id]
    assert answered.id != fresh.id


def test_campaign_create_refuses_past_date(app, db):
    past = (today_in_japan() - timedelta(days=1)).isoformat()
    result = app.test_cli_runner().invoke(
        args=["campaign", "create", "--name", "x", "--closes", past]
    )
    assert result.exit_code != 0
    assert "closing date" in result.output
    assert db.exec(select(Campaign)).all() == []


def test_campaign_invite_unknown_facility_stores_nothing(app, db, make_campaign, make_facility):
    make_facility()
    campaign = make_campaign()
    result = app.test_cli_runner().invoke(
        args=["campaign", "invite", "--campaign", str(campaign.id), "--facility", "999"]
    )
    assert result.exit_code != 0
    assert "999" in result.output
    assert db.exec(select(Invitation)).all() == []


def _create(app, *options: str) -> Campaign:
    """Run `pmh campaign create` for a campaign closing in two weeks."""
    closes = (today_in_japan() + timedelta(days=14)).isoformat()
    result = app.test_cli_runner().invoke(
        args=["campaign", "create", "--name", "2026年度", "--closes", closes, *options]
    )
    assert result.exit_code == 0, result.output
    return int(re.search(r"Campaign (\d+)", result.output).group(1))


def test_campaign_create_stores_municipalities_and_kinds(app, db):
    # 131083: the six-digit form (with its check digit) that many office lists use
    campaign_id = _create(
        app, "--municipality", "131083", "--municipality", "13107", "--kind", "clinic"
    )
    campaign = db.get(Campaign, campaign_id)
    assert campaign.scope == {
        "prefecture": "13",
        "municipalities": ["13107", "13108"],
        "kinds": ["clinic"],
        "category": "psychiatric",  # the questionnaire's respondent
    }


def test_campaign_create_refuses_municipality_of_another_prefecture(app, db):
    closes = (today_in_japan() + timedelta(days=14)).isoformat()
    result = app.test_cli_runner().invoke(
        args=["campaign", "create", "--name", "x", "--closes", closes, "--municipality", "14131"]
    )
    assert result.exit_code == 1
    assert "Not a municipality code of prefecture 13: 14131" in result.output
    assert "Traceback" not in result.output
    assert db.exec(select(Campaign)).all() == []


def test_campaign_send_status_remind_close(app, db, make_facility):
    koto = [make_facility(email=f"c{n}@example.jp") for n in (1, 2)]
    make_facility(name="メールなしクリニック")
    make_facility(email="far@example.jp", municipality_code="13201")
    campaign_id = _create(app, "--municipality", "13108")
    runner = app.test_cli_runner()

    sent = runner.invoke(args=["campaign", "send", str(campaign_id)])

    assert sent.exit_code == 0, sent.output
    assert "Sending" in sent.output and "Sent 2, failed 0." in sent.output
    assert "1 facilities have no e-mail address" in sent.output
    assert "メールなしクリニック" in sent.output
    written = sorted((Path(app.instance_path) / "mail").glob("*.eml"))
    assert len(written) == 2
    assert {m.to_address for m in db.exec(select(MailMessage))} == {f.email for f in koto}

    status = runner.invoke(args=["campaign", "status", str(campaign_id)])
    assert status.exit_code == 0
    assert "queued: 0  sent: 2  failed: 0" in status.output
    assert "answered: 0 (0.0%)" in status.output

    reminded = runner.invoke(args=["campaign", "remind", str(campaign_id), "--language", "en"])
    assert reminded.exit_code == 0, reminded.output
    assert "Queued 2 reminder message(s)" in reminded.output
    assert len(list((Path(app.instance_path) / "mail").glob("*.eml"))) == 4

    closed = runner.invoke(args=["campaign", "close", str(campaign_id)])
    assert closed.exit_code == 0, closed.output
    again = runner.invoke(args=["campaign", "send", str(campaign_id)])
    assert again.exit_code == 1
    assert "This campaign is closed." in again.output
    assert isinstance(again.exception, SystemExit)  # a clean error, not a traceback


def test_campaign_send_stops_with_exit_code_when_server_is_unreachable(make_app, db, make_facility):
    make_facility(email="c1@example.jp")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = make_app("smtp", MAIL_BACKEND="smtp", MAIL_SMTP_PORT=port, MAIL_SMTP_TIMEOUT=5)
    campaign_id = _create(app)

    result = app.test_cli_runner().invoke(args=["campaign", "send", str(campaign_id)])

    assert result.exit_code == 1
    assert "Sending stopped" in result.output and "Send again later" in result.output
    assert isinstance(result.exception, SystemExit)
    assert [m.status for m in db.exec(select(MailMessage))] == ["queued"]


def test_campaign_commands_refuse_unknown_campaign(app, db):
    for command in ("send", "remind", "close", "status"):
        result = app.test_cli_runner().invoke(args=["campaign", command, "999"])
        assert result.exit_code == 2
        assert "No campaign with id 999" in result.output
