"""Compare Japanese analyzers on a synthetic clinic corpus: quality, build and query speed.

Run: .venv/bin/python -m tests.bench.analyzers [--docs 3000] [--out results.json]
Needs janome for the morphological variants (pip install janome); they are skipped without it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from unittest import mock

from whoosh import index, query
from whoosh.fields import ID, TEXT, Schema

from index import text
from tests.bench.corpus import Doc, Probe, corpus, probes

GROUPS = ["name", "kana", "address", "body"]


@lru_cache(maxsize=1)
def _janome():
    """Return a janome tokenizer (imported only when a janome variant runs)."""
    from janome.tokenizer import Tokenizer

    return Tokenizer(wakati=True)


def janome_words(raw: str) -> list[str]:
    """Split NFKC text with janome (before kana folding, which janome would not know)."""
    nfkc = unicodedata.normalize("NFKC", raw)
    return [w for t in _janome().tokenize(nfkc) if (w := text.normalize(t).strip())]


class UniBigramTokenizer(text.JaTokenizer):
    """(a) Every character and every bigram of the normalised text, no words."""

    def terms(self, value: str, index: bool = True) -> list[str]:
        """Return unigrams and bigrams (a query uses bigrams, or the unigram if one char)."""
        out: list[str] = []
        for run, cjk in text.pieces(text.normalize(value)):
            if not cjk:
                out.append(run)
            elif index:
                out.extend(list(run) + text.bigrams(run, False))
            else:
                out.extend(text.bigrams(run, False))
        return out


class JanomeTokenizer(text.JaTokenizer):
    """(b) janome words, normalised; no grams."""

    def terms(self, value: str, index: bool = True) -> list[str]:
        """Return the normalised janome words that contain a letter, digit or kana."""
        return [w for w in janome_words(value) if text.pieces(w)]


class BigramJanomeTokenizer(text.JaTokenizer):
    """(d) Bigrams as in the product, words from janome instead of the dictionary."""

    def terms(self, value: str, index: bool = True) -> list[str]:
        """Return product bigrams plus marked janome words."""
        grams = text.JaTokenizer(words=False).terms(value, index)
        return grams + [text.WORD_MARK + w for w in JanomeTokenizer().terms(value)]


def _field(tokenizer: text.JaTokenizer, group: str) -> TEXT:
    """Return a field like the product's, with another tokenizer."""
    kind = text.GROUP_KINDS[group]
    return TEXT(analyzer=tokenizer, phrase=False, field_boost=text.FIELD_BOOSTS[kind])


def _and_terms(field: str, terms: list[str]) -> query.Query | None:
    """AND the distinct terms, None if there are none."""
    return text._all([query.Term(field, t) for t in dict.fromkeys(terms)])


def query_terms(tokenizer: text.JaTokenizer) -> Callable[[str, list[str]], query.Query | None]:
    """Return a query builder: each word's query-mode terms ANDed per field, OR across."""

    def build(q: str, groups: list[str]) -> query.Query | None:
        words = text.split_words(q)
        per_word = [
            text._any(_and_terms(g, tokenizer.terms(w, index=False)) for g in groups) for w in words
        ]
        return text._all([c for c in per_word if c is not None])

    return build


def raw_words(q: str) -> list[str]:
    """Split a query like text.split_words but keep the NFKC form janome understands."""
    words = unicodedata.normalize("NFKC", q).split()
    return [w for w in words if w.upper() not in {"AND", "OR", "NOT"}][: text.MAX_QUERY_WORDS]


def janome_query(q: str, groups: list[str]) -> query.Query | None:
    """Return janome words of each word ANDed per field, OR across fields."""
    per_word = [
        text._any(_and_terms(g, JanomeTokenizer().terms(w)) for g in groups) for w in raw_words(q)
    ]
    return text._all([c for c in per_word if c is not None])


def janome_grams_query(q: str, groups: list[str]) -> query.Query | None:
    """Return the product query with janome words in the boosted clause."""
    per_word = []
    for word in raw_words(q):
        clauses = []
        for g in groups:
            words = [text.WORD_MARK + w for w in janome_words(word)] if g != "kana" else []
            precise = _and_terms(g, words)
            if precise is not None:
                precise.boost = text.WORD_BOOST
            clauses.append(text._any([text._gram_clause(g, text.normalize(word)), precise]))
        per_word.append(text._any(clauses))
    return text._all([c for c in per_word if c is not None])


@dataclass
class Variant:
    """One analyzer set-up: how fields tokenise and how a query is built."""

    name: str
    tokenizer: Callable[[str], text.JaTokenizer]
    build: Callable[[str, list[str]], query.Query | None]
    needs_janome: bool = False


def variants() -> list[Variant]:
    """Return the set-ups compared."""
    uni = UniBigramTokenizer()
    jan = JanomeTokenizer()
    return [
        Variant("a: 1-2-grams", lambda g: uni, query_terms(uni)),
        Variant("a': 2-grams+prefix", lambda g: text.JaTokenizer(False), _grams_only),
        Variant("b: janome", lambda g: jan, janome_query, needs_janome=True),
        Variant("c: 2-grams+dict words", _product_tokenizer, text.text_query),
        Variant("c0: c without synonyms", _product_tokenizer, _no_synonyms),
        Variant("d: 2-grams+janome words", _bj_tokenizer, janome_grams_query, needs_janome=True),
    ]


def _grams_only(q: str, groups: list[str]) -> query.Query | None:
    """Return the product query without the word clause (grams and prefix only)."""
    per_word = [text._any(text._gram_clause(g, w) for g in groups) for w in text.split_words(q)]
    return text._all([c for c in per_word if c is not None])


def _no_synonyms(q: str, groups: list[str]) -> query.Query | None:
    """Return the product query with the diagnosis synonym table switched off."""
    with mock.patch.object(text, "synonyms", lambda word: (word,)):
        return text.text_query(q, groups)


def _product_tokenizer(group: str) -> text.JaTokenizer:
    """Return the product tokenizer of a group."""
    return text.text_field(text.GROUP_KINDS[group]).analyzer


def _bj_tokenizer(group: str) -> text.JaTokenizer:
    """Return the bigram + janome tokenizer (grams only for kana, as in the product)."""
    return BigramJanomeTokenizer() if group != "kana" else text.JaTokenizer(False)


def tokenise_speed(variant: Variant, docs: list[Doc]) -> float:
    """Return characters per second the variant's tokenizers process (all groups)."""
    chars, start = 0, time.perf_counter()
    for d in docs:
        for g in GROUPS:
            value = d.texts()[g]
            chars += len(value)
            variant.tokenizer(g).terms(value)
    return chars / (time.perf_counter() - start)


def build(variant: Variant, docs: list[Doc], where: Path) -> tuple[index.Index, float]:
    """Build an on-disk index of the documents; return it and the seconds taken."""
    fields = {g: _field(variant.tokenizer(g), g) for g in GROUPS}
    schema = Schema(id=ID(stored=True, unique=True), **fields)
    start = time.perf_counter()
    ix = index.create_in(where, schema)
    with ix.writer(limitmb=256) as w:
        for d in docs:
            texts = d.texts()
            w.add_document(id=d.id, **{g: texts[g] for g in GROUPS})
    return ix, time.perf_counter() - start


def grade(ix: index.Index, variant: Variant, probe_list: list[Probe]) -> dict:
    """Return quality figures and per-probe results for one index."""
    rows = []
    with ix.searcher() as s:
        for p in probe_list:
            q = variant.build(p.q, GROUPS)
            hits = [h["id"] for h in s.search(q, limit=None)] if q is not None else []
            rows.append(_probe_row(p, hits))
    return {
        "recall": statistics.mean(r["recall"] for r in rows),
        "p_at_10": statistics.mean(r["p_at_10"] for r in rows),
        "mrr": statistics.mean(r["rr"] for r in rows),
        "fp_top10": sum(r["fp_top10"] for r in rows),
        "fp_total": sum(r["fp_total"] for r in rows),
        "zero_recall": sum(1 for r in rows if r["recall"] == 0),
        "probes": rows,
    }


def _probe_row(p: Probe, hits: list[str]) -> dict:
    """Return the figures of one probe."""
    k = min(10, len(p.relevant)) or 10
    top = hits[:k]
    first = next((i for i, h in enumerate(hits, 1) if h in p.relevant), None)
    return {
        "q": p.q,
        "what": p.what,
        "relevant": len(p.relevant),
        "found": len(p.relevant & set(hits)),
        "recall": len(p.relevant & set(hits)) / len(p.relevant) if p.relevant else 1.0,
        "p_at_10": sum(h in p.relevant for h in top) / k,
        "rr": 1 / first if first else 0.0,
        "fp_top10": sum(h not in p.relevant for h in top),
        "fp_total": sum(h not in p.relevant for h in hits),
    }


def timings(ix: index.Index, variant: Variant, probe_list: list[Probe], rounds: int) -> dict:
    """Return query p50/p95 in ms: query building plus a top-10 search, warm searcher."""
    samples = []
    with ix.searcher() as s:
        for _ in range(rounds):
            for p in probe_list:
                start = time.perf_counter()
                q = variant.build(p.q, GROUPS)
                if q is not None:
                    [h["id"] for h in s.search(q, limit=10)]
                samples.append((time.perf_counter() - start) * 1000)
    cuts = statistics.quantiles(samples, n=20)
    return {"p50_ms": statistics.median(samples), "p95_ms": cuts[18]}


def _size_mb(where: Path) -> float:
    """Return the size of an index folder in MB."""
    return sum(f.stat().st_size for f in where.iterdir()) / 1e6


def run_variant(variant: Variant, docs: list[Doc], probe_list: list[Probe], rounds: int) -> dict:
    """Measure one variant end to end."""
    with tempfile.TemporaryDirectory() as tmp:
        ix, seconds = build(variant, docs, Path(tmp))
        result = {"variant": variant.name, "build_s": seconds, "index_mb": _size_mb(Path(tmp))}
        result["tokenise_chars_per_s"] = tokenise_speed(variant, docs)
        result.update(grade(ix, variant, probe_list))
        result.update(timings(ix, variant, probe_list, rounds))
        ix.close()
    return result


COLUMNS = [
    ("variant", "{:<26}"),
    ("recall", "{:>6.3f}"),
    ("p_at_10", "{:>7.3f}"),
    ("mrr", "{:>6.3f}"),
    ("fp_top10", "{:>8d}"),
    ("fp_total", "{:>8d}"),
    ("zero_recall", "{:>6d}"),
    ("build_s", "{:>7.2f}"),
    ("index_mb", "{:>7.1f}"),
    ("tokenise_chars_per_s", "{:>9.0f}"),
    ("p50_ms", "{:>6.2f}"),
    ("p95_ms", "{:>6.2f}"),
]
HEADERS = ["variant", "recall", "P@10", "MRR", "FP@10", "FP_all", "miss0", "build_s", "MB"]
HEADERS += ["chars/s", "p50ms", "p95ms"]


def table(results: list[dict]) -> str:
    """Return the results as a plain text table."""
    widths = [len(fmt.format(0 if fmt.endswith("d}") else 0.0)) for _, fmt in COLUMNS[1:]]
    head = [HEADERS[0].ljust(26)] + [h.rjust(w) for h, w in zip(HEADERS[1:], widths, strict=True)]
    rows = [" ".join(fmt.format(r[key]) for key, fmt in COLUMNS) for r in results]
    return "\n".join([" ".join(head), *rows])


def probe_table(results: list[dict]) -> str:
    """Return per-probe reciprocal rank and recall for each variant, one line a probe."""
    lines = []
    for i, row in enumerate(results[0]["probes"]):
        cells = [f"{r['probes'][i]['rr']:.2f}/{r['probes'][i]['recall']:.2f}" for r in results]
        lines.append(f"{row['q'][:14]:<16}{row['relevant']:>5} " + " ".join(cells))
    return "rank-1/recall per probe, variants in table order\n" + "\n".join(lines)


def _has_janome() -> bool:
    """Tell whether janome can be imported."""
    try:
        _janome()
    except ImportError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    """Run the comparison, print the table and write JSON if asked."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="substring of the variant names to run")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--per-probe", action="store_true")
    args = parser.parse_args(argv)
    docs = corpus(args.docs)
    probe_list = probes(docs)
    chosen = [v for v in variants() if not args.only or args.only in v.name]
    if not _has_janome():
        print("janome is not installed: skipping its variants", file=sys.stderr)
        chosen = [v for v in chosen if not v.needs_janome]
    text.dictionary()  # Load once, outside the timings (about 0.3 s per process).
    results = [run_variant(v, docs, probe_list, args.rounds) for v in chosen]
    print(f"{len(docs)} documents, {len(probe_list)} probes, {args.rounds} timing rounds")
    print(table(results))
    if args.per_probe:
        print(probe_table(results))
    if args.out:
        meta = {"docs": len(docs), "probes": len(probe_list), "python": sys.version.split()[0]}
        args.out.write_text(json.dumps({"meta": meta, "results": results}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
