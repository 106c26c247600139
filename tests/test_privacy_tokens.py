"""A typed address stays out of the logs; API tokens from the command line."""

from __future__ import annotations

import logging

from sqlmodel import select

from index.sync import rebuild
from search_app.privacy import RedactSearchQueries
from surveys.models import ApiToken


def _werkzeug_record(line: str) -> logging.LogRecord:
    """A record shaped like the werkzeug request log."""
    return logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '%s - - "%s" %s', ("127.0.0.1", line, "200"), None
    )


def test_search_query_strings_are_redacted_in_request_logs():
    record = _werkzeug_record("GET /api/v1/search?near=亀戸8-5-1&pregnant=yes HTTP/1.1")
    RedactSearchQueries().filter(record)
    message = record.getMessage()
    assert "亀戸" not in message and "8-5-1" not in message
    assert "/api/v1/search?[redacted]" in message
    page = _werkzeug_record("GET /?near=%E4%BA%80%E6%88%B88-5-1&situation=pregnant HTTP/1.1")
    RedactSearchQueries().filter(page)
    assert page.getMessage().endswith('"GET /?[redacted] HTTP/1.1" 200')
    other = _werkzeug_record("GET /clinic/ HTTP/1.1")
    RedactSearchQueries().filter(other)
    assert '"GET /clinic/ HTTP/1.1"' in other.getMessage()


def test_app_installs_the_redaction_filter(app):
    assert any(isinstance(f, RedactSearchQueries) for f in logging.getLogger("werkzeug").filters)


def test_api_token_cli_create_use_revoke(app, client, db, make_user, make_facility):
    hidden = make_facility(name="関係機関向けクリニック")  # never answered: professionals only
    rebuild(db, app.extensions["pmh_index"])
    staff = make_user("staff", email="nurse@example.jp")
    runner = app.test_cli_runner()
    created = runner.invoke(args=["api-token", "create", "--email", staff.email, "--name", "区"])
    assert created.exit_code == 0, created.output
    token = created.output.strip().splitlines()[-1]
    row = db.exec(select(ApiToken)).one()
    assert token not in row.token_hash
    headers = {"Authorization": f"Bearer {token}"}
    url = f"/api/v1/facilities/{hidden.id}"
    assert client.get(url, headers=headers).status_code == 200

    revoked = runner.invoke(args=["api-token", "revoke", "--id", str(row.id)])
    assert revoked.exit_code == 0
    assert client.get(url, headers=headers).status_code == 404


def test_api_token_refused_for_clinic_users(app, db, make_user, make_facility):
    clinic = make_user("clinic", facilities=[make_facility()])
    result = app.test_cli_runner().invoke(args=["api-token", "create", "--email", clinic.email])
    assert result.exit_code != 0
    assert "staff or admin" in result.output
    assert db.exec(select(ApiToken)).all() == []
