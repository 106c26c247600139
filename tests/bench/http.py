"""Time searches over HTTP through the real app under gunicorn: one client, then eight at once.

Two server set-ups on the bench's database and index: sync workers (one request per process at a
time) and gthread (threads sharing one process's searcher snapshots). The page (HTML) and the
JSON API get the same requests: the text + filters + radius kind of the bench, anonymous.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

from tests.load.run import BIN, ROOT, _wait_healthy, free_port

SERVERS = {
    "workers": ["--workers=2"],
    "gthread": ["--workers=1", "--worker-class=gthread", "--threads=8"],
}
CLIENTS = 8


def run_http(work: Path, specs: list[dict], args) -> dict:
    """Time page and API requests on each server set-up; return p95s and the detail."""
    from tests.bench.search import percentiles

    paths = [_params(spec["text_filters_radius"]) for spec in specs]
    runs, p95 = {}, {}
    for name, options in SERVERS.items():
        with _gunicorn(work, options, work / f"gunicorn-{name}.log") as base:
            for target in ("page", "api"):
                urls = [f"{base}{'/api/v1/search' if target == 'api' else '/'}?{p}" for p in paths]
                _fetch_all(urls[:4], 2)  # warm each process
                one = [_timed_get(u) for u in urls]
                started = time.perf_counter()
                many = _fetch_all(urls * (1 if args.quick else 2), CLIENTS)
                seconds = time.perf_counter() - started
                row = {
                    "1 client p95 ms": _r(percentiles(one)["p95_ms"]),
                    f"{CLIENTS} clients p95 ms": _r(percentiles(many)["p95_ms"]),
                    f"{CLIENTS} clients req/s": _r(len(many) / seconds),
                }
                runs[f"{name} {target}"] = row
                p95[f"{name} {target} (1 client)"] = row["1 client p95 ms"]
    return {"runs": runs, "p95_ms": p95}


def _r(value: float) -> float:
    """Round for the report."""
    return round(value, 1)


def _params(request) -> str:
    """Return the query string of a bench request (public search, anonymous)."""
    params = {"q": request.q, "radius_km": f"{request.radius_km:g}"}
    if request.origin:
        params["lat"], params["lng"] = (f"{v:.6f}" for v in request.origin)
    for spec in request.filters:
        value = str(spec.max_value) if spec.max_value is not None else ",".join(spec.values)
        params[spec.item.search_param] = value
    return urlencode(params)


def _timed_get(url: str) -> float:
    """GET a URL, read the body, fail on anything but 200; return the seconds taken."""
    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url}: HTTP {response.status}")
    return time.perf_counter() - started


def _fetch_all(urls: list[str], clients: int) -> list[float]:
    """GET every URL with `clients` concurrent clients; return each request's seconds."""
    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(_timed_get, urls))


@contextlib.contextmanager
def _gunicorn(work: Path, options: list[str], log: Path) -> Iterator[str]:
    """Serve the bench's database and index with gunicorn; yield its URL."""
    base_url = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "PMH_INSTANCE_PATH": str(work / "instance"),
        "PMH_DATABASE_URL": f"sqlite:///{work / 'app.sqlite3'}",
        "PMH_INDEX_PATH": str(work / "index"),
        "PMH_INDEX_AUTO_REBUILD": "false",
    }
    command = [
        str(BIN / "gunicorn"),
        *options,
        f"--bind={base_url.removeprefix('http://')}",
        "--no-control-socket",
        "search_app:create_app()",
    ]
    with log.open("w", encoding="utf-8") as handle:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=handle)
        try:
            _wait_healthy(server, base_url)
            yield base_url
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
