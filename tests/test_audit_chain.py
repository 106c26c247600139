"""The audit log is a keyed chain: changed, removed, inserted or recomputed rows are found;
a checkpoint kept outside the database finds rows removed from the end."""

from __future__ import annotations

import itertools
import json
import threading

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from search_app.db import audit_key
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


def _verify(app, *args: str):
    return app.test_cli_runner().invoke(args=["audit", "verify", *args])


def _checkpoint(app, tmp_path) -> str:
    """Write a checkpoint file with `pmh audit checkpoint -o` and return its path."""
    path = tmp_path / "audit-checkpoint.json"
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return str(path)


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


def test_audit_verify_finds_rows_removed_from_the_end_since_a_checkpoint(app, db, tmp_path):
    ids = _record_many(app, 8)
    checkpoint = _checkpoint(app, tmp_path)
    _tamper(db, "DELETE FROM auditevent WHERE id > :id", id=ids[2])
    assert _verify(app).exit_code == 0  # the rest of the chain is intact: only the anchor knows
    result = _verify(app, "--checkpoint", checkpoint)
    assert result.exit_code == 1
    assert f"row {ids[-1]}, the last one at the checkpoint" in result.output
    assert "removed from the end" in result.output


def test_audit_verify_finds_a_chain_recomputed_without_the_key(app, db, tmp_path):
    ids = _record_many(app, 5)
    checkpoint = _checkpoint(app, tmp_path)
    for attacker_key in (None, b"a key guessed by someone with database access"):
        _tamper(db, "UPDATE auditevent SET detail = :d WHERE id = :id", d='{"n": 0}', id=ids[1])
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("SET LOCAL pmh.audit_maintenance = 'on'"))
        audit.chain_existing(db.connection(), attacker_key)  # every hash recomputed in order
        db.commit()
        result = _verify(app)
        assert result.exit_code == 1
        assert f"row {ids[0]}:" in result.output  # the first row already fails
        assert _verify(app, "--checkpoint", checkpoint).exit_code == 1


def test_audit_verify_with_a_checkpoint_passes_after_more_rows(app, tmp_path):
    _record_many(app, 3)
    checkpoint = _checkpoint(app, tmp_path)
    _record_many(app, 2)
    result = _verify(app, "--checkpoint", checkpoint)
    assert result.exit_code == 0, result.output
    assert "5 rows" in result.output and "matches the checkpoint" in result.output


def test_audit_checkpoint_prints_the_head_as_json(app, db):
    ids = _record_many(app, 4)
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    head = json.loads(result.output)
    assert (head["count"], head["last_id"]) == (4, ids[-1])
    assert head["mac"] == db.get(AuditEvent, ids[-1]).row_hash
    assert head["at"] and head["format"] == "pmh-audit-checkpoint/1"


def test_audit_verify_refuses_a_file_that_is_not_a_checkpoint(app, tmp_path):
    bogus = tmp_path / "not-a-checkpoint.json"
    bogus.write_text('{"count": "many"}')
    result = _verify(app, "--checkpoint", str(bogus))
    assert result.exit_code == 1
    assert "not an audit checkpoint file" in result.output


def test_audit_checkpoint_refuses_a_broken_chain(app, db):
    ids = _record_many(app, 3)
    _tamper(db, "UPDATE auditevent SET action = 'x' WHERE id = :id", id=ids[1])
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1
    assert f"broken at row {ids[1]}" in result.output


def test_audit_key_comes_from_config_not_the_database(make_app, db):
    keyed = make_app("keyed", AUDIT_KEY="k" * 40)
    _record_many(keyed, 2)
    assert _verify(keyed).exit_code == 0
    assert audit_key(keyed.config) == b"k" * 40
    other = make_app("other", AUDIT_KEY="another key of forty characters........")
    result = _verify(other)
    assert result.exit_code == 1
    assert "not made with this instance's audit key" in result.output


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
    report = audit.verify_chain(db, audit_key(app.config))
    assert report.ok, report
    assert report.count == WRITERS * EVENTS_EACH


def test_migration_chains_existing_rows_and_rekey_puts_them_under_the_key(app, database_url):
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
    with Session(app.extensions["pmh_engine"]) as session:
        audit.record(session, audit.CLI_ACTOR, "new.event")  # written before the rekey
        session.commit()
    result = _verify(app)
    assert result.exit_code == 1 and "run `pmh audit rekey`" in result.output
    upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert "run `pmh audit rekey` once now" in upgraded.output
    rekeyed = app.test_cli_runner().invoke(args=["audit", "rekey"])
    assert rekeyed.exit_code == 0, rekeyed.output
    assert (
        "Re-chained 4 audit rows" in rekeyed.output and "3 held an unkeyed hash" in rekeyed.output
    )
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "5 rows" in result.output  # the three old, the new one, and the rekey itself
    again = app.test_cli_runner().invoke(args=["audit", "rekey"])
    assert "Nothing to do" in again.output
    upgraded = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert "rekey" not in upgraded.output


def test_rekey_refuses_a_row_changed_before_it(app, db):
    ids = _record_many(app, 3)
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SET LOCAL pmh.audit_maintenance = 'on'"))
    audit.chain_existing(db.connection())  # as migration 0004 left the rows: unkeyed
    db.commit()
    _tamper(db, "UPDATE auditevent SET action = 'x' WHERE id = :id", id=ids[1])
    result = app.test_cli_runner().invoke(args=["audit", "rekey"])
    assert result.exit_code == 1
    assert f"Audit row {ids[1]} fits neither" in result.output
    assert db.get(AuditEvent, ids[2]).row_hash == audit.legacy_hash(  # nothing re-chained
        {name: getattr(db.get(AuditEvent, ids[2]), name) for name in audit.HASHED}
    )
