"""The browser fixtures themselves: they must see what they are meant to catch."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

BROKEN = """<!doctype html><html><head></head><body>
<img src="/static/vendor/leaflet/images/layers.png"><input type="text">
<script>throw new Error("boom from the page")</script></body></html>"""


def _serve_broken(page) -> None:
    """Answer /broken with a page that has accessibility faults and a script error."""
    page.route("**/broken", lambda route: route.fulfill(content_type="text/html", body=BROKEN))
    page.goto("/broken")


def test_axe_reports_serious_and_critical_issues(page, axe, page_errors):
    _serve_broken(page)
    found = axe(page)
    assert any(line.startswith("[critical] image-alt") for line in found)
    assert any(line.startswith("[critical] label") for line in found)
    assert not any(line.startswith("[moderate]") for line in found)
    page_errors.messages.clear()  # the page's own error is the next test's subject


def test_page_errors_records_console_and_uncaught_errors(page, page_errors):
    _serve_broken(page)
    page.evaluate("() => console.error('boom in the console')")
    assert any("boom from the page" in m for m in page_errors.messages)
    assert any("boom in the console" in m for m in page_errors.messages)
    page_errors.messages.clear()  # recorded as expected: do not fail this test for them
