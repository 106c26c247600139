"""Shared fixtures: an app on a fresh database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import functools
import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, select

from index.sync import rebuild
from search_app import create_app, session_limits
from surveys import audit, totp
from surveys.accounts import hash_password
from surveys.database import upgrade
from surveys.invitations import create_invitation
from surveys.models import Campaign, Facility, User, UserFacility, utcnow
from surveys.operations import ensure_questionnaire, submit_answers
from surveys.questionnaire import load_version

POSTGRES_ENV = "PMH_TEST_POSTGRES_URL"
REDIS_ENV = "PMH_TEST_REDIS_URL"
QUESTIONNAIRE = "2026.2"


def pytest_report_header(config) -> list[str]:
    """Say clearly whether the PostgreSQL and Redis variants run."""
    if os.environ.get(POSTGRES_ENV):
        lines = [f"PostgreSQL tests: ON ({POSTGRES_ENV} is set)"]
    else:
        lines = [
            f"PostgreSQL tests: NOT RUN (set {POSTGRES_ENV}=postgresql+psycopg://... to run them)"
        ]
    if os.environ.get(REDIS_ENV):
        lines.append(f"Redis tests: ON ({REDIS_ENV} is set)")
    else:
        lines.append(
            f"Redis tests: NOT RUN (set {REDIS_ENV}=redis://127.0.0.1:6379/15 to run them)"
        )
    return lines


@pytest.fixture
def redis_config() -> Iterator[dict]:
    """Config for a Redis-backed rate limiter under a per-test key prefix (removed afterwards)."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis not configured: set {REDIS_ENV}=redis://127.0.0.1:6379/15 to run this")
    import redis

    prefix = f"pmhtest:{uuid.uuid4().hex[:12]}:"
    yield {"RATELIMIT_STORAGE_URL": url, "RATELIMIT_KEY_PREFIX": prefix}
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request, tmp_path) -> Iterator[str]:
    """A migrated, empty database: a SQLite file, or a throw-away PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'test.sqlite3'}"
        upgrade(url)
        yield url
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_ENV} to run this variant")
    yield from _postgres_schema(base)


def _postgres_schema(base: str) -> Iterator[str]:
    """Create a schema for one test, migrate it, drop it afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options=-csearch_path%3D{schema}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replace pytest-flask's: one context held for the whole test would share `g` (and with it
    the database session and the CSRF token) between the test client's requests, which real
    requests never do."""


@pytest.fixture
def client(app):
    """A test client that, unlike pytest-flask's, does not keep its last request's context
    pushed (that context would leak `g` into other clients' requests)."""
    return app.test_client()


@pytest.fixture
def make_app(database_url, tmp_path):
    """Create apps on the test database with extra configuration; closed after the test."""
    apps = []

    def make(name: str = "instance", **config):
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(tmp_path / name),
                "DATABASE_URL": database_url,
                "SECRET_KEY": "test-secret",
                **config,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["pmh_searcher"].close()
        app.extensions["pmh_ratelimiter"].storage.close()
        app.extensions["pmh_engine"].dispose()


@pytest.fixture
def app(make_app):
    """The application on the test database."""
    return make_app()


@pytest.fixture
def db(app) -> Iterator[Session]:
    """A session on the app's database, for arranging and checking stored state."""
    with Session(app.extensions["pmh_engine"], expire_on_commit=False) as session:
        yield session


@pytest.fixture
def questionnaire():
    """The bundled questionnaire edition the app asks."""
    return load_version(QUESTIONNAIRE)


@pytest.fixture
def make_facility(db):
    """Create facilities: make_facility(name=..., ...)."""
    counter = iter(range(1, 10_000))

    def make(**fields) -> Facility:
        n = next(counter)
        values = {
            "source_id": f"T{n:05d}",
            "name": f"テストこころクリニック{n}",
            "kana": "テストココロクリニック",
            "kind": "clinic",
            "prefecture_code": "13",
            "municipality_code": "13108",
            "address": "東京都江東区亀戸八丁目5-1",
            "lat": 35.6975,
            "lng": 139.8262,
        }
        facility = Facility(**(values | fields))
        db.add(facility)
        db.commit()
        return facility

    return make


@pytest.fixture
def make_campaign(db, questionnaire):
    """Create a campaign closing in `days` days (negative: already closed)."""

    def make(days: int = 30, closed: bool = False) -> Campaign:
        version = ensure_questionnaire(db, questionnaire)
        campaign = Campaign(
            name="2026年度調査",
            questionnaire_id=version.id,
            closes_at=utcnow() + timedelta(days=days),
            closed=closed,
        )
        db.add(campaign)
        db.commit()
        return campaign

    return make


@pytest.fixture
def make_invitation(db, make_campaign):
    """Create an invitation for a facility; returns the clear token."""

    def make(facility: Facility, campaign: Campaign | None = None) -> str:
        _invitation, token = create_invitation(
            db, facility, campaign or make_campaign(), audit.CLI_ACTOR
        )
        db.commit()
        return token

    return make


@functools.cache
def _correct_horse_hash() -> str:
    """Hash the test password once (with the production method; salt shared by test users)."""
    return hash_password("correct horse")


@pytest.fixture
def make_user(db):
    """Create a user with a role (and facilities for a clinic user); password 'correct horse'.

    Admins get a TOTP secret (two-step sign-in is required for them); `totp=True` gives one to
    other roles, `totp=False` leaves an admin without one (sent to set-up after the password).
    """

    def make(
        role: str,
        email: str | None = None,
        facilities=(),
        active: bool = True,
        totp: bool | None = None,
    ) -> User:
        with_totp = role == "admin" if totp is None else totp
        user = User(
            email=email or f"{role}-{uuid.uuid4().hex[:6]}@example.jp",
            role=role,
            password_hash=_correct_horse_hash(),
            is_active=active,
            totp_secret=_new_totp_secret() if with_totp else "",
        )
        db.add(user)
        db.commit()
        for facility in facilities:
            db.add(UserFacility(user_id=user.id, facility_id=facility.id))
        db.commit()
        return user

    return make


def open_user_session(session, user: User) -> None:
    """Fill a test client's session as a completed sign-in does (user, epoch, sign-in times)."""
    session["user_id"], session["epoch"] = user.id, user.session_epoch
    session[session_limits.STARTED] = session[session_limits.SEEN] = time.time()


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, url: str) -> str:
    """GET a page and return the CSRF token of its form."""
    page = client.get(url)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {page.status_code})"
    return match.group(1)


def _new_totp_secret() -> str:
    """Return a fresh TOTP secret (a name that the make_user parameter does not shadow)."""
    return totp.generate_secret()


SECRET_RE = re.compile(r'class="totp-secret"[^>]*>([A-Z2-7 ]+)<')


class CodeClock:
    """Hands out TOTP codes for time steps not used before (the server refuses reused ones)."""

    def __init__(self):
        self.used: dict[str, int] = {}

    # A code is posted a moment after it is made (longer on a loaded machine): skip a step
    # whose acceptance ends within this many seconds, or the server may already refuse it.
    MARGIN_S = 10

    def code(self, secret: str) -> str:
        """Return a code for the earliest step (now - 1 .. now + 1) after the last one used."""
        while True:
            moment = time.time()
            now = totp.time_step(moment)
            earliest = now - totp.DRIFT_STEPS
            accepted_until = (earliest + totp.DRIFT_STEPS + 1) * totp.PERIOD
            if accepted_until - moment < self.MARGIN_S:
                earliest += 1
            step = max(earliest, self.used.get(secret, -1) + 1)
            if step <= now + totp.DRIFT_STEPS:
                self.used[secret] = step
                return totp.hotp(totp.decode_secret(secret), step)
            time.sleep(1)  # more than three sign-ins of one user in 30 s: wait for a new step


@pytest.fixture
def code_clock() -> CodeClock:
    """The TOTP codes handed out in this test, so that none is used twice."""
    return CodeClock()


@pytest.fixture
def login(app, client, code_clock):
    """Sign a user in through the real forms: password, then the one-time code if asked for
    (an admin without a secret sets one up on the way, as the set-up page shows it)."""

    def do(user: User, password: str = "correct horse", using=None):
        web = using or client
        token = csrf_token(web, "/login")
        response = web.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": token}
        )
        location = response.location or ""
        if location.endswith("/login/code"):
            secret = user.totp_secret or _stored_secret(app, user.email)
            return _post_code(web, "/login/code", code_clock.code(secret))
        if location.endswith("/account/two-factor"):
            page = web.get("/account/two-factor").get_data(as_text=True)
            secret = SECRET_RE.search(page).group(1).replace(" ", "")
            return _post_code(web, "/account/two-factor", code_clock.code(secret))
        return response

    return do


@pytest.fixture
def admin(make_user, login):
    """An admin signed in on `client` through the real forms (password, then a code)."""
    user = make_user("admin")
    login(user)
    return user


def _stored_secret(app, email: str) -> str:
    """Read a user's TOTP secret as stored now (set up during the test)."""
    with Session(app.extensions["pmh_engine"]) as session:
        return session.exec(select(User.totp_secret).where(User.email == email)).one()


def _post_code(client, url: str, code: str):
    """Submit a one-time code on the code or set-up page."""
    return client.post(url, data={"code": code, "csrf_token": csrf_token(client, url)})


KINSHICHO = (35.6969, 139.8140)  # 錦糸町駅 (approximately)
BASE = {"postpartum": "yes", "visibility": "public", "answered_by": "事務"}


@pytest.fixture
def answer(db, questionnaire):
    """Store answers for a facility (on top of its current version)."""

    def do(facility: Facility, base: int = 0, **answers):
        submit_answers(
            db,
            facility,
            questionnaire,
            {**BASE, "pregnant": "no", **answers},
            audit.CLI_ACTOR,
            base,
        )
        db.commit()

    return do


@pytest.fixture
def reindex(app, db):
    """Rebuild the search index from the database."""
    return lambda: rebuild(db, app.extensions["pmh_index"])


@pytest.fixture
def town(make_facility, answer):
    """Five facilities around 錦糸町 and one far away, with varied answers."""
    made = {
        "near": make_facility(
            name="錦糸町こころのクリニック",
            kana="キンシチョウココロノクリニック",
            lat=35.6975,
            lng=139.8150,
            municipality_code="13107",
        ),
        "kameido": make_facility(
            name="亀戸メンタルクリニック",
            kana="カメイドメンタルクリニック",
            lat=35.6975,
            lng=139.8262,
            municipality_code="13108",
        ),
        "oshiage": make_facility(
            name="押上さくら心療内科",
            kana="オシアゲサクラシンリョウナイカ",
            lat=35.7100,
            lng=139.8130,
            municipality_code="13107",
        ),
        "hachioji": make_facility(
            name="八王子ひかり病院",
            kana="ハチオウジヒカリビョウイン",
            kind="hospital",
            lat=35.6664,
            lng=139.3160,
            municipality_code="13201",
            address="東京都八王子市旭町1-1",
        ),
        "private": make_facility(
            name="関係者限定クリニック",
            kana="カンケイシャゲンテイクリニック",
            lat=35.6980,
            lng=139.8145,
            municipality_code="13107",
        ),
        "nocoords": make_facility(
            name="座標なしこころクリニック", kana="ザヒョウナシココロクリニック", lat=None, lng=None
        ),
    }
    answer(
        made["near"],
        pregnant="yes",
        pregnant_trimester=["second"],
        breastfeeding_rx="yes",
        wait_days=30,
        languages=["en", "zh"],
        contact_fax="03-0000-0000",
    )
    answer(
        made["kameido"],
        pregnant="conditional",
        breastfeeding_rx="consult",
        wait_days=7,
        languages=["en"],
    )
    answer(made["oshiage"], pregnant="no", breastfeeding_rx="yes", wait_days=3)
    answer(made["hachioji"], pregnant="yes", breastfeeding_rx="yes", wait_days=10)
    answer(made["private"], pregnant="yes", visibility="professionals", wait_days=1)
    answer(made["nocoords"], pregnant="yes", wait_days=5)
    return made
