"""Benchmark the search engine against a naive scan and SQLite FTS5 at realistic sizes.

Run: .venv/bin/python -m tests.bench.search [--sizes 10000,100000] [--queries 100] [--out F]
For each size, in one run: synthetic facilities (surveys.demo) in a fresh SQLite database, a
full index rebuild, submit-to-visible update latency, then four query kinds timed through the
Searcher and the two baselines of tests/bench/baselines.py, interleaved query by query, with
the baselines' results compared with the engine's.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy
import whoosh
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from index.filters import Filter
from index.geo.gazetteer import TOKYO, load_towns
from index.params import parse_filters
from index.searcher import Searcher, SearchRequest
from index.store import SearchIndex
from index.sync import rebuild, sync_outbox
from surveys import audit
from surveys.database import make_engine, upgrade
from surveys.demo import seed_demo
from surveys.models import Facility, SurveyResponse
from surveys.operations import current_response, submit_answers
from surveys.questionnaire import Questionnaire, load_version
from tests.bench import targets
from tests.bench.baselines import Fts5Box, NaiveScan
from tests.bench.plain import plain_agreement

QUESTIONNAIRE = "2026.2"
KINDS = ("text", "filters", "filters_radius", "text_filters_radius")
ENGINES = ("engine", "naive", "fts5")
TOP = 20
BENCH_AUDIT_KEY = b"bench audit key"  # throw-away databases
RADIUS_KM = 5.0
# Words people type: facility names and kana, departments, conditions, places (all in the data).
_WORDS = """
こころ さくら サクラ クリニック 産後うつ 新宿 心療内科 精神科 メンタル 病院 ひだまり 青葉
双極症 摂食障害 世田谷 池袋 心
"""
WORDS = tuple(_WORDS.split())
TWO_WORD_SHARE = 0.3
# Filter combinations a referrer would use (search parameters, as in the API).
FILTER_SETS = (
    {"pregnant": "yes,conditional", "breastfeeding_rx": "yes,consult", "max_wait_days": "30"},
    {"postpartum": "yes,conditional"},
    {"pregnant": "yes,conditional", "condition": "postpartum_depression"},
    {"postpartum": "yes", "new_patients": "yes,limited", "max_wait_days": "14"},
    {"breastfeeding_rx": "yes", "woman_doctor": "yes"},
    {"pregnant": "yes,conditional", "postpartum": "yes,conditional", "baby_ok": "yes,conditional"},
)
# The answer each update flips (a filter item no other question depends on).
FLIP_ITEM = "online"
ACTOR = audit.Actor(label="bench")


def percentiles(samples: list[float]) -> dict:
    """Return n, p50 and p95 (inclusive method) of samples in seconds, as milliseconds."""
    if not samples:
        return {"n": 0, "p50_ms": None, "p95_ms": None}
    ms = [s * 1000 for s in samples]
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18] if len(ms) > 1 else ms[0]
    return {"n": len(ms), "p50_ms": statistics.median(ms), "p95_ms": p95, "max_ms": max(ms)}


def timed(func: Callable, *args):
    """Call func; return (seconds, result)."""
    start = time.perf_counter()
    result = func(*args)
    return time.perf_counter() - start, result


def folder_mb(path: Path) -> float:
    """Return the size of the files in a folder in MB."""
    return sum(f.stat().st_size for f in path.iterdir() if f.is_file()) / 1e6


# --- set-up ------------------------------------------------------------------------------------


def seed_database(url: str, questionnaire: Questionnaire, n: int, seed: int) -> dict:
    """Migrate a fresh database and fill it with n synthetic facilities."""
    upgrade(url)
    engine = make_engine(url)
    audit.use_key(engine, BENCH_AUDIT_KEY)
    with Session(engine) as session:
        seconds, made = timed(seed_demo, session, questionnaire, n, seed, load_towns(TOKYO))
        session.commit()
    engine.dispose()
    return {"seconds": seconds, "facilities": made["facilities"], "answered": made["answered"]}


def rebuild_index(engine: Engine, search_index: SearchIndex) -> dict:
    """Rebuild the whole index from the database; return time, documents, segments and size."""
    with Session(engine) as session:
        seconds, count = timed(rebuild, session, search_index)
    segments = len(search_index.open()._segments())
    return {
        "seconds": seconds,
        "documents": count,
        "segments": segments,
        "index_mb": folder_mb(search_index.path),
    }


def build_fts(fts: Fts5Box, db_path: Path) -> dict:
    """Build the FTS5 baseline's tables; return time, rows and size."""
    seconds, rows = timed(fts.build, db_path)
    return {"seconds": seconds, "rows": rows, "db_mb": fts.size_mb()}


# --- updates -----------------------------------------------------------------------------------


def measure_updates(engine: Engine, search_index, searcher, q: Questionnaire, args) -> dict:
    """Time submit + commit + sync + a search that must see the change, on random facilities."""
    with Session(engine) as session:
        ids = list(session.exec(select(SurveyResponse.facility_id).distinct()))
        rng = random.Random(f"updates-{args.seed}")
        chosen = rng.sample(sorted(ids), min(args.updates, len(ids)))
        runs = [update_one(session, search_index, searcher, q, fid) for fid in chosen]
    parts = {p: percentiles([r[p] for r in runs]) for p in ("submit", "sync", "search")}
    return {
        **percentiles([r["total"] for r in runs]),
        "visible": sum(r["visible"] for r in runs),
        "parts": parts,
        "index_mb_after": folder_mb(search_index.path),
    }


def update_one(session: Session, search_index, searcher, q: Questionnaire, fid: int) -> dict:
    """Flip one answer of one facility and time each step until a search shows it."""
    facility = session.get(Facility, fid)
    latest = current_response(session, fid)
    value = "no" if latest.answers.get(FLIP_ITEM) == "yes" else "yes"
    answers = {**latest.answers, FLIP_ITEM: value}
    request = SearchRequest(
        filters=(Filter(q.item(FLIP_ITEM), (value,)),),
        origin=(facility.lat, facility.lng),
        radius_km=0.05,
        professional=True,
        per_page=100,
    )
    start = time.perf_counter()
    submit_answers(session, facility, q, answers, ACTOR, latest.version_no)
    session.commit()
    written = time.perf_counter()
    sync_outbox(session, search_index)
    synced = time.perf_counter()
    visible = fid in {hit.facility_id for hit in searcher.search(request).hits}
    done = time.perf_counter()
    return {
        "submit": written - start,
        "sync": synced - written,
        "search": done - synced,
        "total": done - start,
        "visible": visible,
    }


# --- queries -----------------------------------------------------------------------------------


def make_specs(q: Questionnaire, count: int, seed: int) -> list[dict[str, SearchRequest]]:
    """Return `count` deterministic query sets, one request per kind each."""
    rng = random.Random(f"queries-{seed}")
    towns = [t for t in load_towns(TOKYO) if t.lat is not None and not t.koaza]
    return [_spec(rng, q, towns) for _ in range(count)]


def _spec(rng: random.Random, q: Questionnaire, towns: list) -> dict[str, SearchRequest]:
    """Draw words, filters and an origin, and build the four requests from them."""
    words = rng.choice(WORDS)
    if rng.random() < TWO_WORD_SHARE:
        words += " " + rng.choice(WORDS)
    filters = tuple(parse_filters(q, rng.choice(FILTER_SETS)))
    town = rng.choice(towns)
    base = SearchRequest(professional=True, per_page=TOP)
    near = replace(base, origin=(town.lat, town.lng), radius_km=RADIUS_KM, sort="distance")
    return {
        "text": replace(base, q=words),
        # By name: the default (recommended) order is not what the baselines reproduce.
        "filters": replace(base, filters=filters, sort="name"),
        "filters_radius": replace(near, filters=filters),
        "text_filters_radius": replace(near, q=words, filters=filters),
    }


def engine_runner(searcher: Searcher) -> Callable[[SearchRequest], tuple[int, list[int]]]:
    """Return a runner giving (total, ids of the page) from the Searcher."""

    def run(request: SearchRequest) -> tuple[int, list[int]]:
        result = searcher.search(request)
        return result.total, [hit.facility_id for hit in result.hits]

    return run


def baseline_runner(baseline) -> Callable[[SearchRequest], tuple[int, list[int]]]:
    """Return a runner giving (total, every id in order) from a baseline."""

    def run(request: SearchRequest) -> tuple[int, list[int]]:
        ids = baseline.search(request)
        return len(ids), ids

    return run


def run_queries(runners: dict, specs: list[dict], naive_every: int, check: int) -> dict:
    """Time every kind on every engine, interleaved per query, rotating the engines' order."""
    samples = {kind: {name: [] for name in ENGINES} for kind in KINDS}
    cpu = {kind: [] for kind in KINDS}
    outcomes = {kind: {name: {} for name in ENGINES} for kind in KINDS}
    for i, spec in enumerate(specs):
        keep_all = i % naive_every == 0 and i // naive_every < check
        for k, kind in enumerate(KINDS):
            for name in _rotation(i + k):
                if name == "naive" and i % naive_every:
                    continue
                started_cpu = time.thread_time()
                seconds, (total, ids) = timed(runners[name], spec[kind])
                samples[kind][name].append(seconds)
                if name == "engine":
                    cpu[kind].append(time.thread_time() - started_cpu)
                outcomes[kind][name][i] = _outcome(total, ids, keep_all)
    return {"samples": samples, "outcomes": outcomes, "engine_cpu": cpu}


def _rotation(step: int) -> list[str]:
    """Return the engines in a rotating order, so none always runs first."""
    shift = step % len(ENGINES)
    return [*ENGINES[shift:], *ENGINES[:shift]]


def _outcome(total: int, ids: list[int], keep_all: bool) -> dict:
    """Keep the total, the first page and, on the check sample, every id."""
    out = {"total": total, "top": ids[:TOP]}
    if keep_all:
        out["all"] = ids
    return out


def add_engine_full_sets(searcher: Searcher, specs: list[dict], outcomes: dict, n: int) -> None:
    """Fetch the engine's whole result lists for the check sample (untimed)."""
    for kind in KINDS:
        for i, fts_out in outcomes[kind]["fts5"].items():
            if "all" in fts_out:
                result = searcher.search(replace(specs[i][kind], per_page=max(n, 1)))
                outcomes[kind]["engine"][i]["all"] = [hit.facility_id for hit in result.hits]


def agreement(outcomes: dict, baseline: str) -> dict:
    """Compare a baseline's results with the engine's, query by query."""
    engine = outcomes["engine"]
    pairs = [(engine[i], b) for i, b in outcomes[baseline].items()]
    full = [(e["all"], b["all"]) for e, b in pairs if "all" in b and "all" in e]
    diffs = [(len(set(e) - set(b)), len(set(b) - set(e))) for e, b in full]
    return {
        "queries": len(pairs),
        "same_total": sum(e["total"] == b["total"] for e, b in pairs),
        "same_top20": sum(e["top"] == b["top"] for e, b in pairs),
        "top20_overlap": statistics.fmean(_overlap(e["top"], b["top"]) for e, b in pairs),
        "full_sets_checked": len(full),
        "full_sets_equal": sum(d == (0, 0) for d in diffs),
        "only_engine_ids": sum(d[0] for d in diffs),
        "only_baseline_ids": sum(d[1] for d in diffs),
    }


def _overlap(a: list[int], b: list[int]) -> float:
    """Return the share of the larger first page found in both."""
    return len(set(a) & set(b)) / max(len(a), len(b)) if a or b else 1.0


def summarise(measured: dict) -> dict:
    """Return percentiles, p95 ratios and agreement per kind."""
    out = {}
    for kind in KINDS:
        stats = {name: percentiles(measured["samples"][kind][name]) for name in ENGINES}
        base = stats["engine"]["p95_ms"]
        ratios = {f"{b}_p95_over_engine": _ratio(stats[b]["p95_ms"], base) for b in ENGINES[1:]}
        agree = {b: agreement(measured["outcomes"][kind], b) for b in ENGINES[1:]}
        raw = {
            name: [round(s * 1000, 3) for s in measured["samples"][kind][name]] for name in ENGINES
        }
        cpu = percentiles(measured["engine_cpu"][kind])
        out[kind] = {**stats, **ratios, "engine_cpu": cpu, "agreement": agree, "samples_ms": raw}
    return out


def describe(request: SearchRequest) -> dict:
    """Return a request as JSON-friendly parameters."""
    filters = {f.item.search_param: _filter_text(f) for f in request.filters}
    return {"q": request.q, "filters": filters, "origin": request.origin}


def _filter_text(spec: Filter) -> str:
    """Return a filter as its search parameter value."""
    return str(spec.max_value) if spec.max_value is not None else ",".join(spec.values)


def _ratio(a: float | None, b: float | None) -> float | None:
    """Divide, or None when either side is missing."""
    return a / b if a is not None and b else None


def http_phase(work: Path, q: Questionnaire, args) -> dict:
    """Time the page and the API through gunicorn (imported late: needs the app's packages)."""
    from tests.bench.http import run_http

    return run_http(work, make_specs(q, args.queries, args.seed), args)


def warm_up(runners: dict, spec: dict) -> None:
    """Run each kind once on each engine (open files, load columns, fill caches)."""
    for kind in KINDS:
        for run in runners.values():
            run(spec[kind])


# --- one size ----------------------------------------------------------------------------------


@contextmanager
def workdir(args, n: int) -> Iterator[Path]:
    """Yield a fresh folder for one size: kept under --workdir, else a temporary one."""
    if args.workdir:
        path = args.workdir / str(n)
        path.mkdir(parents=True, exist_ok=False)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="pmh-bench-") as tmp:
        yield Path(tmp)


def run_size(n: int, args) -> dict:
    """Run every measurement for n facilities."""
    started = time.perf_counter()
    load = {"start": os.getloadavg()[0]}
    q = load_version(QUESTIONNAIRE)
    with workdir(args, n) as work:
        result = {"facilities": n, "seed": seed_database(_url(work), q, n, args.seed)}
        _log(f"{n}: seeded in {result['seed']['seconds']:.1f} s")
        result |= _engine_phase(work, q, n, args, load)
    result["seconds"] = time.perf_counter() - started
    result["load_average"] = load | {"end": os.getloadavg()[0]}
    return result


def _url(work: Path) -> str:
    """Return the SQLite URL of the application database in a work folder."""
    return f"sqlite:///{work / 'app.sqlite3'}"


def _engine_phase(work: Path, q: Questionnaire, n: int, args, load: dict) -> dict:
    """Rebuild, update, build the baselines and time the queries."""
    engine = make_engine(_url(work))
    audit.use_key(engine, BENCH_AUDIT_KEY)
    search_index = SearchIndex(work / "index", q)
    searcher = Searcher(search_index)
    fts, naive = Fts5Box(work / "fts5.sqlite3", q), NaiveScan(work / "app.sqlite3", q)
    try:
        load["rebuild"] = os.getloadavg()[0]
        out = {"rebuild": rebuild_index(engine, search_index)}
        _log(f"{n}: rebuilt in {out['rebuild']['seconds']:.1f} s")
        out["searcher_open_ms"] = timed(searcher.count)[0] * 1000
        out["update"] = measure_updates(engine, search_index, searcher, q, args)
        _log(f"{n}: {out['update']['n']} updates, p95 {out['update']['p95_ms']:.0f} ms")
        out["fts5_build"] = build_fts(fts, work / "app.sqlite3")
        load["queries"] = os.getloadavg()[0]
        out |= _query_phase(searcher, naive, fts, q, n, args)
        out["memory"] = targets.worker_memory(work / "index", QUESTIONNAIRE, args.memory_queries)
        _log(f"{n}: worker memory {out['memory']['after_queries_mb']:.0f} MB")
        if args.http:
            out["http"] = http_phase(work, q, args)
    finally:
        searcher.close()
        fts.close()
        naive.close()
        engine.dispose()
    return out


def _query_phase(searcher, naive, fts, q: Questionnaire, n: int, args) -> dict:
    """Time the four kinds on the three engines and compare their results."""
    runners = {
        "engine": engine_runner(searcher),
        "naive": baseline_runner(naive),
        "fts5": baseline_runner(fts),
    }
    specs = make_specs(q, args.queries, args.seed)
    naive_count = args.naive_queries or (100 if n <= 20_000 else 25)
    naive_every = max(1, -(-len(specs) // naive_count))
    searcher.warm()  # as each app worker does before taking requests (search_app.search.warm_up)
    warm_up(runners, specs[0])
    gc.collect()
    seconds, measured = timed(run_queries, runners, specs, naive_every, args.check)
    _log(f"{n}: queries timed in {seconds:.0f} s")
    add_engine_full_sets(searcher, specs, measured["outcomes"], n)
    return {
        "plain_whoosh": plain_agreement(searcher, specs, args.check),
        "queries": len(specs),
        "naive_every": naive_every,
        "specs": [describe(spec["text_filters_radius"]) for spec in specs],
        "query_seconds": seconds,
        "kinds": summarise(measured),
    }


def _log(message: str) -> None:
    """Report progress on stderr."""
    print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# --- output ------------------------------------------------------------------------------------


def _ms(stats: dict) -> str:
    """Format p50/p95 of one engine."""
    if not stats["n"]:
        return f"{'-':>17}"
    return f"{stats['p50_ms']:7.1f} /{stats['p95_ms']:8.1f}"


def _x(value: float | None) -> str:
    """Format a ratio."""
    return f"{value:8.2f}x" if value is not None else f"{'-':>9}"


def table(result: dict) -> str:
    """Return the report of one size as plain text."""
    lines = _header_lines(result)
    lines.append(f"{'kind':<20}{'engine p50/p95':>18}{'naive p50/p95':>18}{'fts5 p50/p95':>18}")
    lines[-1] += f"{'naive/eng':>10}{'fts5/eng':>10}"
    for kind, row in result["kinds"].items():
        cells = "".join(f" {_ms(row[name])}" for name in ENGINES)
        ratios = _x(row["naive_p95_over_engine"]) + " " + _x(row["fts5_p95_over_engine"])
        lines.append(f"{kind:<20}{cells} {ratios}")
    lines.append("ratios: baseline p95 / engine p95 (above 1: the engine is faster)")
    cpu = ", ".join(f"{k} {_ms(row['engine_cpu'])}" for k, row in result["kinds"].items())
    lines.append(f"engine CPU time of the searching thread, p50/p95 ms: {cpu}")
    lines += _extra_lines(result)
    lines += _agreement_lines(result)
    return "\n".join(lines)


def _header_lines(result: dict) -> list[str]:
    """Return the set-up, rebuild and update lines."""
    seed, built, fts, up = result["seed"], result["rebuild"], result["fts5_build"], result["update"]
    parts = " / ".join(f"{up['parts'][p]['p50_ms']:.0f}" for p in ("submit", "sync", "search"))
    naive_n = result["kinds"]["text"]["naive"]["n"]
    return [
        f"== {result['facilities']:,} facilities ({result['seconds']:.0f} s for this size) ==",
        "load average (1 min) at start / rebuild / queries / end: "
        + " / ".join(f"{v:.1f}" for v in result["load_average"].values()),
        f"seed {seed['seconds']:.1f} s ({seed['answered']:,} answered); FTS5 baseline build "
        f"{fts['seconds']:.1f} s, {fts['db_mb']:.0f} MB",
        f"rebuild {built['seconds']:.1f} s ({built['segments']} segments), index "
        f"{built['index_mb']:.1f} MB "
        f"({up['index_mb_after']:.1f} MB after updates); first searcher open "
        f"{result['searcher_open_ms']:.0f} ms",
        f"update submit->visible p50 {up['p50_ms']:.1f} ms, p95 {up['p95_ms']:.1f} ms "
        f"({up['visible']}/{up['n']} visible; median submit / sync / search {parts} ms)",
        f"queries: {result['queries']} per kind (naive: {naive_n}), top {TOP}, "
        f"radius {RADIUS_KM:g} km, professional",
    ]


def _extra_lines(result: dict) -> list[str]:
    """Return the memory and HTTP lines."""
    mem = result["memory"]
    lines = [
        f"worker memory (fresh process): {mem['before_mb']:.0f} MB open, {mem['warm_mb']:.0f} MB "
        f"warmed, {mem['after_queries_mb']:.0f} MB after queries; arrays {mem['arrays']}"
    ]
    for name, row in result.get("http", {}).get("runs", {}).items():
        lines.append(f"HTTP {name}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    return lines


def _agreement_lines(result: dict) -> list[str]:
    """Return the agreement table: totals, identical first pages, overlap, whole sets."""
    lines = [
        "agreement with the engine: same total | same top-20 order | top-20 overlap | "
        "same full set (check sample)",
    ]
    for kind, row in result["kinds"].items():
        cells = [_agree(row["agreement"][b]) for b in ENGINES[1:]]
        lines.append(f"{kind:<20} naive {cells[0]}   fts5 {cells[1]}")
    for kind, row in result["plain_whoosh"].items():
        lines.append(
            f"plain Whoosh, {kind}: same set {row['same_set']}/{row['queries']}, "
            f"same top-20 (ties aside) {row['same_top20']}/{row['queries']}"
        )
    return lines


def _agree(a: dict) -> str:
    """Format one baseline's agreement."""
    n = a["queries"]
    return (
        f"{a['same_total']:>3}/{n:<3} {a['same_top20']:>3}/{n:<3} {a['top20_overlap']:5.2f} "
        f"{a['full_sets_equal']:>2}/{a['full_sets_checked']:<2}"
    )


def meta(args, argv: list[str]) -> dict:
    """Describe the machine and the software."""
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "argv": argv,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "whoosh": whoosh.versionstring(),
        "numpy": numpy.__version__,
        "questionnaire": QUESTIONNAIRE,
        "seed": args.seed,
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated facility counts")
    parser.add_argument("--queries", type=int, default=100, help="queries per kind")
    parser.add_argument(
        "--naive-queries", type=int, help="naive-scan queries per kind (default 100, 25 >20k)"
    )
    parser.add_argument("--check", type=int, default=10, help="queries per kind compared in full")
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer queries and updates (40, naive 10, 10 updates): minutes, for every change",
    )
    parser.add_argument("--no-http", dest="http", action="store_false", help="skip HTTP runs")
    parser.add_argument("--memory-queries", type=int, default=20)
    parser.add_argument("--workdir", type=Path, help="keep databases and indexes here")
    args = parser.parse_args(argv)
    if args.quick:
        args.queries, args.updates, args.check = min(args.queries, 40), 10, 5
        args.naive_queries = args.naive_queries or 10
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every size, print one table per size and write JSON as each size finishes."""
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    report = {"meta": meta(args, argv), "sizes": []}
    started = time.perf_counter()
    for n in (int(s) for s in args.sizes.split(",")):
        report["sizes"].append(run_size(n, args))
        print(table(report["sizes"][-1]), end="\n\n", flush=True)
        report["meta"]["total_seconds"] = time.perf_counter() - started
        _write(args.out, report)
    print(f"total {report['meta']['total_seconds']:.0f} s")
    missed = [line for size in report["sizes"] for line in targets.misses(size)]
    report["missed_targets"] = missed
    _write(args.out, report)
    print("targets: all met" if not missed else "targets MISSED:\n  " + "\n  ".join(missed))
    return 1 if missed else 0


def _write(out: Path | None, report: dict) -> None:
    """Write the report as JSON, creating the folder."""
    if out is None:
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    raise SystemExit(main())
