"""The audit log is a hash chain: changed, removed or inserted rows are found."""

from __future__ import annotations

import itertools
import threading

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from surveys import audit
from surveys.database import alembic_config
from surveys.models import AuditEvent

WRITERS, EVENTS_EACH = 4, 12


def _record_many(app, count: int) -> list[int]:
    """Store `count` audit events, one commit each; return their ids."""
    ids = []
    with Session(app.extensions["pmh_engine"]) as session:
        for n in range(count):
            event = audit.record(session, audit.CLI_ACTOR, "test.event", None, n=n, 名前="値")
            session.commit()
            ids.append(event.id)
    return ids


def _tamper(db, sql: str, **params) -> None:
    """Change audit rows behind the application's back (PostgreSQL: past the trigger)."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL pmh.audit_maintenance = 'on'"))
    db.execute(text(sql), params)
    db.commit()


def _verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_audit_verify_passes_on_untouched_chain(app, db, make_facility, answer):
    answer(make_facility())
    _record_many(app, 5)
    rows = db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} rows" in result.output


def test_audit_verify_names_row_whose_detail_was_changed(app, db):
    ids = _record_many(app, 5)
    _tamper(db, "UPDATE auditevent SET detail = :d WHERE id = :id", d='{"n": 99}', id=ids[2])
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row {ids[2]}: its content was changed" in result.output


def test_audit_verify_finds_a_removed_middle_row(app, db):
    ids = _record_many(app, 5)
    _tamper(db, "DELETE FROM auditevent WHERE id = :id", id=ids[2])
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row {ids[3]}: a row before it was removed or inserted" in result.output


def test_audit_verify_finds_an_inserted_row(app, db):
    ids = _record_many(app, 3)
    first = db.get(AuditEvent, ids[0])
    _tamper(
        db,
        "INSERT INTO auditevent (id, at, actor_label, action, target_type, target_id, detail,"
        " prev_hash, row_hash) VALUES (:id, :at, 'x', 'forged', '', '', '{}', :p, :h)",
        id=ids[-1] + 1,
        at=first.at,
        p="f" * 64,
        h="e" * 64,
    )
    result = _verify(app)
    assert result.exit_code == 1
    assert f"row {ids[-1] + 1}" in result.output


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # its trigger
def test_audit_rows_cannot_be_updated_on_postgresql(app, db):
    assert db.get_bind().dialect.name == "postgresql"
    ids = _record_many(app, 1)
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text("DELETE FROM auditevent WHERE id = :id"), {"id": ids[0]})
    db.rollback()
    assert _verify(app).exit_code == 0


def test_audit_chain_holds_under_concurrent_writers(app, db, make_facility):
    facility = make_facility()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            with Session(app.extensions["pmh_engine"]) as session:
                for i in range(EVENTS_EACH):
                    session.get(AuditEvent, 1)  # read first, then write: the risky pattern
                    audit.record(session, audit.CLI_ACTOR, "test.concurrent", facility, w=n, i=i)
                    session.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = audit.verify_chain(db)
    assert report.ok, report
    assert report.count == WRITERS * EVENTS_EACH


def test_migration_chains_existing_rows(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "0003")
    from surveys.database import make_engine

    engine = make_engine(database_url)
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(
                text(
                    "INSERT INTO auditevent (at, actor_label, action, target_type, target_id,"
                    " detail) VALUES (:at, 'cli', 'old.event', '', '', :d)"
                ),
                {"at": f"2025-04-0{n + 1} 09:00:00.123456+00:00", "d": f'{{"n": {n}}}'},
            )
    engine.dispose()
    command.upgrade(config, "head")
    engine = make_engine(database_url)
    with Session(engine) as session:
        report = audit.verify_chain(session)
        assert report.ok and report.count == 3
        audit.record(session, audit.CLI_ACTOR, "new.event")
        session.commit()
        assert audit.verify_chain(session).count == 4
    engine.dispose()
