"""The index survives crashes and damage: sync + check agree with the database afterwards."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from index.sync import pending_count
from surveys.models import Facility, SurveyResponse
from surveys.operations import current_responses

ROOT = Path(__file__).resolve().parent.parent
WRITER = ROOT / "tests" / "crash_writer.py"
ROUNDS, WRITERS, FACILITIES = 4, 3, 30


def _writer(app, database_url: str, seed, count: int | None = None) -> subprocess.Popen:
    """Start the writer process (call _ready before relying on it)."""
    args = [sys.executable, str(WRITER), app.instance_path, database_url, str(seed)]
    process = subprocess.Popen(
        args + ([str(count)] if count else []),
        cwd=ROOT,
        stdin=subprocess.PIPE,
        env={**os.environ, "PMH_INDEX_SYNC_LOCK_TIMEOUT": "0.2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: a failed test can kill every writer
    )
    return process


def _ready(process: subprocess.Popen) -> subprocess.Popen:
    """Wait until the writer's app is up."""
    assert process.stdout.readline().strip() == "ready", process.communicate()
    return process


def _answered(app, **expected) -> list[int]:
    """Return ids whose current answers are public and contain `expected`, from the database."""
    with Session(app.extensions["pmh_engine"]) as session:
        ids = list(session.exec(select(Facility.id)))
        current = current_responses(session, ids)
    wanted = {"visibility": "public", **expected}
    return sorted(i for i, r in current.items() if wanted.items() <= r.answers.items())


def _ready_pid(forker: subprocess.Popen) -> int:
    """Read one forked writer's "ready PID" line."""
    line = forker.stdout.readline()
    assert line.startswith("ready "), line
    return int(line.split()[1])


def _versions(app) -> int:
    """Return how many answer versions are stored."""
    with Session(app.extensions["pmh_engine"]) as session:
        return session.exec(select(func.count()).select_from(SurveyResponse)).one()


def _api_ids(client, **params) -> list[int]:
    body = client.get("/api/v1/search", query_string={"per_page": 100, **params}).get_json()
    return sorted(r["id"] for r in body["results"])


@pytest.fixture
def many(make_facility, answer, reindex):
    """Facilities with answers, indexed."""
    made = [make_facility() for _ in range(FACILITIES)]
    for facility in made[::2]:
        answer(facility, pregnant="yes")
    reindex()
    return made


def test_index_matches_database_after_writers_are_killed(app, client, database_url, many):
    rng = random.Random(20261128)
    before = _versions(app)
    forker = _writer(app, database_url, seed="fork")
    pids: list[int] = []
    try:
        for round_no in range(ROUNDS):
            # Several writers at once: they also compete for the index write lock.
            forker.stdin.write(f"{WRITERS} {round_no}\n")
            forker.stdin.flush()
            pids = [_ready_pid(forker) for _ in range(WRITERS)]
            time.sleep(rng.uniform(0.05, 0.8))
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            assert forker.stdout.readline().strip() == "reaped"
    except BaseException:
        os.killpg(forker.pid, signal.SIGKILL)  # never leave a writer running, whatever failed
        forker.communicate(timeout=30)
        raise
    forker.communicate(timeout=30)  # end of input: the forker exits
    assert _versions(app) > before  # the writers did store answers before dying
    runner = app.test_cli_runner()
    synced = runner.invoke(args=["index", "sync", "--if-missing-rebuild"])
    assert synced.exit_code == 0, synced.output
    checked = runner.invoke(args=["index", "check"])
    assert checked.exit_code == 0, checked.output
    assert _api_ids(client, pregnant="yes") == _answered(app, pregnant="yes")
    assert _api_ids(client) == _answered(app)


def test_index_check_reports_a_difference(app, db, many, answer):
    answer(many[1], base=0, pregnant="yes")  # committed, not yet synced
    result = app.test_cli_runner().invoke(args=["index", "check"])
    assert result.exit_code == 1
    assert f"facility {many[1].id}: stale" in result.output


def _damage(app) -> None:
    """Truncate the biggest file of the index, as a crash of the disk might."""
    folder = Path(app.instance_path) / "index"
    victim = max(
        (p for p in folder.iterdir() if not p.name.endswith(".toc")), key=lambda p: p.stat().st_size
    )
    victim.write_bytes(victim.read_bytes()[:7])


@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_damaged_index_is_503_then_rebuilt_automatically(make_app, many, damage):
    app = make_app("instance", INDEX_AUTO_REBUILD=True)
    folder = Path(app.instance_path) / "index"
    if damage == "missing":
        import shutil

        shutil.rmtree(folder)
    else:
        _damage(app)
    client = app.test_client()
    api = client.get(
        "/api/v1/search", query_string={"q": "こころ"}, headers={"Accept-Language": "en"}
    )
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "index_unavailable"
    page = client.get("/", query_string={"q": "こころ"})
    assert page.status_code == 503
    assert "検索の準備中です" in page.get_data(as_text=True)
    app.extensions["pmh_rebuild_thread"].join(timeout=60)
    health = client.get("/healthz")
    assert health.status_code == 200, health.get_json()
    assert client.get("/api/v1/search", query_string={"per_page": 100}).status_code == 200
    assert app.test_cli_runner().invoke(args=["index", "check"]).exit_code == 0


def test_healthz_and_sync_rebuild_a_damaged_index(app, client, many):
    _damage(app)
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.get_json()["index"]["state"] == "unavailable"  # tests: no automatic rebuild
    runner = app.test_cli_runner()
    assert runner.invoke(args=["index", "check"]).exit_code == 1
    synced = runner.invoke(args=["index", "sync", "--if-missing-rebuild"])
    assert "missing or damaged: built 30 documents" in synced.output
    assert runner.invoke(args=["index", "check"]).exit_code == 0
    assert client.get("/healthz").status_code == 200


def test_locked_index_leaves_change_in_outbox(app, database_url, many):
    index = app.extensions["pmh_index"]
    held = index.open().writer()  # this process holds the Whoosh write lock
    try:
        writer = _ready(_writer(app, database_url, seed=99, count=2))
        out, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
        assert out.strip() == "done"
        with Session(app.extensions["pmh_engine"]) as session:
            assert pending_count(session) >= 1
    finally:
        held.cancel()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["index", "sync"]).exit_code == 0
    assert runner.invoke(args=["index", "check"]).exit_code == 0
