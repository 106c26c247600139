"""The engine's speed targets (issue 12) and the check `make bench` exits 1 on.

p95 in milliseconds on the 2-core machine; ratios are taken within the same run. A size without
targets here is reported, not checked.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

P95_MS = {
    10_000: {"filters_radius": 3.0, "text": 25.0, "text_filters_radius": 25.0},
    100_000: {"filters_radius": 15.0, "text": 100.0, "text_filters_radius": 100.0},
}
UPDATE_P95_MS = {100_000: 300.0}
REBUILD_S = {100_000: 300.0}
HTTP_P95_MS = {10_000: 50.0}
# Every kind at least this many times faster than the naive scan, and no slower than this
# many times SQLite FTS5 + box (p95 against p95).
MIN_NAIVE_RATIO = 5.0
MAX_FTS5_SLOWDOWN = 2.0


def misses(result: dict) -> list[str]:
    """Return the targets one size missed, as readable lines (empty: all met)."""
    n = result["facilities"]
    out = []
    kinds = result["kinds"]
    for kind, limit in P95_MS.get(n, {}).items():
        _at_most(out, f"{kind} p95 ms", kinds[kind]["engine"]["p95_ms"], limit)
    out += _disagreements(result)
    for kind, row in kinds.items():
        naive, fts5 = row["naive_p95_over_engine"], row["fts5_p95_over_engine"]
        if naive is not None and naive < MIN_NAIVE_RATIO:
            out.append(f"{kind}: naive/engine {naive:.1f}x < {MIN_NAIVE_RATIO:g}x")
        if fts5 is not None and fts5 < 1 / MAX_FTS5_SLOWDOWN:
            out.append(f"{kind}: engine {1 / fts5:.1f}x slower than FTS5 (> {MAX_FTS5_SLOWDOWN}x)")
    if n in UPDATE_P95_MS:
        _at_most(out, "update p95 ms", result["update"]["p95_ms"], UPDATE_P95_MS[n])
    if n in REBUILD_S:
        _at_most(out, "rebuild s", result["rebuild"]["seconds"], REBUILD_S[n])
    for name, stats in result.get("http", {}).get("p95_ms", {}).items():
        if n in HTTP_P95_MS:
            _at_most(out, f"HTTP {name} p95 ms", stats, HTTP_P95_MS[n])
    return [f"{n:,}: {line}" for line in out]


def _disagreements(result: dict) -> list[str]:
    """Note any query where a baseline or plain Whoosh found other facilities."""
    out = []
    for kind, row in result["kinds"].items():
        for name, agree in row["agreement"].items():
            if agree["same_total"] != agree["queries"]:
                out.append(f"{kind}: totals differ from {name} on some queries")
            if agree["full_sets_equal"] != agree["full_sets_checked"]:
                out.append(f"{kind}: result sets differ from {name}")
    for kind, row in result.get("plain_whoosh", {}).items():
        if row["same_set"] != row["queries"] or row["same_top20"] != row["queries"]:
            out.append(f"{kind}: differs from plain Whoosh")
    return out


def _at_most(out: list[str], label: str, value: float | None, limit: float) -> None:
    """Note a value over its limit (or missing)."""
    if value is None or value > limit:
        shown = "missing" if value is None else f"{value:.1f}"
        out.append(f"{label} {shown} > {limit:g}")


# --- memory of one worker ------------------------------------------------------------------

_WORKER = """
import json, sys
from dataclasses import replace
from index.searcher import Searcher, SearchRequest
from index.store import SearchIndex
from surveys.questionnaire import load_version
from tests.bench.search import make_specs
q = load_version(sys.argv[2])
searcher = Searcher(SearchIndex(sys.argv[1], q))
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
before = rss()
searcher.warm()
warm = rss()
for spec in make_specs(q, int(sys.argv[3]), 1):
    for request in spec.values():
        searcher.search(request)
print(json.dumps({"before_mb": before, "warm_mb": warm, "after_queries_mb": rss(),
                  "arrays": searcher.memory()}))
"""


def worker_memory(index_path: Path, questionnaire: str, queries: int) -> dict:
    """Measure the resident memory of a fresh process that opens, warms and searches."""
    done = subprocess.run(
        [sys.executable, "-c", _WORKER, str(index_path), questionnaire, str(queries)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)
