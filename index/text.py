"""Japanese text analysis for the search index: normalisation, tokenizers, fields, queries.

Each text group (name, kana, address, body, body_pro) is one Whoosh field holding two kinds of
terms: character bigrams of the normalised text (recall: any substring of two or more characters
matches) and dictionary words marked with WORD_MARK (precision: 京都 is a word of 京都府 but not
of 東京都, so a boosted word clause ranks real matches above substring matches). The word
dictionary comes from the bundled gazetteer (prefectures, municipalities, Tokyo towns, stations)
plus a short list of clinical and facility words. See tests/bench/analyzers.py for the figures.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

from whoosh import query
from whoosh.analysis import Token, Tokenizer
from whoosh.fields import TEXT, FieldType

from index.geo.normalize import _VARIANTS

WORD_MARK = "="
# Query-time boost of the dictionary-word clause relative to the bigram clause.
WORD_BOOST = 4.0
# BM25F field boosts: a match in a name outranks the address, which outranks free text.
FIELD_BOOSTS = {"name": 3.0, "kana": 2.0, "address": 1.5, "body": 1.0}
# Text groups the index knows and the kind of text each holds.
GROUP_KINDS = {
    "name": "name",
    "kana": "kana",
    "address": "address",
    "body": "body",
    "body_pro": "body",
}
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
MAX_WORD_CHARS = 32
# Boolean operators typed out of habit; we build queries ourselves, so they are noise.
_OPERATORS = {"AND", "OR", "NOT"}

_KANJI = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆"
_KANA = "\u3041-\u3096\u309d\u309e\u30a1-\u30fa\u30fc\u30fd\u30fe"
_CJK_RE = f"[{_KANJI}{_KANA}]+"
_TOKEN_RE = re.compile(f"({_CJK_RE})|((?:(?![{_KANJI}{_KANA}])[^\\W_])+)")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_DASH_RE = re.compile("[‐‑‒–—―−─━﹣]")
_DIGIT_CHOONPU_RE = re.compile(r"(?<=\d)ー(?=\d)")
_KANA_CHOONPU_RE = re.compile("(?<=[\u3041-\u3096])ー+")
# Place-name particles written either way: 霞ヶ関/霞ケ関/霞ガ関/霞が関, 御茶ノ水/御茶之水/御茶の水.
_GA_RE = re.compile(f"(?<=[{_KANJI}])[ヶヵケガ](?=[{_KANJI}])")
_NO_RE = re.compile(f"(?<=[{_KANJI}])[之ノ](?=[{_KANJI}])")
# Kanji variants from the address normaliser; its kana entries are for place keys only.
_KANJI_VARIANTS = {k: v for k, v in _VARIANTS.items() if "\u3400" <= chr(k) <= "\ufaff"}
_SMALL_KANA = str.maketrans("ぁぃぅぇぉっゃゅょゎゕゖゐゑ", "あいうえおつやゆよわかけいえ")


def _kata_to_hira(text: str) -> str:
    """Convert katakana to hiragana (ヷ-ヺ have no hiragana and stay)."""
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)


def normalize(text: str) -> str:
    """Return the search form of a text: NFKC, case-folded, hiragana, variants unified."""
    text = _CONTROL_RE.sub(" ", text or "")
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIGIT_CHOONPU_RE.sub("-", _DASH_RE.sub("-", text))
    text = _NO_RE.sub("の", _GA_RE.sub("が", text.translate(_KANJI_VARIANTS)))
    text = _kata_to_hira(text).translate(_SMALL_KANA)
    return _KANA_CHOONPU_RE.sub("", text)


def pieces(text: str) -> list[tuple[str, bool]]:
    """Split normalised text into (run, is_cjk) pieces; everything else separates."""
    return [(m.group(0), m.group(1) is not None) for m in _TOKEN_RE.finditer(text)]


def bigrams(run: str, trailing: bool) -> list[str]:
    """Return the character bigrams of a run; a one-character run is its own gram.

    With trailing, the last character is added as a unigram so that every character of the
    run starts some term and a one-character query can be a prefix query.
    """
    grams = [run[i : i + 2] for i in range(len(run) - 1)] or [run]
    if trailing and len(run) > 1:
        grams.append(run[-1])
    return grams


# Facility, clinical and common free-text words (katakana is folded by normalize()).
_DOMAIN_WORDS = """
病院 医院 診療所 クリニック メンタル ヘルス 心療内科 精神科
精神神経科 神経科 神経内科 内科 心療 精神 心 こころ ココロ 医療 法人 医療法人 社団 財団
社会福祉法人 独立行政法人 都立 区立 市立 公立 国立 大学 附属 付属 総合 センター 分院 本院
ホスピタル オフィス 相談室 産後 産前 周産期 妊娠 妊婦 妊産婦 産婦 産科 産婦人科 出産 分娩 授乳
育児 うつ うつ病 抑うつ 不安 不安症 不安障害 パニック パニック症 強迫 強迫症 双極 双極症 双極性障害
統合失調症 摂食障害 発達障害 依存症 恐怖 恐怖症 トラウマ 睡眠 不眠 病 症 障害 初診 再診
紹介 紹介状 予約 電話 相談 受付 診察 外来 入院 薬 薬物 療法 カウンセリング 心理 女性
母子 家族 子ども 児童 夜間 土曜 日曜 祝日 駅 徒歩 ビル 階
"""
_SINGLE_WORDS = frozenset("心病症駅階")
# Diagnoses renamed in DSM-5-TR (2023): labels use the new name, clinics still write the old.
SYNONYMS = (
    ("強迫症", "強迫性障害"),
    ("双極症", "双極性障害", "躁うつ病"),
    ("不安症", "不安障害"),
    ("パニック症", "パニック障害"),
    ("社交不安症", "社交不安障害"),
    ("摂食症", "摂食障害"),
    ("心的外傷後ストレス症", "心的外傷後ストレス障害", "PTSD"),
    ("注意欠如多動症", "注意欠如・多動性障害", "ADHD"),
    ("自閉スペクトラム症", "自閉症スペクトラム障害"),
)


@lru_cache(maxsize=1)
def _raw_dictionary() -> frozenset[str]:
    """Return the words: gazetteer names (with and without their suffix) and domain words."""
    from index.geo import gazetteer  # Lazy: the data loads only when text is first analysed.

    names = set(_DOMAIN_WORDS.split())
    names.update(gazetteer.prefectures().values())
    names.update(m.name for m in gazetteer.municipalities())
    names.update(t.town for t in gazetteer.load_towns(gazetteer.TOKYO))
    names.update(s.name for s in gazetteer.load_stations())
    return frozenset(names)


def _stems(name: str) -> Iterator[str]:
    """Yield a place name and its stem without 都府県区市町村 or 丁目 (新宿区 -> 新宿)."""
    yield name
    stem = re.sub(r"([一二三四五六七八九十〇]+丁目|[0-9]+丁目|[都府県区市町村])$", "", name)
    if len(stem) >= 2:
        yield stem


@lru_cache(maxsize=1)
def dictionary() -> tuple[frozenset[str], frozenset[str]]:
    """Return (normalised words, all their prefixes) for longest-match segmentation."""
    words = {n for raw in _raw_dictionary() for s in _stems(raw) if len(n := normalize(s)) >= 2}
    words.update(_SINGLE_WORDS)
    words.update(compounds())
    prefixes = {w[:i] for w in words for i in range(1, len(w) + 1)}
    return frozenset(words), frozenset(prefixes)


@lru_cache(maxsize=1)
def compounds() -> dict[str, tuple[str, ...]]:
    """Return 'public body + 立' compounds and their parts: 東京都立 -> 東京都, 東京, 都立."""
    out = {}
    for raw in _raw_dictionary():
        name = normalize(raw)
        if len(name) >= 2 and name[-1] in "都道府県区市町村":
            out[name + "立"] = (*_stems(name), name[-1] + "立")
    return out


@lru_cache(maxsize=1)
def _synonym_index() -> dict[str, tuple[str, ...]]:
    """Return normalised word -> all normalised names of the same diagnosis."""
    groups = [tuple(normalize(w) for w in group) for group in SYNONYMS]
    return {w: group for group in groups for w in group}


def synonyms(word: str) -> tuple[str, ...]:
    """Return the normalised word and the other names it has (強迫症 -> 強迫性障害)."""
    return _synonym_index().get(word, (word,))


def _matches_at(run: str, start: int, words: frozenset[str], prefixes: frozenset[str]) -> list[str]:
    """Return the dictionary words that start at run[start], shortest first."""
    found, end = [], start + 1
    while end <= len(run) and run[start:end] in prefixes:
        if run[start:end] in words:
            found.append(run[start:end])
        end += 1
    return found


def segment(run: str) -> list[str]:
    """Split a CJK run into words by longest dictionary match; unknown stretches stay whole.

    Shorter dictionary words starting where a longer one starts are kept too (新宿区 also
    yields 新宿), so a query word matches a compound that begins with it.
    """
    words, prefixes = dictionary()
    out, unknown, i = [], "", 0
    while i < len(run):
        found = _matches_at(run, i, words, prefixes)
        if unknown and (found or _is_kana(run[i]) != _is_kana(unknown[-1])):
            out.append(unknown)
            unknown = ""
        if not found:
            unknown, i = unknown + run[i], i + 1
            continue
        out.extend(_expand(found))
        i += len(found[-1])
    return [*out, unknown] if unknown else out


def _expand(found: list[str]) -> list[str]:
    """Replace a compound such as 東京都立 by its parts."""
    parts = compounds().get(found[-1])
    return found if parts is None else list(dict.fromkeys([*found[:-1], *parts]))


def _is_kana(char: str) -> bool:
    """Tell kana from kanji (unknown stretches split where the script changes)."""
    return "\u3041" <= char <= "\u30ff"


class JaTokenizer(Tokenizer):
    """Emit bigrams of normalised CJK runs, whole alphanumeric words, and marked words."""

    def __init__(self, words: bool = True):
        self.words = words

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.__dict__ == self.__dict__

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.words))

    def segment(self, run: str) -> list[str]:
        """Return the words of a CJK run (overridden by the benchmark's alternatives)."""
        return segment(run)

    def terms(self, text: str, index: bool = True) -> list[str]:
        """Return the terms of a text; index mode adds the trailing unigrams."""
        out: list[str] = []
        for run, cjk in pieces(normalize(text)):
            if not cjk:
                out.append(run)
                continue
            out.extend(bigrams(run, trailing=index))
            if self.words:
                out.extend(WORD_MARK + w for w in self.segment(run))
        return out

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        """Yield Whoosh tokens (character offsets are not tracked: no highlighting)."""
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, text in enumerate(self.terms(value, index=mode != "query"), start_pos):
            token.text = token.original = text
            token.boost, token.stopped = 1.0, False
            if positions:
                token.pos = pos
            if chars:
                token.startchar = token.endchar = start_char
            yield token


def text_field(kind: str) -> TEXT:
    """Return the TEXT field for one kind of text: name, kana, address or body."""
    return TEXT(
        analyzer=JaTokenizer(words=kind != "kana"),
        phrase=False,
        field_boost=FIELD_BOOSTS[kind],
        multitoken_query="and",
    )


def text_schema_fields(
    groups: Iterable[str] = tuple(GROUP_KINDS), prefix: str = ""
) -> dict[str, FieldType]:
    """Return every text field for a schema: one per group, named prefix + group."""
    groups = tuple(groups)
    unknown = sorted(set(groups) - set(GROUP_KINDS))
    if unknown:
        raise ValueError(f"unknown text groups {unknown}; known: {sorted(GROUP_KINDS)}")
    return {prefix + group: text_field(GROUP_KINDS[group]) for group in groups}


def split_words(q: str) -> list[str]:
    """Split what a user typed into normalised words: spaces separate, operators dropped."""
    words = normalize(str(q or "")[:MAX_QUERY_CHARS]).split()
    kept = [w[:MAX_WORD_CHARS] for w in words if w.upper() not in _OPERATORS]
    return list(dict.fromkeys(kept))[:MAX_QUERY_WORDS]


def _gram_clause(field: str, word: str) -> query.Query | None:
    """Match every bigram of the word; a one-character run matches as a prefix."""
    terms: list[query.Query] = []
    for run, cjk in pieces(word):
        if cjk and len(run) == 1:
            terms.append(query.Prefix(field, run))
        else:
            terms.extend(query.Term(field, g) for g in (bigrams(run, False) if cjk else [run]))
    return _all(_unique(terms))


def _unique(terms: list[query.Query]) -> list[query.Query]:
    """Drop repeated terms (ああああ has one bigram, not three)."""
    return list(dict.fromkeys(terms))


def _word_clause(field: str, word: str, boost: float) -> query.Query | None:
    """Match every dictionary word of the word (the precise, boosted clause)."""
    terms: list[query.Query] = []
    for run, cjk in pieces(word):
        texts = [WORD_MARK + w for w in segment(run)] if cjk else [run]
        terms.extend(query.Term(field, t) for t in texts)
    clause = _all(_unique(terms))
    if clause is not None:
        clause.boost = boost
    return clause


def _all(terms: list[query.Query]) -> query.Query | None:
    """AND the terms together, without wrapping a single one."""
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else query.And(terms)


def _any(clauses: Iterable[query.Query | None]) -> query.Query | None:
    """OR the clauses that exist."""
    kept = [c for c in clauses if c is not None]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else query.Or(kept)


def _one_word(word: str, fields: list[tuple[str, bool]], word_boost: float) -> query.Query | None:
    """Match one user word (or a synonym) in any field of (name, has_words)."""
    return _any(_in_field(f, w, words, word_boost) for f, words in fields for w in synonyms(word))


def _in_field(field: str, word: str, words: bool, word_boost: float) -> query.Query | None:
    """Match a word in one field: its bigrams, boosted where its dictionary words match too.

    A document with the words but not the bigrams (産後のうつ病 for 産後うつ) still matches,
    unboosted, below the documents that have the word as typed.
    """
    grams = _gram_clause(field, word)
    precise = _word_clause(field, word, word_boost) if words else None
    if grams is None or precise is None:
        return grams
    return query.Or([query.AndMaybe(grams, precise), _word_clause(field, word, 1.0)])


def text_query(
    q: str, groups: list[str], prefix: str = "", word_boost: float = WORD_BOOST
) -> query.Query | None:
    """Turn what a user typed into a query over the text groups; None if nothing searchable.

    q: free user input; words separated by spaces (any width) must all match (AND), each in
    any of the groups (OR). Nothing in q is syntax: quotes, brackets, `*`, `field:` and
    AND/OR/NOT are ignored or matched as text, so this never raises on user input.
    groups: group names from GROUP_KINDS the caller allows (e.g. body_pro for staff only).
    prefix: the prefix given to text_schema_fields. word_boost: weight of the word clause.
    """
    fields = [(prefix + g, GROUP_KINDS[g] != "kana") for g in groups if g in GROUP_KINDS]
    if not fields:
        return None
    clauses = [_one_word(w, fields, word_boost) for w in split_words(q)]
    return _all([c for c in clauses if c is not None])
