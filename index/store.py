"""The on-disk Whoosh index: open, write, rebuild atomically, hand out searchers."""

from __future__ import annotations

import gc
import os
import shutil
import threading
import uuid
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.index import EmptyIndexError, FileIndex, LockError

from index.documents import FacilityDoc
from index.errors import IndexUnavailable
from index.schema import build_schema, doc_fields
from surveys.questionnaire import Questionnaire

WRITE_TIMEOUT_S = 30.0


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
        ix = self.open()
        try:
            writer = ix.writer(timeout=timeout, compound=False)
        except LockError as exc:
            raise IndexBusy() from exc
        except (OSError, ValueError, EOFError) as exc:  # unreadable segments
            raise IndexUnavailable() from exc
        count = 0
        try:
            for facility_id in deleted_ids:
                writer.delete_by_term("id", str(facility_id))
            for doc in docs:
                writer.update_document(**doc_fields(doc, self.questionnaire))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def rebuild(self, batches: Iterable[list[FacilityDoc]]) -> int:
        """Build a complete new index beside the old one, then swap it in."""
        # A name of its own: two processes rebuilding at once must not share a folder.
        fresh = self.path.with_name(
            f"{self.path.name}.building-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        ix = whoosh_index.create_in(str(fresh), build_schema(self.questionnaire))
        writer = ix.writer(limitmb=256)
        count = 0
        try:
            for batch in batches:
                for doc in batch:
                    writer.add_document(**doc_fields(doc, self.questionnaire))
                    count += 1
        except BaseException:
            writer.cancel()
            shutil.rmtree(fresh, ignore_errors=True)
            raise
        writer.commit()
        self._swap(fresh)
        return count

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
