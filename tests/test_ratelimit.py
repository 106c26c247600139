"""Rate limits: atomic counters on the database and Redis, shared by workers, applied to links."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from search_app.ratelimit import DatabaseStorage, Limit, RateLimiter, RedisStorage
from surveys.database import make_engine
from surveys.models import AuditEvent
from tests.conftest import csrf_token

NOW = 1_000_000.0  # a fixed clock: 997200 starts the hour window, 800 s are left of it
THREADS = 12


def _freeze(*apps) -> None:
    """Stop the limiters' clocks, so no window ends in the middle of a test."""
    for app in apps:
        app.extensions["pmh_ratelimiter"].clock = lambda: NOW


def _hammer(limiter: RateLimiter, limit: Limit) -> list:
    """Let THREADS threads hit the same key at once; return their verdicts."""
    barrier, verdicts = threading.Barrier(THREADS), []

    def worker():
        barrier.wait()
        verdicts.append(limiter.hit("login_address", limit, "same@example.jp"))

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return verdicts


def _assert_exactly_limit(verdicts, limit: Limit) -> None:
    assert sum(v.allowed for v in verdicts) == limit.hits
    assert sorted(v.count for v in verdicts) == list(range(1, THREADS + 1))
    assert sum(v.first_refusal for v in verdicts) == 1


def test_database_limiter_is_atomic_under_threads(database_url):
    engine = make_engine(database_url)
    try:
        limit = Limit(5, 3600)
        verdicts = _hammer(RateLimiter(DatabaseStorage(engine), clock=lambda: NOW), limit)
        _assert_exactly_limit(verdicts, limit)
    finally:
        engine.dispose()


def test_redis_limiter_is_atomic_under_threads(redis_config):
    storage = RedisStorage(
        redis_config["RATELIMIT_STORAGE_URL"], redis_config["RATELIMIT_KEY_PREFIX"]
    )
    try:
        limit = Limit(5, 3600)
        _assert_exactly_limit(_hammer(RateLimiter(storage, clock=lambda: NOW), limit), limit)
    finally:
        storage.close()


def test_limiter_window_ends_and_retry_after_counts_down(database_url):
    engine = make_engine(database_url)
    try:
        clock = [NOW]
        limiter = RateLimiter(DatabaseStorage(engine), clock=lambda: clock[0])
        limit = Limit(1, 3600)
        assert limiter.hit("share_ip", limit, "10.0.0.1").allowed
        refused = limiter.hit("share_ip", limit, "10.0.0.1")
        assert not refused.allowed and refused.retry_after == 800
        assert limiter.hit("share_ip", limit, "10.0.0.2").allowed  # someone else
        clock[0] = NOW + 800  # the next window
        assert limiter.hit("share_ip", limit, "10.0.0.1").allowed
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_totp_step_claims_only_move_forward(request, database_url, backend):
    if backend == "redis":
        config = request.getfixturevalue("redis_config")
        storage = RedisStorage(config["RATELIMIT_STORAGE_URL"], config["RATELIMIT_KEY_PREFIX"])
        engine = None
    else:
        engine = make_engine(database_url)
        storage = DatabaseStorage(engine)
    try:
        limiter = RateLimiter(storage)
        assert limiter.claim_totp_step(7, 100)
        assert not limiter.claim_totp_step(7, 100)  # the same code again
        assert not limiter.claim_totp_step(7, 99)  # an older code after a newer one
        assert limiter.claim_totp_step(7, 101)
        assert limiter.claim_totp_step(8, 100)  # another user
    finally:
        storage.close()
        if engine is not None:
            engine.dispose()


def _sign_in(client, email: str, password: str):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _limited_pair(make_app, **config):
    """Two app instances (two gunicorn workers) on the same database and config."""
    apps = [make_app(name, LOGIN_FREE_FAILURES=3, **config) for name in "ab"]
    _freeze(*apps)
    return apps


def _assert_wait_holds_across(apps, user, db) -> None:
    first, second = (app.test_client() for app in apps)
    for client in (first, second, first, second):  # three free failures, the fourth: 2 s
        assert _sign_in(client, user.email, "wrong password").status_code == 200
    blocked = _sign_in(first, user.email, "correct horse")
    assert blocked.status_code == 429
    assert blocked.headers["Retry-After"] == "2"
    assert "2秒待ってから" in blocked.get_data(as_text=True)
    assert first.get("/shortlist/").status_code == 302  # the right password did not sign in
    assert _sign_in(second, user.email, "correct horse").status_code == 429
    actions = [e.action for e in db.exec(select(AuditEvent))]
    assert actions.count("auth.rate_limited") == 1  # once, when the waits began
    assert "auth.login" not in actions
    for app in apps:  # two seconds later the right password works
        app.extensions["pmh_ratelimiter"].clock = lambda: NOW + 2
    assert _sign_in(second, user.email, "correct horse").status_code == 302


def test_login_wait_holds_across_apps_sharing_the_database(make_app, make_user, db):
    _assert_wait_holds_across(_limited_pair(make_app), make_user("staff"), db)


def test_login_wait_holds_across_apps_sharing_redis(make_app, make_user, db, redis_config):
    apps = _limited_pair(make_app, **redis_config)
    _assert_wait_holds_across(apps, make_user("staff"), db)


def test_login_limited_per_client_ip(make_app, make_user):
    app = make_app(RATELIMIT_LOGIN_IP=(2, 3600))
    _freeze(app)
    office = app.test_client()
    office.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for n in range(2):
        assert _sign_in(office, f"guess{n}@example.jp", "wrong password").status_code == 200
    user = make_user("staff")
    assert _sign_in(office, user.email, "correct horse").status_code == 429
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    assert _sign_in(elsewhere, user.email, "correct horse").status_code == 302


def test_behind_a_trusted_proxy_limits_count_the_forwarded_client(make_app, make_user):
    user = make_user("staff")
    for trusted, expected in ((0, 429), (1, 302)):
        app = make_app(RATELIMIT_LOGIN_IP=(1, 3600), TRUSTED_PROXIES=trusted)
        _freeze(app)
        first, second = app.test_client(), app.test_client()
        first.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.7"
        second.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.9"
        assert _sign_in(first, "guess@example.jp", "wrong password").status_code == 200
        # without a trusted proxy both share the proxy's address; with one they are apart
        assert _sign_in(second, user.email, "correct horse").status_code == expected


def test_invitation_links_limited_per_ip(make_app, make_facility, make_invitation):
    app = make_app(RATELIMIT_INVITATION_IP=(3, 3600))
    _freeze(app)
    token = make_invitation(make_facility())
    guesser = app.test_client()
    for n in range(3):
        assert guesser.get(f"/clinic/invite/guess{n}").status_code in (400, 404, 410)
    refused = guesser.get(f"/clinic/invite/{token}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    clinic = app.test_client()
    clinic.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert clinic.get(f"/clinic/invite/{token}").status_code == 200


def test_share_links_limited_per_ip(make_app):
    app = make_app(RATELIMIT_SHARE_IP=(2, 3600))
    _freeze(app)
    visitor = app.test_client()
    for _ in range(2):
        assert visitor.get("/shortlist/shared/not-a-token").status_code != 429
    refused = visitor.get("/shortlist/shared/not-a-token")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "800"
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.30"
    assert other.get("/shortlist/shared/not-a-token").status_code != 429


def test_limits_read_from_config_in_every_form():
    assert (
        Limit.parse((10, 900)) == Limit.parse([10, 900]) == Limit.parse("10/900") == Limit(10, 900)
    )
