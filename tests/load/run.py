"""Load test (`make loadtest`): nurses search while clinics save answers, against gunicorn.

Creates a fresh instance (SQLite, or a throw-away schema on `--database-url` PostgreSQL), seeds
demo data, builds the index, prepares one invitation per possible clinic user, starts gunicorn
with 4 workers on 127.0.0.1, runs locust headless for a bounded time, then checks that the index
matches the database. Exits 1 on any failed request, server error, index difference, or a p95
over the budget.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.load import report

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The README's budget: p95 of the total and of each main request kind, in milliseconds.
DEFAULT_P95_BUDGET_MS = 1500.0
# Every simulated nurse and clinic comes from 127.0.0.1, so the per-IP limits (sized for one
# office) are raised for the run; per-address limits stay, each nurse has her own account.
LOADTEST_CONFIG = {
    "PMH_RATELIMIT_LOGIN_IP": "[100000, 900]",
    "PMH_RATELIMIT_INVITATION_IP": "[100000, 900]",
}
SERVER_PROBLEMS = ("Traceback", "ERROR in", "WARNING in", "[ERROR]", "[CRITICAL]", "TIMEOUT")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(prog="python -m tests.load.run", description=__doc__)
    parser.add_argument("--users", type=int, default=20, help="concurrent locust users")
    parser.add_argument("--spawn-rate", type=float, default=5.0, help="users started per second")
    parser.add_argument("--run-time", type=int, default=60, help="seconds of load")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--clinics", type=int, default=600, help="demo facilities to seed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL server URL (a throw-away schema is created); default: SQLite",
    )
    parser.add_argument("--p95-budget-ms", type=float, default=DEFAULT_P95_BUDGET_MS)
    parser.add_argument("--out", default=str(ROOT / "build" / "loadtest"))
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the whole load test; return the exit code."""
    args = parse_args(argv)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("locust_*.csv"):
        old.unlink()
    with scratch_database(args.database_url) as url:
        env = instance_env(out / "instance", url)
        prepare_instance(env, args)
        data_file = write_run_data(env, args, out)
        with gunicorn(env, args.workers, out / "gunicorn.log") as base_url:
            warm_up(base_url, data_file, args.workers)
            locust_rc = run_locust(env, args, base_url, data_file, out)
        check = pmh(env, "index", "check", check=False)
    return finish(args, out, locust_rc, check)


# -- instance ---------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """Yield '' for SQLite in the instance, or a URL to a new PostgreSQL schema dropped after."""
    if not server_url:
        yield ""
        return
    from sqlalchemy import create_engine, text

    schema = f"loadtest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in server_url else "?"
    try:
        yield f"{server_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def instance_env(instance: Path, database_url: str) -> dict[str, str]:
    """Return the environment of every process of the run: a fresh instance folder."""
    if instance.exists():
        subprocess.run(["rm", "-rf", str(instance)], check=True)
    instance.mkdir(parents=True)
    env = {**os.environ, **LOADTEST_CONFIG, "PMH_INSTANCE_PATH": str(instance)}
    env["PYTHONPATH"] = str(ROOT)
    env.pop("PMH_DATABASE_URL", None)
    if database_url:
        env["PMH_DATABASE_URL"] = database_url
    return env


def pmh(env: dict[str, str], *command: str, check: bool = True) -> subprocess.CompletedProcess:
    """Run one `pmh` command and return its result (output captured)."""
    result = subprocess.run(
        [str(BIN / "pmh"), *command], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if check and result.returncode != 0:
        raise SystemExit(f"pmh {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result


def prepare_instance(env: dict[str, str], args: argparse.Namespace) -> None:
    """Migrate, seed the demo data, build the index (as `make run` does)."""
    started = time.perf_counter()
    pmh(env, "db", "upgrade")
    pmh(env, "seed-demo", "--clinics", str(args.clinics), "--seed", str(args.seed))
    pmh(env, "index", "rebuild")
    print(f"Instance ready ({args.clinics} facilities) in {time.perf_counter() - started:.0f} s.")


def write_run_data(env: dict[str, str], args: argparse.Namespace, out: Path) -> Path:
    """Write what the locust users need: invitations, places, the staff account."""
    os.environ.update({k: v for k, v in env.items() if k.startswith("PMH_")})
    from search_app import create_app

    app = create_app()
    with app.app_context():
        data = {
            "clinics": invitations(args.users, args.seed),
            "locations": places(args.seed),
            "municipalities": [m.code for m in _tokyo_municipalities()],
            "staff": staff_accounts(args.users),
        }
        from search_app.db import engine

        engine().dispose()
    path = out / "run-data.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def invitations(count: int, seed: int) -> list[dict]:
    """Invite `count` distinct answered facilities to a campaign; return ids and tokens."""
    from datetime import timedelta

    from flask import current_app
    from sqlmodel import Session, col, select

    from search_app.db import engine
    from surveys import audit, campaigns
    from surveys.models import Facility, SurveyResponse
    from surveys.operations import today_in_japan
    from surveys.questionnaire import load_version

    questionnaire = load_version(current_app.config["QUESTIONNAIRE_VERSION"])
    with Session(engine()) as session:
        answered = sorted(set(session.exec(select(SurveyResponse.facility_id))))
        chosen_ids = random.Random(seed).sample(answered, min(count, len(answered)))
        chosen = session.exec(select(Facility).where(col(Facility.id).in_(chosen_ids))).all()
        closes_on = today_in_japan() + timedelta(days=30)
        campaign = campaigns.create_campaign(
            session, questionnaire, "負荷試験", closes_on, audit.CLI_ACTOR
        )
        links = campaigns.invite(session, campaign, list(chosen), audit.CLI_ACTOR)
        pairs = [{"facility_id": f.id, "token": token} for f, token in links]
        session.commit()
    return pairs


def _tokyo_municipalities():
    """Return Tokyo's municipalities."""
    from index.geo.gazetteer import municipalities

    return municipalities("13")


def places(seed: int, each: int = 60) -> list[str]:
    """Return places nurses type (stations, addresses, postal codes) the geocoder understands."""
    from index.geo.gazetteer import load_stations, load_towns, read_tsv
    from search_app.search import locator

    rng = random.Random(seed)
    stations = [s.display_name for s in load_stations() if s.prefecture_code == "13"]
    towns = [t for t in load_towns("東京都") if t.lat is not None and not t.koaza]
    codes = sorted({row[0] for row in read_tsv("postal_codes.tsv.gz") if row[1] == "13"})
    typed = [rng.choice((f"{name}駅", name)) for name in rng.sample(stations, each)]
    typed += [
        rng.choice((f"東京都{t.city}{t.town}", f"{t.city}{t.town}"))
        for t in rng.sample(towns, each)
    ]
    typed += [rng.choice((f"{c[:3]}-{c[3:]}", f"〒{c}")) for c in rng.sample(codes, each)]
    return [text for text in typed if _understood(locator(), text)]


def _understood(geocoder, text: str) -> bool:
    """Tell whether the geocoder finds the place (ambiguous names are left out)."""
    from index.geo.errors import GeocodeError

    try:
        geocoder.geocode(text)
    except GeocodeError:
        return False
    return True


def staff_accounts(count: int) -> list[dict[str, str]]:
    """Create one staff account per possible nurse user (the per-address sign-in limit holds)."""
    import secrets

    from sqlmodel import Session

    from search_app.db import engine
    from surveys import audit
    from surveys.accounts import hash_password
    from surveys.models import User

    password = secrets.token_urlsafe(18)
    password_hash = hash_password(password)  # one hash: scrypt is slow on purpose
    emails = [f"nurse{n:03d}@loadtest.example.jp" for n in range(1, count + 1)]
    with Session(engine()) as session:
        for email in emails:
            user = User(email=email, role="staff", display_name=email, password_hash=password_hash)
            session.add(user)
            session.flush()
            audit.record(session, audit.CLI_ACTOR, "user.create", user, role="staff")
        session.commit()
    return [{"email": email, "password": password} for email in emails]


# -- server and load --------------------------------------------------------------------------


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int, log: Path) -> Iterator[str]:
    """Start gunicorn on a free loopback port, wait for /healthz, yield its URL, stop it."""
    base_url = f"http://127.0.0.1:{free_port()}"
    command = [
        str(BIN / "gunicorn"),
        f"--workers={workers}",
        f"--bind={base_url.removeprefix('http://')}",
        "--graceful-timeout=10",
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


def _wait_healthy(server: subprocess.Popen, base_url: str, timeout: float = 90) -> None:
    """Wait until /healthz answers 200; fail if gunicorn exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit("gunicorn did not become healthy in time")


def warm_up(base_url: str, data_file: Path, workers: int) -> None:
    """Send searches to every worker first: lazy-loaded data (places, the word dictionary that
    text queries and index writes share) costs seconds once per worker, not per request."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import quote

    places = json.loads(data_file.read_text(encoding="utf-8"))["locations"]
    urls = [f"{base_url}/?near={quote(p)}&q={quote('こころ')}" for p in places[: workers * 4]]
    urls += [f"{base_url}/api/v1/search?near={quote(p)}" for p in places[-workers * 4 :]]
    with ThreadPoolExecutor(workers * 2) as pool:
        list(pool.map(_fetch, urls))


def _fetch(url: str) -> None:
    """GET one URL and read the body (warm-up: errors show up in the real run)."""
    with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=30) as response:
        response.read()


def run_locust(env, args, base_url: str, data_file: Path, out: Path) -> int:
    """Run locust headless for the given time; return its exit code."""
    command = [
        str(BIN / "locust"),
        f"--locustfile={ROOT / 'tests' / 'load' / 'locustfile.py'}",
        "--headless",
        "--only-summary",
        f"--users={args.users}",
        f"--spawn-rate={args.spawn_rate}",
        f"--run-time={args.run_time}s",
        "--stop-timeout=10",
        f"--host={base_url}",
        f"--csv={out / 'locust'}",
    ]
    print(f"Load: {args.users} users for {args.run_time} s against {args.workers} workers ...")
    with (out / "locust.log").open("w", encoding="utf-8") as handle:
        result = subprocess.run(
            command,
            env={**env, "PMH_LOADTEST_DATA": str(data_file)},
            cwd=ROOT,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=args.run_time + 180,
        )
    return result.returncode


# -- verdict ----------------------------------------------------------------------------------


def server_problems(log: Path) -> list[str]:
    """Return the lines of the server log that show an error or a warning."""
    if not log.exists():
        return []
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if any(mark in line for mark in SERVER_PROBLEMS)]


def finish(args, out: Path, locust_rc: int, check: subprocess.CompletedProcess) -> int:
    """Print the table, write summary.json, return the exit code."""
    errors = [f"server log: {line}" for line in server_problems(out / "gunicorn.log")[:20]]
    if check.returncode != 0:
        errors.append(f"pmh index check failed: {(check.stdout + check.stderr).strip()[-2000:]}")
    if locust_rc not in (0, 1):  # 1 only means "some request failed", counted from the CSV
        errors.append(f"locust exited with {locust_rc}; see {out / 'locust.log'}")
    code, problems, rows = report.judge(out / "locust", args.p95_budget_ms, errors)
    print(report.table(rows))
    for failure in report.read_failures(out / "locust_failures.csv"):
        print(f"  failure: {failure}")
    summary = {
        "users": args.users,
        "run_time_s": args.run_time,
        "workers": args.workers,
        "database": "postgresql" if args.database_url else "sqlite",
        "cpus": os.cpu_count(),
        "p95_budget_ms": args.p95_budget_ms,
        "stats": report.as_json(rows),
        "index_check": (check.stdout + check.stderr).strip(),
        "problems": problems,
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"{'FAILED' if problems else 'OK'}: summary in {out / 'summary.json'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
