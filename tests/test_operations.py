"""Survey operations under concurrency: two saves on the same version, one wins."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from surveys import audit
from surveys.errors import VersionConflict
from surveys.models import SurveyResponse
from surveys.operations import submit_answers

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
