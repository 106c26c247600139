"""Several processes writing one SQLite file: no "database is locked", no forked audit chain."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, func, select

from surveys.audit import verify_chain
from surveys.database import make_engine, upgrade
from surveys.models import AuditEvent, Facility

PROCESSES, ROUNDS = 4, 15
ROOT = Path(__file__).resolve().parent.parent

# Each round is one transaction that reads, then writes: a deferred SQLite transaction fails
# this pattern at once with "database is locked" when another process commits in between.
WRITER = """
import sys
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select
from surveys import audit
from surveys.database import make_engine
from surveys.models import AuditEvent, Facility

engine = make_engine(sys.argv[1])
audit.use_key(engine, b"test audit key")
worker, rounds, locked = int(sys.argv[2]), int(sys.argv[3]), 0
for n in range(rounds):
    try:
        with Session(engine) as session:
            seen = session.exec(select(func.count()).select_from(AuditEvent)).one()
            facility = session.exec(select(Facility)).first()
            facility.phone = f"{worker}-{n}-{seen}"
            session.add(facility)
            audit.record(session, audit.CLI_ACTOR, "test.write", facility, worker=worker, n=n)
            session.commit()
    except OperationalError as exc:
        locked += "locked" in str(exc)
        print(exc, file=sys.stderr)
print(locked)
"""


def test_sqlite_read_then_write_in_four_processes(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(Facility(source_id="F1", name="同時書き込みクリニック", kind="clinic"))
        session.commit()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, str(n), str(ROUNDS)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(PROCESSES)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0] * PROCESSES, outputs
    assert [out.strip() for out, _err in outputs] == ["0"] * PROCESSES, outputs
    with Session(engine) as session:
        stored = session.exec(select(func.count()).select_from(AuditEvent)).one()
        assert stored == PROCESSES * ROUNDS
        report = verify_chain(session, b"test audit key")
    assert report.ok and report.count == PROCESSES * ROUNDS, report
    engine.dispose()
