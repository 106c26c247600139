"""Browser fixtures: headless Debian Chromium driven by Playwright against a live app.

Every test gets the app (SQLite only) served on a real localhost port by pytest-flask's
`live_server`, fresh browser contexts, a check that no console or page error happened, and
an `axe` helper that runs the vendored axe-core on the current page.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from surveys.database import upgrade

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # the `test` extra installs it; skip rather than break a partial setup
    sync_playwright = None

CHROMIUM = os.environ.get("PMH_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-background-networking",  # the closed network refuses Google's hosts
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
AXE_SCRIPT = "/static/vendor/axe-core/axe.min.js"
AXE_BLOCKING = ("serious", "critical")


def _missing() -> str | None:
    """Say what is missing to run browser tests, or None."""
    if sync_playwright is None:
        return "playwright is not installed (pip install -e '.[test]')"
    if not os.access(CHROMIUM, os.X_OK):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium, as .ci/run does)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """One headless Chromium for the whole session (CI must have it: there a lack fails)."""
    reason = _missing()
    if reason and os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    if reason:
        pytest.skip(f"browser tests skipped: {reason}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def database_url(tmp_path) -> str:
    """Browser tests run on SQLite only (the PostgreSQL variants are covered elsewhere)."""
    url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def server(app, request):
    """The app on a real localhost port; the engine is closed first so no connection forks."""
    app.extensions["pmh_engine"].dispose()
    return request.getfixturevalue("live_server")


@dataclass
class PageErrors:
    """Console errors and uncaught page errors seen in a test's pages."""

    messages: list[str] = field(default_factory=list)

    def watch(self, page) -> None:
        """Record errors from this page."""
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))

    def _on_console(self, message) -> None:
        """Keep console messages of type error, with where they came from."""
        if message.type == "error":
            where = message.location.get("url", "")
            self.messages.append(f"console error: {message.text} ({where})")

    def assert_none(self) -> None:
        """Fail if any error was recorded."""
        assert not self.messages, "browser errors:\n" + "\n".join(self.messages)


@pytest.fixture
def page_errors() -> PageErrors:
    """Errors seen by the test's pages; checked automatically after the test body."""
    return PageErrors()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Fail a browser test whose pages logged a console error or threw."""
    result = yield
    errors = item.funcargs.get("page_errors")
    if errors is not None:
        errors.assert_none()
    return result


@pytest.fixture
def make_page(browser, server, page_errors) -> Iterator[Callable]:
    """Open pages in fresh contexts: make_page(viewport=PHONE, javascript=False, mobile=True)."""
    contexts = []

    def make(viewport: dict = DESKTOP, javascript: bool = True, mobile: bool = False):
        context = browser.new_context(
            base_url=server.url(),
            viewport=viewport,
            java_script_enabled=javascript,
            is_mobile=mobile,
            has_touch=mobile,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page_errors.watch(page)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(make_page):
    """A desktop page in a fresh browser context."""
    return make_page()


@pytest.fixture
def phone_page(make_page):
    """A phone-sized (390x844) touch page in a fresh browser context."""
    return make_page(viewport=PHONE, mobile=True)


def _describe(violation: dict) -> str:
    """Summarise one axe violation on one line per offending element."""
    nodes = "; ".join(
        f"{', '.join(n['target'])}: {n['failureSummary']}".replace("\n", " ")
        for n in violation["nodes"]
    )
    return f"[{violation['impact']}] {violation['id']} ({violation['help']}) at {nodes}"


@pytest.fixture
def axe(server) -> Callable:
    """Run axe-core on a page; return its serious and critical violations as readable lines."""

    def run(page, **options) -> list[str]:
        page.add_script_tag(url=server.url(AXE_SCRIPT))
        violations = page.evaluate("options => axe.run(document, options)", options)
        return [_describe(v) for v in violations["violations"] if v["impact"] in AXE_BLOCKING]

    return run
