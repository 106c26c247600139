"""Keep the index in step with the database through the outbox; rebuild; compare."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from index.documents import all_facility_ids, load_docs, load_signals, stamp_of
from index.store import WRITE_TIMEOUT_S, SearchIndex
from surveys.models import Facility, IndexOutbox, utcnow
from surveys.operations import current_responses

BATCH = 500


def sync_outbox(
    session: Session,
    search_index: SearchIndex,
    limit: int | None = None,
    lock_timeout: float = WRITE_TIMEOUT_S,
) -> int:
    """Apply pending outbox rows to the index, then mark them done; return facilities updated.

    The index commit comes first: a crash before the rows are marked only means they are
    applied again next time (updates are idempotent), never that one is lost. IndexBusy
    (another process holds the write lock for `lock_timeout` s) leaves the rows pending.
    """
    updated = 0
    while limit is None or updated < limit:
        rows = session.exec(
            select(IndexOutbox)
            .where(col(IndexOutbox.processed_at).is_(None))
            .order_by(IndexOutbox.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        updated += _apply(session, search_index, rows, lock_timeout)
    return updated


def _apply(
    session: Session, search_index: SearchIndex, rows: list[IndexOutbox], lock_timeout: float
) -> int:
    """Write the documents of one batch of outbox rows and mark the rows processed."""
    ids = sorted({row.facility_id for row in rows})

    def load() -> tuple[list, set[int]]:
        # Read under the index write lock: a version committed and synced by another process
        # after this read would otherwise be overwritten by these older documents. Each read
        # sees the latest commit (PostgreSQL READ COMMITTED; SQLite reads outside BEGIN).
        docs = load_docs(session, ids, search_index.questionnaire)
        return docs, set(ids) - {doc.id for doc in docs}

    search_index.write_loaded(load, timeout=lock_timeout)
    session.exec(
        update(IndexOutbox)
        .where(col(IndexOutbox.id).in_([row.id for row in rows]))
        .values(processed_at=utcnow())
    )
    session.commit()
    return len(ids)


def pending_count(session: Session) -> int:
    """Return how many outbox rows wait to be applied."""
    query = select(func.count()).where(col(IndexOutbox.processed_at).is_(None))
    return session.exec(query.select_from(IndexOutbox)).one()


def rebuild(session: Session, search_index: SearchIndex) -> int:
    """Rebuild the whole index from the database; return the number of documents.

    Only outbox rows visible before the rebuild read the data are marked done; later ones stay
    pending for the next sync.
    """
    seen = list(session.exec(select(IndexOutbox.id).where(col(IndexOutbox.processed_at).is_(None))))
    count = search_index.rebuild(_batches(session, search_index))
    for start in range(0, len(seen), BATCH):
        session.exec(
            update(IndexOutbox)
            .where(col(IndexOutbox.id).in_(seen[start : start + BATCH]))
            .values(processed_at=utcnow())
        )
    session.commit()
    return count


def _batches(session: Session, search_index: SearchIndex) -> Iterator[list]:
    """Yield documents of every facility, a batch at a time."""
    ids = all_facility_ids(session)
    for start in range(0, len(ids), BATCH):
        yield load_docs(session, ids[start : start + BATCH], search_index.questionnaire)


@dataclass(frozen=True)
class Difference:
    """One way the index disagrees with the database."""

    facility_id: int
    problem: str  # "missing", "stale" or "extra"


def check(session: Session, search_index: SearchIndex) -> list[Difference]:
    """Compare every facility's state in the database with the index."""
    indexed = search_index.stamps()
    expected = _expected_stamps(session)
    problems = [Difference(i, "missing") for i in expected if i not in indexed]
    problems += [
        Difference(i, "stale") for i in expected if i in indexed and indexed[i] != expected[i]
    ]
    problems += [Difference(i, "extra") for i in indexed if i not in expected]
    return sorted(problems, key=lambda d: d.facility_id)


def _expected_stamps(session: Session) -> dict[int, str]:
    """Return the stamp each facility's document should carry."""
    stamps = {}
    ids = all_facility_ids(session)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        facilities = session.exec(select(Facility).where(col(Facility.id).in_(chunk))).all()
        responses = current_responses(session, chunk)
        signals = load_signals(session, chunk)
        stamps.update(
            {f.id: stamp_of(f, responses.get(f.id), signals.get(f.id)) for f in facilities}
        )
    return stamps
