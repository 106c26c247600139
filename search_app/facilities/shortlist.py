"""The staff shortlist, kept only in the signed session cookie (nothing about a mother is stored
on the server). Signed is not encrypted: notes are readable on the device, so the page asks
for no personal details. The list ends with the session (sign-out clears it)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from flask.sessions import SessionMixin

from surveys.errors import UserFacingError

SESSION_KEY = "shortlist"
MAX_ITEMS = 10
NOTE_MAX = 200
# Browsers drop cookies over 4096 bytes silently; keep room for the cookie's name and flags.
COOKIE_BUDGET = 3800


class ShortlistError(UserFacingError):
    """A shortlist change that cannot be made; the message says why."""


class ShortlistFull(ShortlistError):
    """The shortlist already holds the most facilities it may."""

    message_ja = (
        f"候補リストには{MAX_ITEMS}件まで追加できます。不要な候補を外してから追加してください。"
    )
    message_en = f"The shortlist holds up to {MAX_ITEMS} facilities. Remove one first."


class ShortlistTooLarge(ShortlistError):
    """The notes no longer fit in the browser cookie."""

    message_ja = "メモが多すぎて保存できません。ほかのメモを短くしてください。"
    message_en = "The notes are too long to keep. Please shorten some notes."


@dataclass
class Entry:
    """One shortlisted facility with the nurse's note and whether to print that note."""

    facility_id: int
    note: str = ""
    print_note: bool = False


@dataclass
class Shortlist:
    """An ordered list of entries (the order they were added)."""

    entries: list[Entry]

    @classmethod
    def from_session(cls, session: SessionMixin) -> Shortlist:
        """Read the list from the session; anything malformed is dropped."""
        raw = session.get(SESSION_KEY)
        entries = [_entry(row) for row in raw] if isinstance(raw, list) else []
        return cls([e for e in entries if e is not None][:MAX_ITEMS])

    def save(self, session: SessionMixin, app: Flask) -> None:
        """Write the list into the session, refusing what would not fit in the cookie."""
        rows = [[e.facility_id, e.note, e.print_note] for e in self.entries]
        if _cookie_size(app, {**session, SESSION_KEY: rows}) > COOKIE_BUDGET:
            raise ShortlistTooLarge()
        session[SESSION_KEY] = rows

    @property
    def ids(self) -> list[int]:
        """Facility ids in order."""
        return [e.facility_id for e in self.entries]

    def get(self, facility_id: int) -> Entry | None:
        """Return the entry of a facility, if listed."""
        return next((e for e in self.entries if e.facility_id == facility_id), None)

    def add(self, facility_id: int) -> bool:
        """Add a facility; return False when it was already listed."""
        if self.get(facility_id):
            return False
        if len(self.entries) >= MAX_ITEMS:
            raise ShortlistFull()
        self.entries.append(Entry(facility_id))
        return True

    def remove(self, facility_id: int) -> None:
        """Remove a facility (no error when absent)."""
        self.entries = [e for e in self.entries if e.facility_id != facility_id]

    def set_note(self, facility_id: int, note: str, print_note: bool) -> bool:
        """Set a facility's note; return False when it is not listed."""
        entry = self.get(facility_id)
        if entry is None:
            return False
        entry.note, entry.print_note = note.strip()[:NOTE_MAX], print_note
        return True


def _entry(row) -> Entry | None:
    """Parse one stored row [id, note, print_note]."""
    if not isinstance(row, list) or len(row) != 3 or not isinstance(row[0], int):
        return None
    note = row[1] if isinstance(row[1], str) else ""
    return Entry(row[0], note[:NOTE_MAX], row[2] is True)


def _cookie_size(app: Flask, data: dict) -> int:
    """Return the length of the session cookie value these data would produce."""
    serializer = app.session_interface.get_signing_serializer(app)
    return len(serializer.dumps(data)) if serializer else 0
