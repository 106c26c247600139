"""Fingerprints of the secret and audit keys, kept with the data so a restore can compare them.

A backup carries the fingerprints of the keys in use when it was made; restoring it under other
keys would silently break share links, set-password links and the audit chain, so the restore
says so. A fingerprint is an HMAC of a fixed label: it tells keys apart and reveals nothing.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from surveys.models import KeyMark, utcnow

_LABEL = b"pmh key fingerprint v1"


def fingerprint(key: bytes) -> str:
    """Return a short fingerprint of a key."""
    return hmac.new(key, _LABEL, hashlib.sha256).hexdigest()[:16]


def record(engine: Engine, marks: dict[str, str]) -> None:
    """Store these fingerprints (by key name), replacing older ones."""
    with Session(engine) as session:
        for name, value in marks.items():
            row = session.get(KeyMark, name) or KeyMark(name=name, fingerprint=value)
            row.fingerprint, row.recorded_at = value, utcnow()
            session.add(row)
        session.commit()


def differing(engine: Engine, marks: dict[str, str]) -> list[str]:
    """Return the names whose stored fingerprint differs from the given one (none stored: ok)."""
    with Session(engine) as session:
        stored = {row.name: row.fingerprint for row in session.exec(select(KeyMark))}
    return [name for name, value in marks.items() if stored.get(name, value) != value]
