"""Fixed-window rate limits shared by every worker: a database table or Redis.

Each limited action has a (hits, seconds) limit in the config. A hit increments the counter of
(action, who, window) atomically and is refused once the count passes the limit, so concurrent
workers together let exactly `hits` through per window. Who is hashed before it becomes a key:
the counters hold no addresses in clear.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_babel import gettext as _
from sqlalchemy import and_, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from werkzeug.exceptions import TooManyRequests

from surveys.audit import Actor, record
from surveys.models import RateLimitCounter

_STEP_PREFIX = "totp-step:"
_PURGE_EVERY = 500


@dataclass(frozen=True)
class Limit:
    """At most `hits` per fixed window of `seconds`."""

    hits: int
    seconds: int

    @classmethod
    def parse(cls, value) -> Limit:
        """Read (hits, seconds) from config (a tuple, a list from JSON, or "hits/seconds")."""
        if isinstance(value, str):
            value = value.split("/")
        hits, seconds = (int(part) for part in value)
        return cls(hits, seconds)


@dataclass(frozen=True)
class Verdict:
    """The outcome of one hit."""

    allowed: bool
    count: int
    retry_after: int
    # True for the first refused hit of a window: the one worth an audit event.
    first_refusal: bool


class DatabaseStorage:
    """Counters in the `ratelimitcounter` table: one upsert per hit, safe across workers."""

    def __init__(self, engine: Engine):
        self.engine, self._hits = engine, 0

    def incr(self, key: str, window_start: int, ttl: int) -> int:
        """Add one to a window's counter and return the new count."""
        table = RateLimitCounter.__table__
        stmt = self._insert()(table).values(key=key, window_start=window_start, hits=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.key, table.c.window_start], set_={"hits": table.c.hits + 1}
        ).returning(table.c.hits)
        with self.engine.begin() as conn:
            count = conn.execute(stmt).scalar_one()
        self._maybe_purge(window_start - ttl)
        return count

    def advance(self, key: str, value: int, ttl: int) -> bool:
        """Store `value` if it is above the stored one; tell whether it was (atomic)."""
        table = RateLimitCounter.__table__
        insert = self._insert()(table).values(key=key, window_start=0, hits=value)
        raise_it = (
            update(table)
            .where(and_(table.c.key == key, table.c.window_start == 0, table.c.hits < value))
            .values(hits=value)
        )
        # RETURNING says whether a row was written (rowcount is not reliable on every driver).
        with self.engine.begin() as conn:
            if conn.execute(insert.on_conflict_do_nothing().returning(table.c.hits)).first():
                return True
            return conn.execute(raise_it.returning(table.c.hits)).first() is not None

    def peek(self, key: str) -> int:
        """Return the value `advance` stored under `key` (0 when none)."""
        table = RateLimitCounter.__table__
        query = select(table.c.hits).where(and_(table.c.key == key, table.c.window_start == 0))
        with self.engine.connect() as conn:
            return conn.execute(query).scalar() or 0

    def close(self) -> None:
        """Nothing to release: the app's engine is shared."""

    def _insert(self):
        """Return the dialect's INSERT (both know ON CONFLICT)."""
        return pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert

    def _maybe_purge(self, before: int) -> None:
        """Now and then, delete counters of windows long past."""
        self._hits += 1
        if self._hits % _PURGE_EVERY:
            return
        table = RateLimitCounter.__table__
        with self.engine.begin() as conn:
            conn.execute(
                delete(table).where(
                    and_(table.c.window_start > 0, table.c.window_start < before - 86_400)
                )
            )
            # Waits (`hold_until`) hold a time in `hits`: drop those long over.
            ended = and_(table.c.window_start == 0, table.c.key.startswith("rl:"))
            conn.execute(delete(table).where(and_(ended, table.c.hits < before - 86_400)))


class RedisStorage:
    """Counters in Redis: INCR and EXPIRE in one MULTI/EXEC pipeline."""

    # Compare-and-set "only upwards" in one step (Redis runs a script atomically).
    _ADVANCE = (
        "local v = tonumber(redis.call('GET', KEYS[1]) or '-1') "
        "if tonumber(ARGV[1]) > v then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) "
        "return 1 end return 0"
    )

    def __init__(self, url: str, prefix: str = "pmh:"):
        import redis

        self.client, self.prefix = redis.Redis.from_url(url), prefix

    def incr(self, key: str, window_start: int, ttl: int) -> int:
        """Add one to a window's counter and return the new count."""
        name = f"{self.prefix}{key}:{window_start}"
        with self.client.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, ttl)
            count, _ok = pipe.execute()
        return int(count)

    def advance(self, key: str, value: int, ttl: int) -> bool:
        """Store `value` if it is above the stored one; tell whether it was (atomic)."""
        return bool(self.client.eval(self._ADVANCE, 1, self.prefix + key, value, ttl))

    def peek(self, key: str) -> int:
        """Return the value `advance` stored under `key` (0 when none)."""
        return int(self.client.get(self.prefix + key) or 0)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


class RateLimiter:
    """Counts hits per (action, who) in fixed windows on a shared storage."""

    def __init__(self, storage, clock=time.time):
        self.storage, self.clock = storage, clock

    def hit(self, action: str, limit: Limit, who: str) -> Verdict:
        """Count one hit and say whether it is within the limit."""
        now = self.clock()
        window_start = int(now // limit.seconds * limit.seconds)
        count = self.storage.incr(_key(action, who), window_start, limit.seconds + 60)
        retry_after = max(1, math.ceil(window_start + limit.seconds - now))
        allowed = count <= limit.hits
        return Verdict(allowed, count, retry_after, count == limit.hits + 1)

    def count(self, action: str, who: str, seconds: int) -> int:
        """Count one event of `action` by `who` in the current window of `seconds`; return it."""
        window_start = int(self.clock() // seconds * seconds)
        return self.storage.incr(_key(action, who), window_start, seconds + 60)

    def hold_until(self, action: str, who: str, until: float) -> None:
        """Make `who` wait until `until` (a later wait already set is kept)."""
        ttl = max(60, int(until - self.clock()) + 60)
        self.storage.advance(_key(action, who), math.ceil(until), ttl)

    def waiting(self, action: str, who: str) -> int:
        """Return the seconds `who` must still wait (0 when free to go)."""
        return max(0, math.ceil(self.storage.peek(_key(action, who)) - self.clock()))

    def claim_totp_step(self, user_id: int, step: int) -> bool:
        """Record a used TOTP step; False if this or a later step was used before."""
        return self.storage.advance(f"{_STEP_PREFIX}{user_id}", step, 300)


def _key(action: str, who: str) -> str:
    """Return the counter key: the action and a hash of who (no addresses or IPs in clear)."""
    digest = hashlib.sha256(f"{action}\0{who}".encode()).hexdigest()[:32]
    return f"rl:{action}:{digest}"


class RateLimitExceeded(TooManyRequests):
    """Too many attempts: shown as a 429 page with Retry-After."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after=retry_after)


def init_app(app: Flask) -> None:
    """Create the limiter on the configured storage and register the 429 page."""
    url = app.config["RATELIMIT_STORAGE_URL"]
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    if url.startswith(("redis://", "rediss://", "unix://")):
        storage = RedisStorage(url, prefix)
    else:
        storage = DatabaseStorage(app.extensions["pmh_engine"])
    app.extensions["pmh_ratelimiter"] = RateLimiter(storage)
    app.register_error_handler(RateLimitExceeded, _too_many)


def limiter() -> RateLimiter:
    """Return the app's limiter."""
    return current_app.extensions["pmh_ratelimiter"]


def enforce(action: str, who: str, actor_label: str) -> None:
    """Count a hit of `action` by `who`; over the limit, audit once per window and raise 429."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return
    limit = Limit.parse(config[f"RATELIMIT_{action.upper()}"])
    verdict = limiter().hit(action, limit, who)
    if verdict.allowed:
        return
    if verdict.first_refusal:
        from search_app import db

        record(db.session(), Actor(actor_label[:200]), "auth.rate_limited", None, limit=action)
        db.session().commit()
    raise RateLimitExceeded(verdict.retry_after)


def allow(action: str, who: str) -> bool:
    """Count a hit of `action` by `who` and tell whether it is within the limit (no 429)."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return True
    limit = Limit.parse(config[f"RATELIMIT_{action.upper()}"])
    return limiter().hit(action, limit, who).allowed


def enforce_per_ip(action: str) -> None:
    """Count a hit of `action` by the client's IP address (429 past the limit)."""
    ip = client_ip()
    enforce(action, ip, f"ip:{ip}")


def client_ip() -> str:
    """Return the client's address as the server sees it (behind a proxy: TRUSTED_PROXIES)."""
    return request.remote_addr or "unknown"


def _too_many(exc: RateLimitExceeded):
    """Render the 429 page (or JSON under /api/) with Retry-After."""
    from search_app.errors import render_error

    if exc.retry_after < 60:
        message = _(
            "試行回数が多いため、%(seconds)s秒待ってからもう一度お試しください。",
            seconds=exc.retry_after,
        )
    else:
        message = _(
            "試行回数が上限に達しました。%(minutes)s分ほど待ってからもう一度お試しください。",
            minutes=math.ceil(exc.retry_after / 60),
        )
    response, status = render_error(429, message)
    response = current_app.make_response((response, status))
    response.headers["Retry-After"] = str(exc.retry_after)
    return response
