"""Every admin route refuses non-admins (walked from the URL map, so new routes are covered)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token


def _admin_urls(app) -> list[tuple[str, str]]:
    """Return (method, url) for every /admin rule, with 1 for each URL parameter."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        url = re.sub(r"<[^>]+>", "1", rule.rule)
        urls.extend((method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"}))
    return urls


def test_admin_area_has_routes(app):
    assert _admin_urls(app), "the URL map has no /admin routes"


@pytest.mark.parametrize("role", ["staff", "clinic"])
def test_admin_routes_are_403_for_other_roles(app, client, login, make_user, make_facility, role):
    facilities = [make_facility()] if role == "clinic" else []
    login(make_user(role, facilities=facilities))
    token = csrf_token(client, "/login")
    for method, url in _admin_urls(app):
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 403, (role, method, url, response.status_code)


def test_admin_routes_send_the_public_to_sign_in(app, client):
    for method, url in _admin_urls(app):
        response = client.open(url, method=method)
        assert response.status_code in (302, 400), (method, url, response.status_code)
        if response.status_code == 302:
            assert response.location.endswith("/login")
