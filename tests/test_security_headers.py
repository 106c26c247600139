"""Security headers on every page, pages CSP can render, safe GETs, CSRF on every POST."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import func, inspect, select, table

from search_app import create_app
from tests.test_authz_matrix import PUBLIC, endpoints, open_session, requests_for
from tests.test_authz_matrix import world as world  # the shared fixture

ROLES = ("public", "staff", "admin", "clinic_a", "clinic_b", "invite_a")
# Tables a read may legitimately touch: rate-limit windows count requests, not data.
COUNTERS = {"ratelimitcounter", "alembic_version"}
SEARCHABLE = {"main.home": "?near=亀戸&q=クリニック"}
# Reads that record who read (an append-only audit trail), and nothing else.
AUDITED_READS = {"admin.audit_export": "downloading the audit log is itself audited"}
DATA_SCRIPTS = ("application/json", "application/ld+json")  # data blocks, never executed


class InlineFinder(HTMLParser):
    """Collect what a CSP without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        names = {name.lower() for name, _value in attrs}
        kind = dict(attrs).get("type") or ""
        if tag == "script" and "src" not in names and kind not in DATA_SCRIPTS:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style> element")
        for name in names:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> event handler")
            if name == "style":
                self.found.append(f"<{tag} style=...> attribute")


def inline_code(html: str) -> list[str]:
    """Return the inline scripts, styles and event handlers of a page."""
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def get_pages(app, world_):
    """Yield (endpoint, url) of every GET route (own facility for ids)."""
    for endpoint in endpoints(app):
        for method, url, which in requests_for(app, world_, endpoint):
            if method == "GET" and which == "a":
                yield endpoint, url + SEARCHABLE.get(endpoint, "")


def row_counts(app) -> dict[str, int]:
    """Count the rows of every table."""
    engine = app.extensions["pmh_engine"]
    with engine.connect() as conn:
        names = [n for n in inspect(conn).get_table_names() if n not in COUNTERS]
        return {n: conn.execute(select(func.count()).select_from(table(n))).scalar() for n in names}


def test_every_page_has_the_headers_and_no_inline_code(app, db, world):
    problems = []
    for endpoint, url in get_pages(app, world):
        for role in ROLES:
            client = app.test_client()
            open_session(client, db, world, role)
            response = client.get(url)
            headers = response.headers
            for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"):
                if name not in headers:
                    problems.append(f"{role} {url}: no {name}")
            if "frame-ancestors 'none'" not in headers.get("Content-Security-Policy", ""):
                problems.append(f"{role} {url}: CSP lacks frame-ancestors 'none'")
            if headers.get("X-Frame-Options") != "DENY":
                problems.append(f"{role} {url}: X-Frame-Options is not DENY")
            if "camera=()" not in headers.get("Permissions-Policy", ""):
                problems.append(f"{role} {url}: no Permissions-Policy")
            if role != PUBLIC and "no-store" not in headers.get("Cache-Control", ""):
                problems.append(f"{role} {url}: signed-in page may be cached")
            if response.mimetype == "text/html":
                for found in inline_code(response.get_data(as_text=True)):
                    problems.append(f"{role} {url} ({endpoint}): {found}")
    assert not problems, "\n".join(sorted(set(problems)))


def test_finder_sees_inline_code():
    html = (
        '<p style="x"><a onclick="go()">a</a></p><script>alert(1)</script><script src="/s.js">'
        '<script type="application/json">{"a": 1}</script>'
    )
    assert inline_code(html) == [
        "<p style=...> attribute",
        "<a onclick=...> event handler",
        "<script> without src",
    ]


def test_no_get_changes_stored_data(app, db, world):
    changed = []
    for endpoint, url in get_pages(app, world):
        for role in ROLES:
            client = app.test_client()
            open_session(client, db, world, role)
            before = row_counts(app)
            client.get(url)
            after = row_counts(app)
            diff = {t: after[t] - before[t] for t in after if after[t] != before.get(t)}
            if endpoint in AUDITED_READS and set(diff) == {"auditevent"}:
                continue
            if diff:
                changed.append(f"{role} GET {url} ({endpoint}) changed {diff}")
    assert not changed, "\n".join(changed)


def test_every_post_without_csrf_token_is_refused(app, db, world):
    problems = []
    for endpoint in endpoints(app):
        for method, url, _which in requests_for(app, world, endpoint):
            if method != "POST":
                continue
            for role in ROLES:
                client = app.test_client()
                open_session(client, db, world, role)
                response = client.post(url, data={"anything": "1"})
                if response.status_code != 400:
                    problems.append(f"{role} POST {url}: {response.status_code}")
                if "no-store" not in response.headers.get("Cache-Control", ""):
                    problems.append(f"{role} POST {url}: response may be cached")
    assert not problems, "\n".join(problems)


def test_hsts_on_https_only(make_app):
    plain = make_app()
    assert "Strict-Transport-Security" not in plain.test_client().get("/").headers
    secure = plain.test_client().get("/", base_url="https://localhost")
    hsts = secure.headers["Strict-Transport-Security"]
    assert "includeSubDomains" in hsts
    assert int(hsts.split("max-age=")[1].split(";")[0]) >= 365 * 24 * 3600
    behind_proxy = make_app("proxy", PREFERRED_URL_SCHEME="https")
    assert "Strict-Transport-Security" in behind_proxy.test_client().get("/").headers


def test_public_pages_may_be_cached_signed_in_pages_not(client):
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "k", "DEBUG": True}, "DEBUG"),
        ({"SECRET_KEY": "k", "SESSION_COOKIE_SAMESITE": "None"}, "SAMESITE"),
    ],
)
def test_production_refuses_unsafe_configuration(tmp_path, config, complaint):
    with pytest.raises(RuntimeError, match=complaint):
        create_app({"INSTANCE_PATH": str(tmp_path), "ENV_NAME": "production", **config})
    assert not (tmp_path / "secret_key").exists()  # no silently generated key


def test_production_cookies_are_secure(tmp_path, database_url):
    app = create_app(
        {
            "INSTANCE_PATH": str(tmp_path),
            "ENV_NAME": "production",
            "SECRET_KEY": "a-long-random-production-key",
            "DATABASE_URL": database_url,
        }
    )
    try:
        config = app.config
        assert config["SESSION_COOKIE_SECURE"] and config["SESSION_COOKIE_HTTPONLY"]
        assert config["REMEMBER_COOKIE_SECURE"] and config["REMEMBER_COOKIE_HTTPONLY"]
        assert config["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
        response = app.test_client().get("/login", base_url="https://localhost")
        cookie = response.headers.get("Set-Cookie", "")
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Strict-Transport-Security" in response.headers
    finally:
        app.extensions["pmh_searcher"].close()
        app.extensions["pmh_engine"].dispose()
