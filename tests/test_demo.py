"""`pmh seed-demo`: realistic, deterministic synthetic data and working demo accounts."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from index.geo.gazetteer import load_towns
from search_app import create_app
from surveys.demo import seed_demo
from surveys.models import Campaign, Facility, Invitation, SurveyResponse, User


def _snapshot(session: Session) -> list[tuple]:
    """Facility master and answers, without ids or timestamps."""
    rows = []
    for facility in session.exec(select(Facility).order_by(Facility.source_id)):
        response = session.exec(
            select(SurveyResponse).where(SurveyResponse.facility_id == facility.id)
        ).first()
        fields = facility.model_dump(exclude={"id", "created_at", "updated_at"})
        rows.append((tuple(sorted(fields.items())), response.answers if response else None))
    return rows


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_seed_demo_is_deterministic_per_seed(tmp_path, database_url, questionnaire):
    from surveys.database import upgrade

    snapshots = []
    for n, seed in enumerate([7, 7, 8]):
        url = f"sqlite:///{tmp_path / f'demo{n}.sqlite3'}"
        upgrade(url)
        app = create_app({"INSTANCE_PATH": str(tmp_path / f"i{n}"), "DATABASE_URL": url})
        with Session(app.extensions["pmh_engine"]) as session:
            seed_demo(session, questionnaire, 40, seed, load_towns("東京都"))
            session.commit()
            snapshots.append(_snapshot(session))
        app.extensions["pmh_engine"].dispose()
    assert snapshots[0] == snapshots[1]
    assert snapshots[0] != snapshots[2]


def test_seed_demo_data_is_plausible(app, db, questionnaire):
    seed_demo(db, questionnaire, 300, 3, load_towns("東京都"))
    db.commit()
    facilities = db.exec(select(Facility)).all()
    assert len(facilities) == 300
    towns = {(t.city, t.town): t for t in load_towns("東京都") if not t.koaza}
    for facility in facilities:
        assert facility.address.startswith("東京都")
        assert re.fullmatch(r"[ァ-ヶー・]+", facility.kana), facility.kana
        matches = [k for k in towns if facility.address.startswith(f"東京都{k[0]}{k[1]}")]
        town = towns[max(matches, key=lambda k: len(k[1]))]
        assert abs(town.lat - facility.lat) < 0.01 and abs(town.lng - facility.lng) < 0.01
        assert facility.municipality_code == town.municipality_code
    answers = [r.answers for r in db.exec(select(SurveyResponse))]
    assert 0.6 < len(answers) / 300 < 0.95
    emails = [f.email for f in facilities if f.email]
    assert 250 < len(emails) < 300  # some facilities have no address, as in real data
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"clinic\d{6}@example\.(jp|com)", e) for e in emails), emails[:3]
    accepting = sum(a["pregnant"] in ("yes", "conditional") for a in answers)
    assert accepting / len(answers) < 0.4  # most decline pregnant patients, as in real surveys
    for stored in answers:
        assert questionnaire.clean(stored)[1] == {}


def test_seed_demo_command_prints_working_credentials(app, client, db, login):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--clinics", "20", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "Created 20 facilities" in result.output
    match = re.search(r"clinic\s+(\S+)\s+password: (\S+)", result.output)
    user = db.exec(select(User).where(User.email == match.group(1))).one()
    assert login(user, match.group(2)).location.endswith("/clinic/")
    links = re.findall(r"http://127\.0\.0\.1:5000(/clinic/invite/\S+)", result.output)
    assert len(links) == 3
    assert client.get(links[0]).status_code == 200
    assert len(db.exec(select(Invitation)).all()) == 3


def test_seed_demo_if_empty_leaves_existing_data(app, db):
    runner = app.test_cli_runner()
    runner.invoke(args=["seed-demo", "--clinics", "5", "--seed", "1"])
    again = runner.invoke(args=["seed-demo", "--clinics", "5", "--seed", "1", "--if-empty"])
    assert again.exit_code == 0
    assert "already present" in again.output
    psychiatric = select(Facility).where(Facility.category == "psychiatric")
    assert len(db.exec(psychiatric).all()) == 5
    assert len(db.exec(select(Facility)).all()) > 5  # and the demo network beside them
    refused = runner.invoke(args=["seed-demo", "--clinics", "5"])
    assert refused.exit_code != 0


def test_seed_demo_closed_campaign_has_a_study_report_with_answers(app, client, db, admin):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--clinics", "40", "--seed", "2"])
    assert result.exit_code == 0, result.output
    line = re.search(
        r"Closed campaign .*: (\d+) facilities answered \(report: (\S+)\)", result.output
    )
    answered, report = int(line.group(1)), line.group(2)
    campaign = db.exec(select(Campaign).where(Campaign.closed)).one()
    assert report == f"/admin/campaigns/{campaign.id}/study-report"
    assert 0 < answered < 40
    page = client.get(report).get_data(as_text=True)
    assert "まだ回答がありません" not in page
    assert f'id="stat-respondents">{answered}<' in page
