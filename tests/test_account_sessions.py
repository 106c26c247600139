"""Staff and admin sessions end after 30 idle minutes and 12 hours, on a controllable clock."""

from __future__ import annotations

T0 = 1_800_000_000.0
MINUTE, HOUR = 60, 3600


class Clock:
    """A clock the app reads instead of time.time (moved by the test, never slept)."""

    def __init__(self, app):
        self.now = T0
        app.extensions["pmh_clock"] = lambda: self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _signed_in(client) -> bool:
    """Tell whether the account page opens (signed in) or sends to the sign-in page."""
    response = client.get("/account/security")
    return response.status_code == 200


def _ended_with(client, expected: str) -> None:
    """The next page goes to the sign-in page, which says why."""
    response = client.get("/account/security")
    assert response.status_code == 302 and response.location.endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert expected in page


def test_staff_session_ends_after_30_idle_minutes(app, client, make_user, login):
    clock = Clock(app)
    login(make_user("staff"))
    clock.advance(29 * MINUTE)
    assert _signed_in(client)
    clock.advance(29 * MINUTE)  # active again within 30 minutes of the last request
    assert _signed_in(client)
    clock.advance(30 * MINUTE + 1)
    _ended_with(client, "30分間操作がなかったため、ログアウトしました")
    assert not _signed_in(client)


def test_admin_session_absolute_limit(app, client, make_user, login):
    clock = Clock(app)
    login(make_user("admin"))
    for _ in range(12 * 3):
        assert client.get("/admin/").status_code == 200
        clock.advance(20 * MINUTE)
    clock.advance(1)
    response = client.get("/admin/")
    assert response.status_code == 302 and response.location.endswith("/login")
    assert "ログインから12時間が過ぎたため" in client.get("/login").get_data(as_text=True)


def test_session_limits_are_configurable(make_app, make_user, login, code_clock):
    app = make_app(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    clock, client = Clock(app), app.test_client()
    login(make_user("staff"), using=client)
    clock.advance(4 * MINUTE)
    assert _signed_in(client)
    clock.advance(5 * MINUTE + 1)
    _ended_with(client, "5分間操作がなかったため")


def test_clinic_accounts_have_no_idle_limit(app, client, make_user, login, make_facility):
    clock = Clock(app)
    login(make_user("clinic", facilities=[make_facility()]))
    clock.advance(2 * HOUR)
    assert client.get("/clinic/").status_code == 200
