"""Survey operations under concurrency: two saves on the same version, one wins."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from surveys import audit
from surveys.errors import VersionConflict, WrongQuestionnaire
from surveys.models import Facility, SurveyResponse
from surveys.operations import current_response, submit_answers

ANSWERS = {"pregnant": "no", "postpartum": "yes", "visibility": "public", "answered_by": "x"}


def test_concurrent_first_saves_one_wins_other_conflicts(app, db, make_facility, questionnaire):
    facility = make_facility()
    engine = app.extensions["pmh_engine"]
    with Session(engine) as first, Session(engine) as second:
        mine = first.get(type(facility), facility.id)
        theirs = second.get(type(facility), facility.id)
        # Both read "no answers yet" before either writes.
        assert second.exec(select(SurveyResponse)).all() == []
        submit_answers(first, mine, questionnaire, ANSWERS, audit.Actor("a"), 0)
        first.commit()
        with pytest.raises(VersionConflict):
            submit_answers(
                second, theirs, questionnaire, dict(ANSWERS, pregnant="yes"), audit.Actor("b"), 0
            )
        second.rollback()
    db.expire_all()
    stored = db.exec(select(SurveyResponse)).all()
    assert [(r.version_no, r.answers["pregnant"]) for r in stored] == [(1, "no")]


ROUNDS = 30


def _save_at_once(engine, facility_id: int, questionnaire, barrier, outcome: list, tag: str):
    """Read the current version, wait for the other saver, then save on top of it."""
    with Session(engine) as session:
        facility = session.get(Facility, facility_id)
        latest = current_response(session, facility_id)
        base = latest.version_no if latest else 0
        barrier.wait()
        try:
            answers = dict(ANSWERS, answered_by=tag)
            submit_answers(session, facility, questionnaire, answers, audit.Actor(tag), base)
            session.commit()
            outcome.append("saved")
        except VersionConflict:
            session.rollback()
            outcome.append("conflict")


def test_simultaneous_saves_on_one_base_store_one_version(app, db, make_facility, questionnaire):
    facility = make_facility()
    engine = app.extensions["pmh_engine"]
    for round_no in range(ROUNDS):
        barrier, outcome = threading.Barrier(2), []
        savers = [
            threading.Thread(
                target=_save_at_once,
                args=(engine, facility.id, questionnaire, barrier, outcome, f"{tag}{round_no}"),
            )
            for tag in ("a", "b")
        ]
        for saver in savers:
            saver.start()
        for saver in savers:
            saver.join(timeout=60)
        assert sorted(outcome) == ["conflict", "saved"], f"round {round_no}: {outcome}"
    db.expire_all()
    versions = db.exec(select(SurveyResponse.version_no)).all()
    assert sorted(versions) == list(range(1, ROUNDS + 1))


def test_a_questionnaire_for_another_kind_of_facility_is_refused(db, make_facility, questionnaire):
    unit = make_facility(name="森の産婦人科", category="obstetric")
    with pytest.raises(WrongQuestionnaire) as info:
        submit_answers(db, unit, questionnaire, ANSWERS, audit.CLI_ACTOR, base_version=0)
    assert "区分向けではありません" in info.value.message_ja
    assert current_response(db, unit.id) is None
