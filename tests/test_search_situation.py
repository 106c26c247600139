"""The mother's situation decides what is shown, and the recommended order says why."""

from __future__ import annotations

from datetime import timedelta

import pytest

from index.sync import sync_outbox
from surveys import audit, pulse, reports
from surveys.models import utcnow
from surveys.operations import submit_answers
from tests.conftest import BASE, KINSHICHO

KM = 0.009  # degrees of latitude per km, near enough

INVALID, MISSING = "invalid_parameter", "missing_parameter"


@pytest.fixture
def clinic(make_facility, db, questionnaire):
    """Make a clinic `km` north of 錦糸町駅 whose answers were verified `days_ago`."""

    def make(name: str, km: float, days_ago: int = 14, **answers):
        facility = make_facility(name=name, kana="", lat=KINSHICHO[0] + km * KM, lng=KINSHICHO[1])
        if answers:
            values = {**BASE, "pregnant": "no", **answers}
            now = utcnow() - timedelta(days=days_ago)
            submit_answers(db, facility, questionnaire, values, audit.CLI_ACTOR, 0, now=now)
            db.commit()
        return facility

    return make


def _search(client, **params):
    query = {"lat": KINSHICHO[0], "lng": KINSHICHO[1], **params}
    response = client.get("/api/v1/search", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _names(body) -> list[str]:
    return [r["name"] for r in body["results"]]


def test_without_a_situation_only_accepting_facilities_are_listed(
    client, clinic, reindex, login, make_user
):
    login(make_user("staff"))  # unanswered facilities are listed for professionals only
    clinic("断る近いクリニック", 0.3, pregnant="no", postpartum="no")
    clinic("未回答クリニック", 0.4)
    clinic("産後可クリニック", 1.0, postpartum="yes")
    clinic("妊娠中条件付きクリニック", 1.2, pregnant="conditional", postpartum="no")
    reindex()
    body = _search(client)
    assert _names(body) == ["産後可クリニック", "妊娠中条件付きクリニック"]
    assert body["declined_total"] == 2
    assert {r["accepts"] for r in body["results"]} == {True}


def test_declined_and_unanswered_come_after_all_accepting_marked(
    client, clinic, reindex, login, make_user
):
    login(make_user("staff"))
    clinic("断る近いクリニック", 0.3, pregnant="no", postpartum="no")
    clinic("未回答クリニック", 0.4)
    clinic("遠いが受け入れるクリニック", 8.0, postpartum="yes", wait_days=60)
    reindex()
    body = _search(client, include_declined="true", situation="postpartum")
    assert [(r["name"], r["accepts"]) for r in body["results"]] == [
        ("遠いが受け入れるクリニック", True),
        ("断る近いクリニック", False),
        ("未回答クリニック", None),
    ]
    assert body["results"][1]["rank_reasons"][0]["kind"] == "not_accepting"
    assert body["results"][2]["rank_reasons"][0]["text"] == "受け入れ未回答"
    by_distance = _search(client, include_declined="true", sort="distance")
    assert _names(by_distance)[0] == "遠いが受け入れるクリニック"


def test_new_patient_excludes_existing_only_and_closed(client, clinic, reindex):
    clinic("通院中のみクリニック", 0.2, postpartum="yes", postpartum_patients="existing_only")
    clinic("新規停止クリニック", 0.3, postpartum="yes", new_patients="no")
    clinic("新規可クリニック", 2.0, postpartum="conditional", new_patients="limited")
    reindex()
    new = _search(client, situation="postpartum")
    assert _names(new) == ["新規可クリニック"]
    assert new["declined_total"] == 2
    existing = _search(client, situation="postpartum", new_patient="false", sort="distance")
    assert _names(existing) == ["通院中のみクリニック", "新規停止クリニック", "新規可クリニック"]


def test_breastfeeding_mother_needing_medication(client, clinic, reindex):
    clinic("授乳中処方不可", 0.2, postpartum="yes", breastfeeding_rx="no")
    clinic("授乳中処方相談可", 0.5, postpartum="yes", breastfeeding_rx="consult")
    clinic("妊娠中のみ", 0.6, pregnant="yes", postpartum="no", breastfeeding_rx="yes")
    reindex()
    body = _search(client, situation="postpartum", breastfeeding="true", needs_rx="true")
    assert _names(body) == ["授乳中処方相談可"]
    no_rx = _search(client, situation="postpartum", breastfeeding="true", sort="distance")
    assert _names(no_rx) == ["授乳中処方不可", "授乳中処方相談可"]


def test_both_situations_need_both(client, clinic, reindex):
    clinic("産後のみ", 0.2, postpartum="yes")
    clinic("両方", 0.5, pregnant="yes", postpartum="conditional", pregnant_trimester=["first"])
    reindex()
    assert _names(_search(client, situation=["pregnant", "postpartum"])) == ["両方"]
    assert _names(_search(client, situation="pregnant", trimester="first")) == ["両方"]
    assert _names(_search(client, situation="pregnant", trimester="third")) == []


def test_fresh_farther_clinic_ranks_above_stale_nearer_one(client, clinic, db, reindex, make_user):
    """The issue's case: conditional 18 months ago with three open reports, 1 km away, against
    yes two weeks ago, 7 days' wait, no report, 4 km away."""
    stale = clinic("古い近いクリニック", 1.0, days_ago=540, postpartum="conditional")
    clinic("新しい遠いクリニック", 4.0, days_ago=14, postpartum="yes", wait_days=7)
    for reason in ("no_capacity", "no_answer", "other"):
        reporter = audit.Actor(user_id=make_user("staff").id, label="nurse")
        reports.create_report(db, stale, reason, "", reporter)
    db.commit()
    reindex()
    body = _search(client, situation="postpartum")
    assert _names(body) == ["新しい遠いクリニック", "古い近いクリニック"]
    first, second = body["results"]
    assert [r["kind"] for r in first["rank_reasons"]] == ["distance", "wait", "verified"]
    assert first["rank_reasons"][1]["text"] == "7日以内"
    assert any(r["kind"] == "reports" and r["value"] == 3 for r in second["rank_reasons"])
    assert any(r["kind"] == "conditional" for r in second["rank_reasons"])
    # By distance the nearer one still comes first: the other sorts stay.
    assert (
        _names(_search(client, situation="postpartum", sort="distance"))[0] == "古い近いクリニック"
    )


def test_open_reports_alone_decide_between_equals(client, clinic, db, app, make_user, reindex):
    a = clinic("Aクリニック", 1.0, postpartum="yes", wait_days=14)
    clinic("Bクリニック", 1.0, postpartum="yes", wait_days=14)
    reindex()
    assert _names(_search(client)) == ["Aクリニック", "Bクリニック"]  # equal: by name
    nurse = make_user("staff")
    reports.create_report(db, a, "no_capacity", "", audit.Actor(user_id=nurse.id, label="n"))
    db.commit()
    sync_outbox(db, app.extensions["pmh_index"])  # the report's outbox row re-indexes A
    body = _search(client)
    assert _names(body) == ["Bクリニック", "Aクリニック"]
    assert body["results"][1]["rank_reasons"][-1]["text"] == "予約が取れなかった報告1件"


def test_answers_older_than_two_years_rank_last_and_are_marked(client, clinic, reindex):
    clinic("3年前の回答", 0.1, days_ago=1100, postpartum="yes", wait_days=0)
    clinic("1年半前の回答", 9.0, days_ago=540, postpartum="conditional", wait_days=90)
    reindex()
    body = _search(client)
    assert _names(body) == ["1年半前の回答", "3年前の回答"]
    last = body["results"][1]["rank_reasons"]
    assert last[-1]["kind"] == "stale" and "2年以上前" in last[-1]["text"]


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"situation": "postpartum", "months_postpartum": "-3"}, "months_postpartum", INVALID),
        ({"situation": "postpartum", "months_postpartum": "13"}, "months_postpartum", INVALID),
        ({"months_postpartum": "2"}, "months_postpartum", MISSING),
        ({"situation": "banana"}, "situation", INVALID),
        ({"trimester": "first"}, "trimester", MISSING),
        ({"situation": "pregnant", "trimester": "fourth"}, "trimester", INVALID),
        ({"new_patient": "maybe"}, "new_patient", INVALID),
        ({"include_declined": "2"}, "include_declined", INVALID),
        ({"near": "錦" * 2000}, "near", INVALID),
    ],
)
def test_bad_situation_parameters_are_400(client, params, field, code):
    # A stage without its situation is a documented cross-parameter rule (missing_parameter).
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["field"] == field
    english = client.get("/api/v1/search", query_string={**params, "lang": "en"})
    assert english.get_json()["error"]["message"].isascii()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"situation": "postpartum", "months_postpartum": "-3"}, "産後の月数"),
        ({"situation": "banana", "near": "錦糸町駅"}, "状況（situation）"),
        ({"trimester": "first", "near": "錦糸町駅"}, "妊娠時期"),
        ({"near": "錦" * 2000}, "200文字以内"),
    ],
)
def test_bad_situation_on_the_page_is_an_inline_message(client, params, message):
    response = client.get("/", query_string=params)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'role="alert"' in page and 'aria-invalid="true"' in page


def test_page_lists_accepting_then_offers_the_rest_with_a_count(client, clinic, reindex):
    clinic("断るクリニック", 0.3, pregnant="no", postpartum="no")
    clinic("受け入れるクリニック", 1.0, postpartum="yes", wait_days=7)
    reindex()
    page = client.get("/", query_string={"near": "錦糸町駅", "situation": "postpartum"}).get_data(
        as_text=True
    )
    assert "受け入れるクリニック" in page and "断るクリニック" not in page
    assert "受け入れていない・未回答の医療機関も表示（1件）" in page
    assert "7日以内" in page
    more = client.get(
        "/",
        query_string={"near": "錦糸町駅", "situation": "postpartum", "include_declined": "true"},
    ).get_data(as_text=True)
    assert more.index("受け入れるクリニック") < more.index("断るクリニック")
    assert "この状況の方は受け入れていません" in more
    assert "受け入れていない・未回答の医療機関も表示" not in more


def _pulse(db, facility, capacity: str, days_ago: int) -> None:
    """Store a capacity pulse answer given `days_ago` (from the clinic's portal)."""
    moment = utcnow() - timedelta(days=days_ago)
    pulse.record_from_portal(db, facility, capacity, None, audit.CLI_ACTOR, now=moment)
    db.commit()


def test_fresh_no_room_ranks_after_those_with_room(client, clinic, reindex, db):
    full = clinic("枠なし近いクリニック", 0.5, postpartum="yes", wait_days="7")
    roomy = clinic("枠あり遠いクリニック", 3.0, postpartum="yes", wait_days="7")
    _pulse(db, full, "none", days_ago=3)
    _pulse(db, roomy, "room", days_ago=3)
    reindex()
    body = _search(client, situation="postpartum")
    assert _names(body) == ["枠あり遠いクリニック", "枠なし近いクリニック"]
    reasons = {r["name"]: r["rank_reasons"] for r in body["results"]}
    assert {"kind": "capacity", "value": "none"} in [
        {k: v for k, v in r.items() if k in ("kind", "value")}
        for r in reasons["枠なし近いクリニック"]
    ]


def test_a_pulse_answer_older_than_45_days_counts_as_unknown(client, clinic, reindex, db):
    full = clinic("古い枠なし近いクリニック", 0.5, postpartum="yes", wait_days="7")
    clinic("回答なし遠いクリニック", 3.0, postpartum="yes", wait_days="7")
    _pulse(db, full, "none", days_ago=50)
    reindex()
    body = _search(client, situation="postpartum")
    assert _names(body) == ["古い枠なし近いクリニック", "回答なし遠いクリニック"]
    kinds = [r["kind"] for r in body["results"][0]["rank_reasons"]]
    assert "capacity" not in kinds
