"""Whoosh's W3 codec for our writers: the same files, without one stat() per posting.

When a writer flushes its postings, Whoosh asks the segment's per-document reader for each
posting's field length. Its reader caches a length column it found, but not one that is absent
(every unscored field: ids, filter keywords, numbers), so each of those postings costs a
stat() of the column file: about a million per 10,000 facilities. This reader remembers the
absent columns too. Segments still name Whoosh's own codec, so what is written is exactly what
W3Codec writes and any Whoosh reader opens it.
"""

from __future__ import annotations

from whoosh.codec.whoosh3 import W3Codec, W3PerDocReader, W3Segment


class IndexCodec(W3Codec):
    """W3Codec whose per-document reader caches absent columns."""

    def per_document_reader(self, storage, segment):
        """Return a reader that asks the storage about each column at most once."""
        return _PerDocReader(storage, segment)

    def new_segment(self, storage, indexname):
        """Return a segment that reads back through Whoosh's plain codec."""
        plain = W3Codec(self._blocklimit, self._compression, self._inlinelimit)
        return W3Segment(plain, indexname)


class _PerDocReader(W3PerDocReader):
    """W3PerDocReader that remembers which columns a segment has (it never gains one)."""

    def __init__(self, storage, segment):
        super().__init__(storage, segment)
        self._present: dict[str, bool] = {}

    def has_column(self, fieldname):
        """Tell whether the segment has this column, checking the storage once."""
        found = self._present.get(fieldname)
        if found is None:
            found = self._present[fieldname] = super().has_column(fieldname)
        return found
