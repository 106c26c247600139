"""Backups: written and checked, restored into an empty instance with the same content."""

from __future__ import annotations

import os

import pytest
from sqlmodel import Session, select

from surveys.models import AuditEvent, Facility
from surveys.operations import current_responses
from tests.conftest import POSTGRES_ENV, _postgres_schema


@pytest.fixture
def empty_url(database_url, tmp_path):
    """A second, empty database of the same kind as the test database."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored' / 'pmh.sqlite3'}"
        return
    yield from _postgres_schema(os.environ[POSTGRES_ENV])


def _state(app) -> tuple[list, dict]:
    """Return (facilities, current answers) as plain values."""
    with Session(app.extensions["pmh_engine"]) as session:
        facilities = [
            (f.id, f.name, f.lat) for f in session.exec(select(Facility).order_by(Facility.id))
        ]
        answers = current_responses(session, [f[0] for f in facilities])
        return facilities, {k: (v.version_no, v.answers) for k, v in answers.items()}


def _search(app) -> list[str]:
    body = app.test_client().get("/api/v1/search", query_string={"near": "錦糸町駅"}).get_json()
    return [r["name"] for r in body["results"]]


def test_backup_then_restore_into_empty_instance(app, town, reindex, make_app, empty_url, tmp_path):
    reindex()
    path = tmp_path / "backups" / "pmh.backup"
    made = app.test_cli_runner().invoke(args=["backup", str(path)])
    assert made.exit_code == 0, made.output
    assert "verified" in made.output

    restored = make_app("restored", DATABASE_URL=empty_url)
    runner = restored.test_cli_runner()
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 6 facilities" in result.output
    assert _state(restored) == _state(app)
    assert _search(restored) == _search(app) != []
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    with Session(restored.extensions["pmh_engine"]) as session:
        assert len(session.exec(select(AuditEvent)).all()) >= 6  # one per answer at least


def test_restore_refuses_non_empty_database_unless_forced(app, town, tmp_path, db):
    runner = app.test_cli_runner()
    path = tmp_path / "pmh.backup"
    assert runner.invoke(args=["backup", str(path)]).exit_code == 0
    refused = runner.invoke(args=["restore", str(path)])
    assert refused.exit_code == 1
    assert "not empty" in refused.output
    forced = runner.invoke(args=["restore", "--force", str(path)])
    assert forced.exit_code == 0, forced.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    assert len(_state(app)[0]) == 6


def test_restore_of_garbage_file_changes_nothing(app, town, tmp_path):
    before = _state(app)
    garbage = tmp_path / "garbage.backup"
    garbage.write_bytes(b"SQLite format 3\x00" + os.urandom(4096))
    for path in (garbage, tmp_path / "text.backup"):
        if not path.exists():
            path.write_text("これはバックアップではありません")
        result = app.test_cli_runner().invoke(args=["restore", "--force", str(path)])
        assert result.exit_code == 1
        assert "is not a readable backup" in result.output
        assert "Nothing was changed" in result.output
    assert _state(app) == before


def test_backup_generations_keep_newest(app, town, tmp_path):
    runner = app.test_cli_runner()
    folder = tmp_path / "generations"
    for _ in range(3):
        result = runner.invoke(args=["backup", "--dir", str(folder), "--keep", "2"])
        assert result.exit_code == 0, result.output
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 2
    assert "Removed old backup" in result.output
    assert all(name.startswith("pmh-") for name in kept)


def test_restore_under_another_secret_key_warns_that_links_break(
    app, town, make_app, empty_url, tmp_path
):
    path = tmp_path / "backups" / "pmh.backup"
    assert app.test_cli_runner().invoke(args=["backup", str(path)]).exit_code == 0
    new_host = make_app("restored", DATABASE_URL=empty_url, SECRET_KEY="a new host's key")
    result = new_host.test_cli_runner().invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    assert "made under another secret key" in result.output
    assert "Share links and set-password links" in result.output
    assert "chained under another audit key" in result.output
    assert new_host.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 1


def test_restore_under_the_same_keys_says_nothing_about_keys(
    app, town, make_app, empty_url, tmp_path
):
    path = tmp_path / "backups" / "pmh.backup"
    assert app.test_cli_runner().invoke(args=["backup", str(path)]).exit_code == 0
    # the secret key kept apart and put back on the new host; the audit key set explicitly
    same = make_app("restored", DATABASE_URL=empty_url, SECRET_KEY="test-secret")
    result = same.test_cli_runner().invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    assert "Warning" not in result.output
    assert same.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
