"""Sign-in throttling slows guessers per address and IP without locking the real user out."""

from __future__ import annotations

import pytest
from sqlmodel import select

from search_app.login_throttle import COOKIE, wait_after
from surveys.models import AuditEvent
from tests.conftest import csrf_token

NOW = 1_000_000.0


class Clock:
    """The rate limiter's clock, moved by the test (never slept)."""

    def __init__(self, app):
        self.now = NOW
        app.extensions["pmh_ratelimiter"].clock = lambda: self.now


def _browser(app, ip: str):
    """A browser at an IP address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return client


def _sign_in(client, email: str, password: str):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_waits_double_after_the_free_failures_per_address_and_ip(app, make_user, db):
    clock, user = Clock(app), make_user("staff")
    guesser = _browser(app, "203.0.113.7")
    for _ in range(5):  # LOGIN_FREE_FAILURES
        assert _sign_in(guesser, user.email, "guess").status_code == 200
    waits = []
    for _ in range(4):
        assert _sign_in(guesser, user.email, "guess").status_code == 200  # checked, wrong
        refused = _sign_in(guesser, user.email, "guess")
        assert refused.status_code == 429
        waits.append(int(refused.headers["Retry-After"]))
        clock.now += waits[-1]
    assert waits == [2, 4, 8, 16]
    assert _sign_in(guesser, user.email, "correct horse").status_code == 302  # slowed, not locked


def test_a_strangers_wrong_passwords_do_not_lock_out_the_admin(app, make_user):
    Clock(app)
    admin = make_user("admin")
    stranger = _browser(app, "203.0.113.7")
    statuses = {_sign_in(stranger, admin.email, f"guess {n}").status_code for n in range(12)}
    assert statuses == {200, 429}  # the stranger is slowed down
    office = _browser(app, "198.51.100.9")
    # a fixed lockout of the address (10 failures) refused this with 429 for everyone
    assert _sign_in(office, admin.email, "correct horse").location.endswith("/login/code")


def test_a_browser_that_signed_in_before_is_not_held_back_by_a_distributed_guess(
    make_app, make_user, login
):
    app = make_app(LOGIN_ADDRESS_FREE_FAILURES=4)
    Clock(app)
    admin = make_user("admin")
    known = _browser(app, "198.51.100.9")
    login(admin, using=known)
    assert known.get_cookie(COOKIE) is not None
    known.post("/logout", data={"csrf_token": csrf_token(known, "/")})
    for n in range(6):  # many IPs, a guess each: the address itself is under attack
        _sign_in(_browser(app, f"203.0.113.{n}"), admin.email, "guess")
    new_browser = _browser(app, "192.0.2.1")
    assert _sign_in(new_browser, admin.email, "correct horse").status_code == 429
    answer = _sign_in(known, admin.email, "correct horse")
    assert answer.status_code == 302 and answer.location.endswith("/login/code")


def test_a_known_device_cookie_vouches_only_for_its_own_account(make_app, make_user, login):
    app = make_app(LOGIN_ADDRESS_FREE_FAILURES=4)
    Clock(app)
    staff, other = make_user("staff"), make_user("staff")
    shared_pc = _browser(app, "198.51.100.9")
    login(staff, using=shared_pc)
    for n in range(6):
        _sign_in(_browser(app, f"203.0.113.{n}"), other.email, "guess")
    assert _sign_in(shared_pc, other.email, "correct horse").status_code == 429
    forged = _browser(app, "192.0.2.1")
    forged.set_cookie(COOKIE, "eyJkIjoieCIsImEiOltdfQ.forged.signature")
    assert _sign_in(forged, other.email, "correct horse").status_code == 429


def test_the_first_wait_is_audited_once(app, make_user, db):
    Clock(app)
    user = make_user("staff")
    guesser = _browser(app, "203.0.113.7")
    for _ in range(8):
        _sign_in(guesser, user.email, "guess")
    limited = db.exec(select(AuditEvent).where(AuditEvent.action == "auth.rate_limited")).all()
    assert [e.detail for e in limited] == [{"limit": "login_pair"}]


@pytest.mark.parametrize(
    ("failures", "wait"), [(0, 0), (5, 0), (6, 2), (7, 4), (14, 512), (15, 900), (99, 900)]
)
def test_wait_after_failures(failures, wait):
    assert wait_after(failures, 5, 900) == wait
