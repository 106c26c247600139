"""A typed address stays out of the logs; API tokens from the command line."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session, select

from index.sync import rebuild
from search_app.privacy import RedactSearchQueries
from surveys.models import ApiToken, utcnow


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
    refused = client.get(url, headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "invalid_token"


def _token(app, db, email: str, *options: str) -> tuple[str, ApiToken]:
    """Create a token with `pmh api-token create`; return the clear token and its row."""
    result = app.test_cli_runner().invoke(args=["api-token", "create", "--email", email, *options])
    assert result.exit_code == 0, result.output
    db.expire_all()
    return result.output.strip().splitlines()[-1], db.exec(select(ApiToken)).all()[-1]


def test_api_tokens_expire_after_a_year_or_the_days_given(app, db, make_user):
    staff = make_user("staff")
    _clear, yearly = _token(app, db, staff.email)
    assert timedelta(days=364) < yearly.expires_at - utcnow() <= timedelta(days=365)
    _clear, monthly = _token(app, db, staff.email, "--days", "30")
    assert timedelta(days=29) < monthly.expires_at - utcnow() <= timedelta(days=30)
    too_long = app.test_cli_runner().invoke(
        args=["api-token", "create", "--email", staff.email, "--days", "0"]
    )
    assert too_long.exit_code != 0 and "--days" in too_long.output


def test_an_expired_api_token_gets_401_and_a_used_one_shows_when(app, client, db, make_user):
    staff = make_user("staff", email="kuyakusho@example.jp")
    clear, row = _token(app, db, staff.email, "--days", "1")
    headers = {"Authorization": f"Bearer {clear}"}
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200
    db.refresh(row)
    assert row.last_used_at is not None and utcnow() - row.last_used_at < timedelta(minutes=1)
    listed = app.test_cli_runner().invoke(args=["api-token", "list"])
    assert f"{row.id}\tkuyakusho@example.jp" in listed.output
    assert f"{row.last_used_at:%Y-%m-%d %H:%M}" in listed.output
    row.expires_at = utcnow() - timedelta(seconds=1)  # a day later
    db.add(row)
    db.commit()
    expired = client.get("/api/v1/openapi.json", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    assert "有効期限切れ" in expired.get_json()["error"]["message"]


def test_api_token_refused_for_clinic_users(app, db, make_user, make_facility):
    clinic = make_user("clinic", facilities=[make_facility()])
    result = app.test_cli_runner().invoke(args=["api-token", "create", "--email", clinic.email])
    assert result.exit_code != 0
    assert "staff or admin" in result.output
    assert db.exec(select(ApiToken)).all() == []


def test_migration_gives_existing_tokens_a_year(database_url):
    from alembic import command
    from sqlalchemy import text

    from surveys.database import alembic_config, make_engine

    config = alembic_config(database_url)
    command.downgrade(config, "0004")
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO "user" (email, display_name, role, password_hash, is_active,'
                " organisation, municipality_code, totp_secret, session_epoch, created_at)"
                " VALUES ('old@example.jp', '', 'staff', '', true, '', '', '', 0, :at)"
            ),
            {"at": utcnow()},
        )
        conn.execute(
            text(
                "INSERT INTO apitoken (user_id, name, token_hash, created_at)"
                " SELECT id, 'old', :h, :at FROM \"user\""
            ),
            {"h": "a" * 64, "at": utcnow()},
        )
    command.upgrade(config, "head")
    with Session(engine) as session:
        token = session.exec(select(ApiToken)).one()
        assert timedelta(days=364) < token.expires_at - utcnow() <= timedelta(days=365)
        assert token.last_used_at is None
    engine.dispose()
