"""Two baselines for tests.bench.search: a naive database scan, and SQLite FTS5 plus a box.

Both answer the engine's SearchRequest and return every matching facility id in the engine's
result order, so the benchmark can compare totals, first pages and whole result sets.
Text follows the engine's bigram clause: each word (or one of its synonyms) must have all its
normalised bigrams in one text field; a one-character word matches anywhere (the engine uses a
prefix query). Not reproduced: the engine's boosted dictionary-word clause (it can add a
document holding a word's dictionary words but not its bigrams, e.g. 産後のうつ for 産後うつ) and
its BM25F ranking; the naive scan ranks by field boosts, FTS5 by its own bm25. The naive scan
matches alphanumeric words as substrings, the engine and FTS5 as whole tokens.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from index.filters import Filter
from index.geo.distance import EARTH_RADIUS_KM, haversine_km
from index.schema import PROFESSIONAL_TEXT, PUBLIC_TEXT, WAIT_ITEM
from index.searcher import SearchRequest, effective_sort
from index.text import (
    FIELD_BOOSTS,
    GROUP_KINDS,
    JaTokenizer,
    bigrams,
    normalize,
    pieces,
    split_words,
    synonyms,
)
from surveys.questionnaire import Questionnaire

# Every facility with its current (highest version) answers, in one statement.
ROWS_SQL = """
SELECT f.id, f.name, f.kana, f.address, f.departments, f.municipality_code, f.lat, f.lng,
       r.answers
FROM facility AS f
LEFT JOIN surveyresponse AS r ON r.facility_id = f.id AND r.version_no = (
    SELECT max(version_no) FROM surveyresponse WHERE facility_id = f.id)
"""
BOOSTS = {group: FIELD_BOOSTS[kind] for group, kind in GROUP_KINDS.items()}
# A query term: (gram, is_prefix); a one-character CJK word is a prefix, as in the engine.
Term = tuple[str, bool]


@dataclass(frozen=True)
class Match:
    """One facility that matched, with what the sort orders need."""

    id: int
    sort_name: str
    distance: float | None
    score: float = 0.0
    wait: float = math.inf


def place_ok(request: SearchRequest, lat: float | None, lng: float | None):
    """Return (inside the radius, distance); unknown places stay only for text searches."""
    if request.origin is None:
        return True, None
    if lat is None or lng is None:
        return bool(request.q.strip()), None
    distance = haversine_km(*request.origin, lat, lng)
    return distance <= request.radius_km, distance


def _distance_key(match: Match) -> float:
    """Unknown distances sort last."""
    return math.inf if match.distance is None else match.distance


SORT_KEYS = {
    "relevance": lambda m: (-m.score, _distance_key(m), m.sort_name, m.id),
    "wait": lambda m: (m.wait, _distance_key(m), m.sort_name, m.id),
    "distance": lambda m: (_distance_key(m), m.sort_name, m.id),
    "name": lambda m: (m.sort_name, m.id),
}


def ordered_ids(matches: list[Match], request: SearchRequest) -> list[int]:
    """Return the ids in the engine's order for this request (ties: name, then id)."""
    return [m.id for m in sorted(matches, key=SORT_KEYS[effective_sort(request)])]


def text_groups(request: SearchRequest) -> tuple[str, ...]:
    """Return the text groups this audience searches."""
    return PROFESSIONAL_TEXT if request.professional else PUBLIC_TEXT


def word_terms(q: str) -> list[list[list[Term]]]:
    """Return, per word typed, the term lists of the word and of each synonym."""
    words = [[_terms(s) for s in synonyms(w)] for w in split_words(q)]
    return [[t for t in syns if t] for syns in words if any(syns)]


def _terms(word: str) -> list[Term]:
    """Return the terms one field must hold for a normalised word (the engine's gram clause)."""
    out: list[Term] = []
    for run, cjk in pieces(word):
        if cjk and len(run) == 1:
            out.append((run, True))
        else:
            out.extend((g, False) for g in (bigrams(run, False) if cjk else [run]))
    return list(dict.fromkeys(out))


def body_texts(departments: str, answers: dict, q: Questionnaire) -> dict[str, str]:
    """Return the public and professional-only free text, as index.documents builds it."""
    public, pro = [departments.replace(",", " ")], []
    for item in q.items:
        value = answers.get(item.key)
        if not value or item.type not in ("text", "multi"):
            continue
        texts = [value] if item.type == "text" else [item.choice_label(v, "ja") for v in value]
        (pro if item.professional_only else public).extend(texts)
    return {"body": " ".join(public), "body_pro": " ".join(pro)}


def filters_ok(answers: dict, filters: tuple[Filter, ...]) -> bool:
    """Tell whether the answers satisfy every filter, as the index reads them."""
    return all(_filter_ok(answers.get(f.item.key), f) for f in filters)


def _filter_ok(value, spec: Filter) -> bool:
    """Check one filter: at most max_value, all values of a multi, or any value of a choice."""
    if spec.max_value is not None:
        return value is not None and int(value) <= spec.max_value
    if spec.item.type == "multi":
        return bool(value) and set(spec.values) <= set(value)
    return value in spec.values


def wait_of(answers: dict) -> float:
    """Return the wait in days (infinite when unanswered)."""
    value = answers.get(WAIT_ITEM)
    return math.inf if value is None else float(value)


class NaiveScan:
    """Per query: read every facility and its answers (one SELECT), filter and sort in Python."""

    def __init__(self, db_path: Path, questionnaire: Questionnaire):
        self.conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        self.questionnaire = questionnaire

    def search(self, request: SearchRequest) -> list[int]:
        """Return every matching id in result order."""
        words = word_terms(request.q)
        if request.q.strip() and not words:
            return []
        rows = self.conn.execute(ROWS_SQL)
        matches = [m for row in rows if (m := self._match(row, request, words)) is not None]
        return ordered_ids(matches, request)

    def _match(self, row: tuple, request: SearchRequest, words) -> Match | None:
        """Return the row as a match, or None; cheap checks first, text last."""
        fid, name, kana, address, departments, municipality, lat, lng, raw = row
        answers = json.loads(raw) if raw else {}
        if not self._answers_ok(answers, municipality, request):
            return None
        near, distance = place_ok(request, lat, lng)
        if not near:
            return None
        score = 0.0
        if words:
            texts = {"name": name, "kana": kana, "address": address}
            texts |= body_texts(departments, answers, self.questionnaire)
            score = text_score(texts, words, text_groups(request))
            if not score:
                return None
        return Match(fid, normalize(kana or name), distance, score, wait_of(answers))

    def _answers_ok(self, answers: dict, municipality: str, request: SearchRequest) -> bool:
        """Check visibility, municipality and the answer filters."""
        if not request.professional and answers.get("visibility") != "public":
            return False
        if request.municipality and (municipality or "none") != request.municipality:
            return False
        return filters_ok(answers, request.filters)

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()


def text_score(texts: dict[str, str], words, groups: tuple[str, ...]) -> float:
    """Return the sum, over words, of the best boost of a field holding it; 0 if one is missing."""
    normed = {g: normalize(texts[g]) for g in groups}
    total = 0.0
    for synonym_terms in words:
        boosts = [BOOSTS[g] for g in groups if _field_has(normed[g], synonym_terms)]
        if not boosts:
            return 0.0
        total += max(boosts)
    return total


def _field_has(text: str, synonym_terms: list[list[Term]]) -> bool:
    """Tell whether one normalised field holds every gram of the word or of a synonym.

    A bigram found as a substring is a bigram of the field (both characters are CJK, so they
    sit in one run), and a one-character word found anywhere starts some indexed term.
    """
    return any(all(gram in text for gram, _ in terms) for terms in synonym_terms)


class Fts5Box:
    """SQLite FTS5 over normalised bigrams, plus a plain table of places and filter answers."""

    def __init__(self, path: Path, questionnaire: Questionnaire):
        self.conn = sqlite3.connect(path)
        self.questionnaire = questionnaire
        self.items = [item for item in questionnaire.items if item.filter]

    def build(self, source_db: Path) -> int:
        """Create and fill both tables from the application database; return the rows."""
        self.conn.executescript(self._schema())
        source = sqlite3.connect(f"file:{source_db}?mode=ro", uri=True)
        rows = [self._prepare(row) for row in source.execute(ROWS_SQL)]
        source.close()
        width = len(rows[0][0]) if rows else 0
        self.conn.executemany(
            f"INSERT INTO doc VALUES ({', '.join('?' * width)})", [r[0] for r in rows]
        )
        self.conn.executemany(
            f"INSERT INTO fts (rowid, {', '.join(GROUP_KINDS)}) VALUES (?, ?, ?, ?, ?, ?)",
            [r[1] for r in rows],
        )
        self.conn.executescript("CREATE INDEX doc_lat ON doc (lat); ANALYZE;")
        self.conn.commit()
        return len(rows)

    def _schema(self) -> str:
        """Return the statements creating the two tables."""
        answers = ", ".join(f"a_{item.key} {_sql_type(item)}" for item in self.items)
        return f"""
            CREATE TABLE doc (id INTEGER PRIMARY KEY, lat REAL, lng REAL, municipality TEXT,
                visibility TEXT, sort_name TEXT, wait REAL, {answers});
            CREATE VIRTUAL TABLE fts USING fts5({", ".join(GROUP_KINDS)}, content='',
                tokenize='unicode61 remove_diacritics 0');
        """

    def _prepare(self, row: tuple) -> tuple[tuple, tuple]:
        """Turn one source row into a doc row and an fts row of space-separated grams."""
        fid, name, kana, address, departments, municipality, lat, lng, raw = row
        answers = json.loads(raw) if raw else {}
        visibility = answers.get("visibility") or "professionals"
        values = [_sql_value(item, answers.get(item.key)) for item in self.items]
        wait = answers.get(WAIT_ITEM)
        doc = (fid, lat, lng, municipality or "none", visibility, normalize(kana or name), wait)
        texts = {"name": name, "kana": kana, "address": address}
        texts |= body_texts(departments, answers, self.questionnaire)
        grams = [" ".join(_INDEX_TERMS.terms(texts[g])) for g in GROUP_KINDS]
        return (*doc, *values), (fid, *grams)

    def search(self, request: SearchRequest) -> list[int]:
        """Return every matching id in result order."""
        expression = match_expression(request.q, text_groups(request))
        if request.q.strip() and expression is None:
            return []
        sql, params = self._select(request, expression)
        matches = []
        for fid, lat, lng, sort_name, wait, score in self.conn.execute(sql, params):
            near, distance = place_ok(request, lat, lng)
            if near:
                wait = math.inf if wait is None else wait
                matches.append(Match(fid, sort_name, distance, score, wait))
        return ordered_ids(matches, request)

    def _select(self, request: SearchRequest, expression: str | None) -> tuple[str, list]:
        """Return the SELECT for a request: MATCH, bounding box and filter columns."""
        conditions, params = _filter_conditions(request)
        if request.origin is not None:
            box, corners = _box(request)
            conditions.append(f"({box} OR d.lat IS NULL)" if expression else box)
            params += corners
        if expression is None:
            head = "SELECT d.id, d.lat, d.lng, d.sort_name, d.wait, 0.0 FROM doc AS d"
        else:
            weights = ", ".join(str(BOOSTS[g]) for g in GROUP_KINDS)
            head = f"SELECT d.id, d.lat, d.lng, d.sort_name, d.wait, -bm25(fts, {weights})"
            head += " FROM fts JOIN doc AS d ON d.id = fts.rowid"
            conditions.insert(0, "fts MATCH ?")
            params.insert(0, expression)
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        return head + where, params

    def size_mb(self) -> float:
        """Return the database size in MB."""
        pages = self.conn.execute("PRAGMA page_count").fetchone()[0]
        return pages * self.conn.execute("PRAGMA page_size").fetchone()[0] / 1e6

    def close(self) -> None:
        """Close the database connection."""
        self.conn.close()


# Index-side terms without dictionary words: bigrams, trailing unigrams, alphanumeric words.
_INDEX_TERMS = JaTokenizer(words=False)


def _sql_type(item) -> str:
    """Return the column type of a filter answer."""
    return "INTEGER" if item.type == "integer" else "TEXT"


def _sql_value(item, value):
    """Store a multi answer as ',a,b,' so that one value is found with instr()."""
    if item.type == "multi":
        return "," + ",".join(value) + "," if value else None
    return value if value not in ("", []) else None


def _filter_conditions(request: SearchRequest) -> tuple[list[str], list]:
    """Return SQL conditions for visibility, municipality and answer filters."""
    conditions, params = [], []
    if not request.professional:
        conditions.append("d.visibility = 'public'")
    if request.municipality:
        conditions.append("d.municipality = ?")
        params.append(request.municipality)
    for spec in request.filters:
        column = f"d.a_{spec.item.key}"
        if spec.max_value is not None:
            conditions.append(f"{column} <= ?")
            params.append(spec.max_value)
        elif spec.item.type == "multi":
            conditions += [f"instr({column}, ?) > 0" for _ in spec.values]
            params += [f",{v}," for v in spec.values]
        else:
            conditions.append(f"{column} IN ({', '.join('?' * len(spec.values))})")
            params += list(spec.values)
    return conditions, params


def _box(request: SearchRequest) -> tuple[str, list[float]]:
    """Return the smallest lat/lng box holding the search circle (exact on a sphere)."""
    lat, lng = request.origin
    angle = request.radius_km / EARTH_RADIUS_KM
    dlat = math.degrees(angle)
    ratio = math.sin(angle) / max(math.cos(math.radians(lat)), 1e-12)
    dlng = 180.0 if ratio >= 1 else math.degrees(math.asin(ratio))
    eps = 1e-9
    corners = [lat - dlat - eps, lat + dlat + eps, lng - dlng - eps, lng + dlng + eps]
    return "(d.lat BETWEEN ? AND ? AND d.lng BETWEEN ? AND ?)", corners


def match_expression(q: str, groups: tuple[str, ...]) -> str | None:
    """Return the MATCH expression: every word, each in one field as the word or a synonym."""
    clauses = []
    for synonym_terms in word_terms(q):
        options = [f"{g} : ({_all_terms(terms)})" for g in groups for terms in synonym_terms]
        clauses.append("(" + " OR ".join(options) + ")")
    return " AND ".join(clauses) or None


def _all_terms(terms: list[Term]) -> str:
    """Join quoted terms with AND; a prefix term gets FTS5's trailing star."""
    return " AND ".join(f'"{gram}"' + ("*" if prefix else "") for gram, prefix in terms)
