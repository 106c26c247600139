"""Read locust's CSV statistics, judge them against the budget, print the table."""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

TOTAL = "Aggregated"
# Request kinds the p95 budget applies to, besides the total (sign-in steps run once per user).
BUDGETED = ("search page", "api search", "facility page", "clinic: save")


@dataclass(frozen=True)
class Row:
    """One line of locust's *_stats.csv: a request kind, or the total."""

    name: str
    requests: int
    failures: int
    rps: float
    p50: float | None
    p95: float | None
    p99: float | None


def _ms(text: str) -> float | None:
    """Parse a percentile column; locust writes N/A when there were no requests."""
    try:
        return float(text)
    except ValueError:
        return None


def read_stats(path: Path) -> list[Row]:
    """Return the rows of a locust *_stats.csv file, the total last."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            Row(
                name=line["Name"],
                requests=int(line["Request Count"]),
                failures=int(line["Failure Count"]),
                rps=float(line["Requests/s"]),
                p50=_ms(line["50%"]),
                p95=_ms(line["95%"]),
                p99=_ms(line["99%"]),
            )
            for line in csv.DictReader(handle)
        ]


def read_exceptions(path: Path) -> list[str]:
    """Return the messages of errors raised inside locust tasks (*_exceptions.csv)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [f"{line['Count']}× {line['Message']}" for line in csv.DictReader(handle)]


def read_failures(path: Path) -> list[str]:
    """Return the distinct request failures with their counts (*_failures.csv)."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            f"{line['Occurrences']}× {line['Name']}: {line['Error']}"
            for line in csv.DictReader(handle)
        ]


def evaluate(rows: list[Row], budget_ms: float, other_errors: list[str] = ()) -> list[str]:
    """Return every problem found: failures, errors, p95 over budget, no requests at all."""
    problems = list(other_errors)
    total = next((r for r in rows if r.name == TOTAL), None)
    if total is None or total.requests == 0:
        return [*problems, "no requests were made"]
    if total.failures:
        kinds = ", ".join(f"{r.name} {r.failures}" for r in rows if r.name != TOTAL and r.failures)
        problems.append(f"{total.failures} of {total.requests} requests failed ({kinds})")
    for row in rows:
        if (row.name == TOTAL or row.name in BUDGETED) and (row.p95 or 0) > budget_ms:
            problems.append(f"p95 of '{row.name}' is {row.p95:.0f} ms > budget {budget_ms:.0f} ms")
    return problems


def exit_code(problems: list[str]) -> int:
    """Exit 1 on any problem, else 0."""
    return 1 if problems else 0


def judge(
    prefix: Path, budget_ms: float, other_errors: list[str] = ()
) -> tuple[int, list[str], list[Row]]:
    """Read the CSV files locust wrote under `prefix`; return exit code, problems and rows."""
    stats = prefix.with_name(f"{prefix.name}_stats.csv")
    rows = read_stats(stats) if stats.exists() else []
    exceptions = read_exceptions(prefix.with_name(f"{prefix.name}_exceptions.csv"))
    errors = [*other_errors, *(f"locust task error: {e}" for e in exceptions)]
    problems = evaluate(rows, budget_ms, errors)
    return exit_code(problems), problems, rows


def table(rows: list[Row]) -> str:
    """Format the rows as a plain-text table."""
    head = f"{'request':<26}{'count':>8}{'fail':>6}{'req/s':>8}{'p50':>7}{'p95':>7}{'p99':>7}"
    lines = [head, "-" * len(head)]
    for r in rows:
        name = "total" if r.name == TOTAL else r.name
        lines.append(
            f"{name:<26}{r.requests:>8}{r.failures:>6}{r.rps:>8.1f}"
            f"{_fmt(r.p50):>7}{_fmt(r.p95):>7}{_fmt(r.p99):>7}"
        )
    return "\n".join(lines) + "\n(times in ms)"


def _fmt(value: float | None) -> str:
    """Show a percentile, or a dash when there is none."""
    return "-" if value is None else f"{value:.0f}"


def as_json(rows: list[Row]) -> dict:
    """Return the rows keyed by request kind (the total under 'total')."""
    return {("total" if r.name == TOTAL else r.name): asdict(r) for r in rows}
