"""A rebuild writes several segments with our codec: same files, fewer stat() calls, no merge."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import FileStorage

from index import store
from index.codec import IndexCodec
from index.schema import build_schema, doc_fields
from index.searcher import Searcher, SearchRequest
from index.store import SearchIndex
from tests.test_engine import Q, engine_results, make_doc, whoosh_results


class CountingStorage(FileStorage):
    """A real folder storage that counts how often a writer asks whether a file exists."""

    exists_calls = 0

    def file_exists(self, name):
        self.exists_calls += 1
        return super().file_exists(name)


def _write_with(codec, folder: Path, count: int) -> CountingStorage:
    """Write `count` documents in one segment with the codec; return the storage used."""
    folder.mkdir()
    storage = CountingStorage(str(folder))
    ix = storage.create_index(build_schema(Q))
    writer = ix.writer(codec=codec, compound=False)
    rng = random.Random(7)
    for i in range(count):
        writer.add_document(**doc_fields(make_doc(rng, i + 1), Q))
    storage.exists_calls = 0  # count the flush only
    writer.commit()
    return storage


def test_flushing_postings_does_not_stat_a_file_per_posting(tmp_path):
    few = _write_with(IndexCodec(), tmp_path / "few", 20).exists_calls
    many = _write_with(IndexCodec(), tmp_path / "many", 200).exists_calls
    plain = _write_with(W3Codec(), tmp_path / "plain", 200).exists_calls
    assert few == many  # once per column, whatever the number of postings
    assert plain > 20 * many  # Whoosh's own reader asks again for every posting


def test_our_codec_writes_the_same_files_as_whoosh(tmp_path):
    ours, plain = (
        _write_with(codec, tmp_path / name, 150)
        for name, codec in (("ours", IndexCodec()), ("plain", W3Codec()))
    )
    assert _segment_files(ours) == _segment_files(plain)


def _segment_files(storage: FileStorage) -> dict[str, bytes]:
    """Return the segment files' contents by extension (segment ids are random)."""
    ix = storage.open_index()
    (segment,) = ix._segments()
    prefix = f"{segment.indexname}_{segment.segment_id()}"
    return {
        name.removeprefix(prefix): storage.open_file(name).read()
        for name in storage.list()
        if name.startswith(prefix)
    }


def _docs(count: int, seed: int = 2) -> list:
    rng = random.Random(seed)
    return [make_doc(rng, i + 1) for i in range(count)]


def test_rebuild_in_segments_reads_back_in_plain_whoosh(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "REBUILD_SEGMENT_DOCS", 40)
    index = SearchIndex(tmp_path / "index", Q)
    docs = _docs(130)
    assert index.rebuild([docs[:70], docs[70:]]) == 130
    assert [s.doc_count_all() for s in index.open()._segments()] == [40, 40, 40, 10]
    searcher = Searcher(index)
    request = SearchRequest(q="クリニック", professional=True)
    assert engine_results(searcher, request)[0] == whoosh_results(index, request)[0]
    searcher.close()
    # Another process with nothing but Whoosh opens it: the segments name only Whoosh's codec.
    script = (
        "import sys; from whoosh import index; ix = index.open_dir(sys.argv[1]); "
        "n = sum(1 for _ in ix.searcher().all_stored_fields()); "
        "print(n, 'index.codec' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(index.path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["130", "False"]


def test_an_empty_rebuild_leaves_an_empty_index(tmp_path):
    index = SearchIndex(tmp_path / "index", Q)
    assert index.rebuild([[]]) == 0
    assert index.stamps() == {}


def test_updates_merge_their_small_segments_but_not_the_rebuilds(tmp_path, monkeypatch):
    monkeypatch.setattr(store, "REBUILD_SEGMENT_DOCS", 40)
    index = SearchIndex(tmp_path / "index", Q)
    docs = _docs(400)
    index.rebuild([docs])
    built = {s.segment_id() for s in index.open()._segments()}
    assert len(built) == 10
    for step in range(1, 9):
        doc = docs[step * 37]
        index.write([replace(doc, name=f"ゆりかご{step}クリニック", stamp="s1")])
        index.reset()
    segments = index.open()._segments()
    # Whoosh's own policy would fold all ten rebuild segments into one merge by now.
    assert built <= {s.segment_id() for s in segments}
    assert len(segments) < 10 + 8  # the single-document segments were merged
    searcher = Searcher(index)
    request = SearchRequest(q="ゆりかご", professional=True)
    ids, _ = engine_results(searcher, request)
    assert ids == whoosh_results(index, request)[0] == {docs[s * 37].id for s in range(1, 9)}
    searcher.close()
