"""Index kept in step with the database: outbox, sync, rebuild, check."""

from __future__ import annotations

import contextlib
import threading

import pytest
from sqlmodel import Session, select

from index import sync as index_sync
from index.documents import load_docs
from index.searcher import SearchRequest
from index.store import IndexBusy
from index.sync import check, pending_count, rebuild, sync_outbox
from surveys import audit
from surveys.models import Facility, IndexOutbox
from surveys.operations import current_response, submit_answers

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


def _answer_on_top(session, facility, questionnaire, **answers) -> None:
    """Store a new version on top of the current one and commit."""
    latest = current_response(session, facility.id)
    submit_answers(
        session,
        session.get(Facility, facility.id),
        questionnaire,
        {**ANSWERS, **answers},
        audit.CLI_ACTOR,
        latest.version_no if latest else 0,
    )
    session.commit()


def test_older_document_never_replaces_a_newer_one(
    app, db, make_facility, questionnaire, monkeypatch
):
    """Sync A reads version 1; version 2 is saved and synced; then A writes: 2 must survive."""
    index = app.extensions["pmh_index"]
    facility = make_facility()
    rebuild(db, index)
    _answer_on_top(db, facility, questionnaire, wait_days=10)
    loaded, go_on = threading.Event(), threading.Event()
    real_load = index_sync.load_docs

    def load_then_pause(*args, **kwargs):
        docs = real_load(*args, **kwargs)
        if not loaded.is_set():  # only sync A pauses, right after reading version 1
            loaded.set()
            go_on.wait(timeout=30)
        return docs

    monkeypatch.setattr(index_sync, "load_docs", load_then_pause)

    def sync_a() -> None:
        with Session(app.extensions["pmh_engine"]) as session:
            sync_outbox(session, index, lock_timeout=30)

    first = threading.Thread(target=sync_a)
    first.start()
    assert loaded.wait(timeout=30)
    _answer_on_top(db, facility, questionnaire, wait_days=20)  # version 2
    with contextlib.suppress(IndexBusy):  # A holds the index: version 2 waits in the outbox
        sync_outbox(db, index, lock_timeout=0.2)
    go_on.set()
    first.join(timeout=60)
    sync_outbox(db, index)  # the next save or `pmh index sync` applies what waits
    assert check(db, index) == []
    assert index.stamps()[facility.id].endswith("|v2")


def test_write_keeps_a_newer_indexed_document(app, db, make_facility, questionnaire):
    index = app.extensions["pmh_index"]
    facility = make_facility()
    _answer_on_top(db, facility, questionnaire, wait_days=10)
    old_doc = load_docs(db, [facility.id], questionnaire)
    _answer_on_top(db, facility, questionnaire, wait_days=20)
    rebuild(db, index)
    assert index.write(old_doc) == 0
    assert index.stamps()[facility.id].endswith("|v2")
    assert check(db, index) == []


def test_sync_adds_a_facility_the_index_has_never_seen(app, db, make_facility, questionnaire):
    index = app.extensions["pmh_index"]
    make_facility()
    rebuild(db, index)  # one segment, without the new facility's id term
    newcomer = make_facility()
    _answer_on_top(db, newcomer, questionnaire)
    assert sync_outbox(db, index) == 1
    assert newcomer.id in _ids(app)
    assert check(db, index) == []
