"""Index kept in step with the database: outbox, sync, rebuild, check."""

from __future__ import annotations

import pytest
from sqlmodel import select

from index.searcher import SearchRequest
from index.store import IndexBusy
from index.sync import check, pending_count, rebuild, sync_outbox
from surveys import audit
from surveys.models import Facility, IndexOutbox
from surveys.operations import submit_answers

ANSWERS = {"pregnant": "yes", "postpartum": "yes", "visibility": "public", "answered_by": "x"}


def _ids(app) -> list[int]:
    searcher = app.extensions["pmh_searcher"]
    return [h.facility_id for h in searcher.search(SearchRequest(per_page=100)).hits]


def test_outbox_change_applied_by_sync_then_marked(app, db, make_facility, questionnaire):
    index = app.extensions["pmh_index"]
    facility = make_facility()
    rebuild(db, index)
    assert _ids(app) == []  # no answer yet: not public
    submit_answers(db, facility, questionnaire, ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    assert pending_count(db) == 1
    assert [d.problem for d in check(db, index)] == ["stale"]

    assert sync_outbox(db, index) == 1
    assert pending_count(db) == 0
    assert _ids(app) == [facility.id]
    assert check(db, index) == []


def test_sync_applied_twice_is_harmless(app, db, make_facility, questionnaire):
    index = app.extensions["pmh_index"]
    facility = make_facility()
    rebuild(db, index)
    submit_answers(db, facility, questionnaire, ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    sync_outbox(db, index)
    # A crash after the index commit but before marking: the row is replayed.
    for row in db.exec(select(IndexOutbox)):
        row.processed_at = None
        db.add(row)
    db.commit()
    sync_outbox(db, index)
    assert _ids(app) == [facility.id]
    assert check(db, index) == []


def test_check_finds_documents_of_removed_facilities(app, db, make_facility):
    index = app.extensions["pmh_index"]
    kept, removed = make_facility(), make_facility()
    rebuild(db, index)
    db.delete(removed)
    db.commit()
    problems = check(db, index)
    assert [(d.facility_id, d.problem) for d in problems] == [(removed.id, "extra")]
    rebuild(db, index)
    assert check(db, index) == []
    assert kept.id in index.stamps()


def test_index_cli_check_sync_rebuild(app, db, make_facility, questionnaire):
    runner = app.test_cli_runner()
    facility = make_facility()
    assert runner.invoke(args=["index", "check"]).exit_code != 0  # no index yet
    built = runner.invoke(args=["index", "sync", "--if-missing-rebuild"])
    assert built.exit_code == 0, built.output
    submit_answers(db, facility, questionnaire, ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    stale = runner.invoke(args=["index", "check"])
    assert stale.exit_code != 0
    assert f"facility {facility.id}: stale" in stale.output
    assert runner.invoke(args=["index", "sync"]).exit_code == 0
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    rebuilt = runner.invoke(args=["index", "rebuild"])
    assert "Indexed 1 facilities" in rebuilt.output
    assert len(db.exec(select(Facility)).all()) == 1


def test_order_of_same_named_facilities_survives_an_update(app, db, make_facility, questionnaire):
    index = app.extensions["pmh_index"]
    first, second = make_facility(name="同名クリニック"), make_facility(name="同名クリニック")
    for facility in (first, second):
        submit_answers(db, facility, questionnaire, ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    rebuild(db, index)
    assert _ids(app) == [first.id, second.id]
    # Updating the first re-adds its document after the second's in Whoosh.
    submit_answers(db, first, questionnaire, dict(ANSWERS, pregnant="no"), audit.CLI_ACTOR, 1)
    db.commit()
    sync_outbox(db, index)
    assert _ids(app) == [first.id, second.id]


def test_sync_while_another_writer_holds_the_lock_keeps_outbox(
    app, db, make_facility, questionnaire
):
    index = app.extensions["pmh_index"]
    facility = make_facility()
    rebuild(db, index)
    submit_answers(db, facility, questionnaire, ANSWERS, audit.CLI_ACTOR, 0)
    db.commit()
    held = index.open().writer()
    try:
        with pytest.raises(IndexBusy):
            sync_outbox(db, index, lock_timeout=0.1)
        db.rollback()
        assert pending_count(db) == 1
    finally:
        held.cancel()
    assert sync_outbox(db, index) == 1
    assert check(db, index) == []
