"""The load test's verdict: read locust's CSV files, fail on errors or a p95 over budget."""

from __future__ import annotations

from pathlib import Path

from tests.load.forms import find_form
from tests.load.report import judge

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)


def _row(kind: str, name: str, count: int, failures: int, p95: int) -> str:
    """Return one stats line as locust writes it."""
    rps, fps = count / 60, failures / 60
    return (
        f"{kind},{name},{count},{failures},40,60.5,8,{p95 + 50},5120,{rps:.2f},{fps:.2f},"
        f"40,50,60,70,{p95 - 10},{p95},{p95 + 10},{p95 + 20},{p95 + 40},{p95 + 50},{p95 + 50}"
    )


def _write(tmp_path: Path, rows: list[str], exceptions: list[str] = ()) -> Path:
    """Write locust_stats.csv (and optionally locust_exceptions.csv); return the prefix."""
    (tmp_path / "locust_stats.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    if exceptions:
        lines = ["Count,Message,Traceback,Nodes", *exceptions]
        (tmp_path / "locust_exceptions.csv").write_text("\n".join(lines) + "\n")
    return tmp_path / "locust"


def _run(search_failures=0, save_p95=300, total_p95=250):
    """Return the rows of a typical run with the given trouble."""
    return [
        _row("GET", "search page", 900, search_failures, 280),
        _row("GET", "api search", 700, 0, 200),
        _row("POST", "clinic: save", 90, 0, save_p95),
        _row("", "Aggregated", 1690, search_failures, total_p95),
    ]


def test_loadtest_harness_clean_run_within_budget_passes(tmp_path):
    code, problems, rows = judge(_write(tmp_path, _run()), budget_ms=500)
    assert (code, problems) == (0, [])
    total = rows[-1]
    assert (total.requests, total.failures, total.p95, total.p99) == (1690, 0, 250, 270)
    assert round(total.rps, 1) == 28.2


def test_loadtest_harness_any_failed_request_fails(tmp_path):
    code, problems, _rows = judge(_write(tmp_path, _run(search_failures=1)), budget_ms=500)
    assert code == 1
    assert problems == ["1 of 1690 requests failed (search page 1)"]


def test_loadtest_harness_p95_over_budget_fails(tmp_path):
    code, problems, _rows = judge(_write(tmp_path, _run(save_p95=650)), budget_ms=500)
    assert code == 1
    assert problems == ["p95 of 'clinic: save' is 650 ms > budget 500 ms"]


def test_loadtest_harness_total_p95_over_budget_fails(tmp_path):
    code, problems, _rows = judge(_write(tmp_path, _run(total_p95=900)), budget_ms=500)
    assert code == 1
    assert problems == ["p95 of 'Aggregated' is 900 ms > budget 500 ms"]


def test_loadtest_harness_task_exception_and_server_error_fail(tmp_path):
    prefix = _write(tmp_path, _run(), exceptions=['3,"KeyError: \'token\'","Traceback...",local'])
    code, problems, _rows = judge(prefix, budget_ms=500, other_errors=["server log: Traceback"])
    assert code == 1
    assert problems == ["server log: Traceback", "locust task error: 3× KeyError: 'token'"]


def test_loadtest_harness_no_requests_fails(tmp_path):
    code, problems, _rows = judge(tmp_path / "locust", budget_ms=500)
    assert (code, problems) == (1, ["no requests were made"])


def test_loadtest_harness_reads_survey_form_like_a_browser():
    html = """<form method="post" action="/logout"><input name="csrf_token" value="x"></form>
    <form method="post" class="survey" novalidate>
      <input id="csrf_token" name="csrf_token" type="hidden" value="tok">
      <input name="base_version" type="hidden" value="3">
      <input type="radio" name="pregnant" value="yes"><input type="radio" name="pregnant"
        value="no" checked>
      <ul><li><input type="checkbox" name="languages" value="en" checked></li>
      <li><input type="checkbox" name="languages" value="zh"></li>
      <li><input type="checkbox" name="languages" value="ko" checked></li></ul>
      <input type="number" name="wait_days" value="14">
      <textarea name="note_public">
駐車場あり &amp; 駅近</textarea>
      <button type="submit">保存</button>
    </form>"""
    form = find_form(html, method="post", class_="survey")
    form.replace("wait_days", "30")
    assert form.fields == [
        ("csrf_token", "tok"),
        ("base_version", "3"),
        ("pregnant", "no"),
        ("languages", "en"),
        ("languages", "ko"),
        ("note_public", "駐車場あり & 駅近"),
        ("wait_days", "30"),
    ]
