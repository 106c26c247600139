"""Submit answers for many facilities in a loop, through the app's sync path (tests kill it).

Usage: python tests/crash_writer.py INSTANCE_PATH DATABASE_URL SEED [COUNT]
Prints "ready" once the first answer is stored; with COUNT, stops after that many answers.

With SEED "fork", the process imports everything once and then, for each line "N SEED" on
standard input, forks N writers (each prints "ready PID") and waits until all are gone
(killed by the test), then prints "reaped". That keeps each crash round cheap.
"""

from __future__ import annotations

import os
import random
import sys

from sqlmodel import Session, select

from search_app import create_app
from search_app.search import sync_after_commit
from surveys import audit
from surveys.errors import VersionConflict
from surveys.models import Facility
from surveys.operations import current_response, submit_answers
from surveys.questionnaire import load_version


def fork_writers(instance: str, url: str) -> None:
    """Create the app once, fork writers on request, reap them when they die."""
    app = make_app(instance, url)
    for line in sys.stdin:
        count, seed = (int(word) for word in line.split())
        children = []
        for n in range(count):
            pid = os.fork()
            if pid == 0:
                app.extensions["pmh_engine"].dispose(close=False)  # no connection shared
                write(app, seed * 100 + n, None, announce=f"ready {os.getpid()}")
                os._exit(0)
            children.append(pid)
        for pid in children:
            os.waitpid(pid, 0)
        say("reaped")


def say(line: str) -> None:
    """Write one whole line to stdout in a single write: forked writers share the pipe, and
    print() may write the text and its newline separately, interleaving two writers' lines."""
    sys.stdout.flush()
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


def make_app(instance: str, url: str):
    """Create the app on the test's instance folder and database."""
    return create_app({"INSTANCE_PATH": instance, "DATABASE_URL": url, "SECRET_KEY": "crash-test"})


def write(app, seed: int, count: int | None, announce: str = "ready") -> None:
    """Answer random facilities until killed (or `count` answers are stored)."""
    questionnaire = load_version(app.config["QUESTIONNAIRE_VERSION"])
    rng = random.Random(seed)
    with app.app_context(), Session(app.extensions["pmh_engine"]) as session:
        ids = list(session.exec(select(Facility.id)))
        done = 0
        while count is None or done < count:
            facility = session.get(Facility, rng.choice(ids))
            latest = current_response(session, facility.id)
            answers = {
                "pregnant": rng.choice(["yes", "no"]),
                "postpartum": "yes",
                "visibility": "public",
                "answered_by": f"crash {seed}",
                "wait_days": rng.randint(0, 90),
            }
            base = latest.version_no if latest else 0
            try:
                submit_answers(session, facility, questionnaire, answers, audit.CLI_ACTOR, base)
                session.commit()
            except VersionConflict:  # the other writer saved this facility first
                session.rollback()
                continue
            sync_after_commit(session)
            done += 1
            if done == 1:  # announce after the first stored answer: every kill hits a writer
                say(announce)
        say("done")


if __name__ == "__main__":
    if sys.argv[3] == "fork":
        fork_writers(sys.argv[1], sys.argv[2])
    else:
        count = int(sys.argv[4]) if len(sys.argv) > 4 else None
        write(make_app(sys.argv[1], sys.argv[2]), int(sys.argv[3]), count)
