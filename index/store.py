"""The on-disk Whoosh index: open, write, rebuild atomically, hand out searchers."""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import threading
import uuid
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import EmptyIndexError, FileIndex, LockError
from whoosh.reading import TermNotFound
from whoosh.util.filelock import try_for
from whoosh.writing import MERGE_SMALL

from index.codec import IndexCodec
from index.documents import FacilityDoc
from index.errors import IndexUnavailable
from index.schema import build_schema, doc_fields
from surveys.questionnaire import Questionnaire

WRITE_TIMEOUT_S = 30.0
# A rebuild commits a segment per this many documents: each segment's postings are sorted in
# memory (a rebuild's peak is about 280 MB above the process's own; POOL_MB is the spill
# threshold in Whoosh's estimate, far above it) instead of spilling pickled runs to disk and
# merging them, which took a third of a single-segment rebuild.
REBUILD_SEGMENT_DOCS = 5_000
POOL_MB = 512


class IndexBusy(IndexUnavailable):
    """Another process holds the index write lock; the change waits in the outbox."""


@contextmanager
def quiet_leaks() -> Iterator[None]:
    """Collect file handles Whoosh leaves open when it fails on a damaged file, silently."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            yield
        finally:
            gc.collect()


class SearchIndex:
    """One index folder; safe to share between threads of a process."""

    def __init__(self, path: Path, questionnaire: Questionnaire):
        self.path = Path(path)
        self.questionnaire = questionnaire
        self._lock = threading.Lock()
        self._ix: FileIndex | None = None

    def exists(self) -> bool:
        """Tell whether an index has been built here."""
        return self.path.is_dir() and whoosh_index.exists_in(str(self.path))

    def open(self) -> FileIndex:
        """Return the index, or raise IndexUnavailable when it is missing or unreadable."""
        with self._lock:
            if self._ix is None:
                self._ix = self._open_fresh()
            return self._ix

    def _open_fresh(self) -> FileIndex:
        """Open the folder's index, refusing one built for another schema."""
        try:
            ix = whoosh_index.open_dir(str(self.path))
        except (EmptyIndexError, OSError, ValueError, EOFError) as exc:
            raise IndexUnavailable() from exc
        if set(ix.schema.names()) != set(build_schema(self.questionnaire).names()):
            raise IndexUnavailable()
        return ix

    def probe(self) -> bool:
        """Tell whether the index opens and every stored document reads back."""
        self.reset()
        with quiet_leaks():
            readable = self._readable()
            if not readable:
                self.reset()
        return readable

    def _readable(self) -> bool:
        """Read every stored document; False on any damage (the exception dies here)."""
        try:
            self.stamps()
        except Exception:  # any damage counts: missing, truncated or garbled files
            return False
        return True

    def reset(self) -> None:
        """Forget the open index (after a rebuild swapped the folder)."""
        with self._lock:
            self._ix = None

    def write(
        self,
        docs: Iterable[FacilityDoc],
        deleted_ids: Iterable[int] = (),
        timeout: float = WRITE_TIMEOUT_S,
    ) -> int:
        """Add or replace documents and delete others, in one commit; return docs written.

        Raises IndexBusy when another process holds the write lock for `timeout` seconds.
        """
        return self.write_loaded(lambda: (list(docs), list(deleted_ids)), timeout)

    def write_loaded(self, load: Loader, timeout: float = WRITE_TIMEOUT_S) -> int:
        """Call `load` while holding the write lock, then write what it returns, in one commit.

        Documents read from the database under the lock cannot be overtaken by a newer version
        written by another process in between; an indexed document newer than the one loaded
        is kept all the same (never an older answer over a newer one).
        """
        writer = self._writer(timeout)
        try:
            docs, deleted_ids = load()
            count = self._apply_to(writer, docs, deleted_ids)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=merge_small_segments)
        return count

    def _writer(self, timeout: float):
        """Open a writer, translating lock and damage errors into IndexUnavailable."""
        ix = self.open()
        try:
            return ix.writer(timeout=timeout, compound=False, codec=IndexCodec())
        except LockError as exc:
            raise IndexBusy() from exc
        except (OSError, ValueError, EOFError) as exc:  # unreadable segments
            raise IndexUnavailable() from exc

    def _apply_to(self, writer, docs: Iterable[FacilityDoc], deleted_ids: Iterable[int]) -> int:
        """Delete and replace documents through an open writer; return docs written."""
        docs = list(docs)
        indexed = _indexed_stamps(writer.reader(), docs)
        for facility_id in deleted_ids:
            writer.delete_by_term("id", str(facility_id))
        count = 0
        for doc in docs:
            if not _older(doc.stamp, indexed.get(doc.id)):
                writer.update_document(**doc_fields(doc, self.questionnaire))
                count += 1
        return count

    def rebuild(self, batches: Iterable[list[FacilityDoc]]) -> int:
        """Build a complete new index beside the old one, then swap it in."""
        # A name of its own: two processes rebuilding at once must not share a folder.
        fresh = self.path.with_name(
            f"{self.path.name}.building-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        with self._live_lock_held():
            try:
                count = self._build_in(fresh, batches)
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            self._swap(fresh)
        return count

    def _build_in(self, folder: Path, batches: Iterable[list[FacilityDoc]]) -> int:
        """Write every document into a new index in `folder`, a segment per few thousand."""
        ix = whoosh_index.create_in(str(folder), build_schema(self.questionnaire))
        count, writer = 0, None
        try:
            for batch in batches:
                for doc in batch:
                    if writer is None:
                        writer = _rebuild_writer(ix)
                    writer.add_document(**doc_fields(doc, self.questionnaire))
                    count += 1
                    if count % REBUILD_SEGMENT_DOCS == 0:
                        writer.commit(merge=False)
                        writer = None
        except BaseException:
            if writer is not None:
                writer.cancel()
            raise
        if writer is None and not count:
            writer = _rebuild_writer(ix)  # no facilities: still an index, with no documents
        if writer is not None:
            writer.commit(merge=False)
        return count

    @contextmanager
    def _live_lock_held(self) -> Iterator[None]:
        """Hold the live index's write lock, if it has one, while a rebuild reads and swaps.

        A sync meanwhile waits or leaves its change in the outbox; without this it could write
        a newer document into the old folder that the rebuild then replaces with an older one.
        """
        lock = None
        with contextlib.suppress(IndexUnavailable):  # missing or damaged: nobody can write
            candidate = self.open().lock("WRITELOCK")
            if try_for(candidate.acquire, timeout=WRITE_TIMEOUT_S, delay=0.1):
                lock = candidate
        try:
            yield
        finally:
            if lock is not None:
                lock.release()

    def _swap(self, fresh: Path) -> None:
        """Replace the live folder with the freshly built one."""
        old = self.path.with_name(f"{self.path.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
        shutil.rmtree(old, ignore_errors=True)
        with self._lock:
            if self.path.exists():
                self.path.rename(old)
            fresh.rename(self.path)
            self._ix = None
        shutil.rmtree(old, ignore_errors=True)

    def stamps(self) -> dict[int, str]:
        """Return {facility id: stamp} of every indexed document."""
        with self.open().reader() as reader:
            return {int(f["id"]): f["stamp"] for f in reader.all_stored_fields()}


Loader = Callable[[], tuple[list[FacilityDoc], Iterable[int]]]


def _rebuild_writer(ix: FileIndex):
    """Open a writer for one segment of a rebuild (separate files: updates open them in ms)."""
    return ix.writer(limitmb=POOL_MB, compound=False, codec=IndexCodec())


def merge_small_segments(writer, segments: list) -> list:
    """Merge small segments as Whoosh does, leaving a rebuild's full-size segments alone.

    Whoosh's policy would fold every segment into one big merge once there are about twenty
    (its threshold grows like the Fibonacci numbers), which a large rebuild's segments reach.
    """
    large = [s for s in segments if s.doc_count_all() >= REBUILD_SEGMENT_DOCS]
    small = [s for s in segments if s.doc_count_all() < REBUILD_SEGMENT_DOCS]
    return large + MERGE_SMALL(writer, small)


def _indexed_stamps(reader, docs: list[FacilityDoc]) -> dict[int, str]:
    """Return the stamps the index holds now for these documents' facilities."""
    stamps = {}
    with reader:
        for doc in docs:
            try:
                number = reader.first_id("id", str(doc.id))
            except TermNotFound:  # a single segment's reader raises where others say None
                number = None
            if number is not None:
                stamps[doc.id] = reader.stored_fields(number)["stamp"]
    return stamps


def _older(stamp: str, indexed: str | None) -> bool:
    """Tell whether a document stamp is older than the indexed one (answer version first)."""
    new, old = _stamp_key(stamp), _stamp_key(indexed or "")
    return new is not None and old is not None and new < old


def _stamp_key(stamp: str) -> tuple[int, int, int, str] | None:
    """Order stamps 'master-data time|pP.oO|vN' by answer version, newest pulse answer,
    answered outcomes, then master-data time (the newer of two loads is never older in any)."""
    rest, _, version = stamp.rpartition("|v")
    updated, _, signals = rest.partition("|p")
    pulse, _, counts = signals.partition(".o")
    outcomes = counts.partition(".r")[0]  # open reports go up and down: not an order
    try:
        return int(version), int(pulse or 0), int(outcomes or 0), updated
    except ValueError:  # not a stamp of ours: nothing to compare
        return None
