"""Recording audit events (no request globals: the caller passes the actor), in a keyed chain.

Every row carries `prev_hash` (the previous row's `row_hash`; GENESIS for the first) and
`row_hash`, the HMAC-SHA256 of a canonical JSON of its content and `prev_hash` under the audit
key. The key is not in the database (the app passes it per engine with `use_key`), so someone
who can write to the database can change, remove or insert rows but cannot recompute the chain
after them; `verify_chain` finds the first row that does not fit. Ids and MACs are assigned at
flush time while the writer holds the chain lock (PostgreSQL: a transaction-level advisory
lock; SQLite: the database write lock), so concurrent appends never fork the chain.

Rows written before the chain was keyed hold a plain SHA-256 (`legacy_hash`); `pmh audit
rekey` (surveys.audit_anchor.rekey) checks them once and re-chains them under the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from surveys.database import hold_write_lock
from surveys.errors import UserFacingError
from surveys.models import AuditEvent
from surveys.models.types import as_utc

GENESIS = "0" * 64
CHAIN_LOCK_KEY = 0x504D48_4155  # "PMH" "AU": the advisory lock of the audit chain
_BATCH = 1000
# Domain separation: the audit key derived from the secret key is used for nothing else.
_KEY_LABEL = b"pmh audit chain key v1"
_KEYS: weakref.WeakKeyDictionary[Engine, bytes] = weakref.WeakKeyDictionary()


class AuditKeyMissing(UserFacingError):
    """An audit event was written through an engine that has no audit key."""

    status = 500
    message_ja = "監査ログの鍵が設定されていません。"
    message_en = "No audit key is configured for this database connection."


def derive_key(secret_key: str) -> bytes:
    """Derive the audit key from the app's secret key (a label keeps the two uses apart)."""
    return hmac.new(secret_key.encode("utf-8"), _KEY_LABEL, hashlib.sha256).digest()


def use_key(engine: Engine, key: bytes) -> None:
    """Chain the audit rows written through this engine with this key."""
    _KEYS[engine] = key


def key_for(engine: Engine) -> bytes:
    """Return the audit key given to this engine."""
    try:
        return _KEYS[engine]
    except KeyError:
        raise AuditKeyMissing() from None


@dataclass(frozen=True)
class Actor:
    """Who acts: a signed-in user, an invitation, or the command line."""

    label: str
    user_id: int | None = None
    invitation_id: int | None = None


CLI_ACTOR = Actor(label="cli")


def record(
    session: Session, actor: Actor, action: str, target: Any = None, **detail: Any
) -> AuditEvent:
    """Add an audit event to the session; the caller's commit stores it with the change."""
    event = AuditEvent(
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        action=action,
        target_type=type(target).__name__.lower() if target is not None else "",
        target_id=str(getattr(target, "id", "") or ""),
        detail=detail,
    )
    session.add(event)
    return event


def canonical(values: dict[str, Any]) -> str:
    """Return the canonical serialisation of one row's hashed content."""
    at = values["at"]
    if isinstance(at, datetime):
        at = at.astimezone(UTC).isoformat()
    content = {
        "id": int(values["id"]),
        "at": at,
        "actor_user_id": values["actor_user_id"],
        "actor_label": values["actor_label"] or "",
        "action": values["action"],
        "target_type": values["target_type"] or "",
        "target_id": values["target_id"] or "",
        # Through JSON once, so the hash sees what the database gives back (str keys, lists).
        "detail": json.loads(json.dumps(values["detail"] or {})),
        "prev_hash": values["prev_hash"],
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def row_mac(values: dict[str, Any], key: bytes) -> str:
    """Return the HMAC-SHA256 (hex) of a row's canonical content under the audit key."""
    return hmac.new(key, canonical(values).encode("utf-8"), hashlib.sha256).hexdigest()


def legacy_hash(values: dict[str, Any]) -> str:
    """Return the unkeyed SHA-256 (hex) that rows held before the chain was keyed."""
    return hashlib.sha256(canonical(values).encode("utf-8")).hexdigest()


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, _context, _instances) -> None:
    """Give new audit events their id and place in the chain, under the chain lock."""
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    conn = session.connection()
    key = key_for(conn.engine)
    lock_chain(conn)
    head_id, head_hash = _head(conn)
    for obj in sorted(new, key=_creation_order):
        obj.id = _next_id(conn, head_id)
        obj.prev_hash = head_hash
        obj.row_hash = row_mac(_values(obj), key)
        head_id, head_hash = obj.id, obj.row_hash


def lock_chain(conn: Connection) -> None:
    """Take the lock that serialises appends to the chain until the transaction ends."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    else:
        hold_write_lock(conn)


def _head(conn: Connection) -> tuple[int, str]:
    """Return the id and hash of the chain's last row (0 and GENESIS when empty)."""
    row = conn.execute(text("SELECT id, row_hash FROM auditevent ORDER BY id DESC LIMIT 1")).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def _next_id(conn: Connection, head_id: int) -> int:
    """Return the id of the next row (taken under the chain lock, so ids follow the chain)."""
    if conn.dialect.name == "postgresql":
        query = "SELECT nextval(pg_get_serial_sequence('auditevent', 'id'))"
        return max(conn.execute(text(query)).scalar_one(), head_id + 1)
    return head_id + 1


def _creation_order(obj: AuditEvent) -> tuple[datetime, int]:
    """Order new events as they were created."""
    return (obj.at, id(obj))


def _values(obj: AuditEvent) -> dict[str, Any]:
    """Return the hashed fields of an event object."""
    return {name: getattr(obj, name) for name in HASHED}


HASHED = (
    "id",
    "at",
    "actor_user_id",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "detail",
    "prev_hash",
)


@dataclass(frozen=True)
class ChainReport:
    """The outcome of walking the chain: rows checked and the first problem found, if any."""

    count: int
    head: str
    bad_id: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        """Tell whether the whole chain verified."""
        return self.bad_id is None


UNKEYED = (
    "it holds an unkeyed hash from before the audit chain was keyed "
    "(run `pmh audit rekey` once after upgrading)"
)
CHANGED = "its content was changed, or its MAC was not made with this instance's audit key"


def verify_chain(session: Session, key: bytes) -> ChainReport:
    """Walk the chain in id order; report the first row that was changed, removed or inserted."""
    prev, count = GENESIS, 0
    for row in rows(session):
        count += 1
        if row.prev_hash != prev:
            problem = "a row before it was removed or inserted, or its link was changed"
            return ChainReport(count, prev, row.id, problem)
        if not hmac.compare_digest(row_mac(_values(row), key), row.row_hash):
            unkeyed = legacy_hash(_values(row)) == row.row_hash
            return ChainReport(count, prev, row.id, UNKEYED if unkeyed else CHANGED)
        prev = row.row_hash
    return ChainReport(count, prev)


def rows(session: Session) -> Iterator[Any]:
    """Yield every audit row (plain rows, not objects) in id order, a batch at a time."""
    table, last = AuditEvent.__table__, 0
    while True:
        batch = session.execute(
            select(table).where(table.c.id > last).order_by(table.c.id).limit(_BATCH)
        ).all()
        if not batch:
            return
        yield from batch
        last = batch[-1].id


def chain_existing(conn: Connection, key: bytes | None = None) -> int:
    """Compute prev_hash and row_hash for every row in id order (under `key`; unkeyed without).

    Migration 0004 ran it without a key, as the chain was then; `pmh audit rekey` uses the key.
    """
    found = conn.execute(text(f"SELECT {', '.join(HASHED[:-1])} FROM auditevent ORDER BY id"))
    prev, updates = GENESIS, []
    for row in found.mappings().all():
        values = dict(row, prev_hash=prev, detail=_json(row["detail"]), at=_utc(row["at"]))
        prev = row_mac(values, key) if key is not None else legacy_hash(values)
        updates.append({"id": row["id"], "p": values["prev_hash"], "h": prev})
    if updates:
        conn.execute(
            text("UPDATE auditevent SET prev_hash = :p, row_hash = :h WHERE id = :id"), updates
        )
    return len(updates)


def _json(value: Any) -> Any:
    """Decode a JSON column read as raw text (SQLite without a typed query)."""
    return json.loads(value) if isinstance(value, str) else value


def _utc(value: Any) -> datetime:
    """Read a timestamp (raw text from SQLite, or a datetime) the way UTCDateTime would."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)
