"""`pmh campaign create|invite`: invitation links for a survey round."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import select

from surveys.models import Campaign, Invitation
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
