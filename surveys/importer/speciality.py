"""The 医療情報ネット 診療科・診療時間票: departments and consultation hours by facility ID."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from typing import Any

from surveys.errors import ImportProblem

from .fields import LIMITS, is_psychiatric
from .messages import Bad, problem
from .readers import Header, Rows, blank, cell, read_rows
from .records import ParsedImport, Source

SPECIALITY_REQUIRED = ("ID", "診療科目名")
DAYS = "月火水木金土日祝"
Span = tuple[int, int]  # minutes after midnight; the end may pass 24:00 for overnight slots


@dataclass
class Department:
    """One row of the speciality file for a facility we keep."""

    code: str
    name: str
    spans: dict[str, list[Span]]


def read_speciality(
    parsed: ParsedImport, speciality: Source, wanted: set[str]
) -> dict[str, list[Department]]:
    """Read the speciality/hours rows of the wanted facilities; problems name the file."""
    reader = _SpecialityReader(parsed, speciality.name, wanted)
    try:
        reader.read(read_rows(speciality))
        if wanted and not reader.found:  # e.g. the clinic file with the hospital hours
            raise Bad("no_match", count=len(wanted))
    except Bad as bad:
        parsed.problems.append(replace(bad.problem, file=speciality.name))
    return reader.found


class _SpecialityReader:
    """Collect departments by facility ID, noting problems against the speciality file."""

    def __init__(self, parsed: ParsedImport, file: str, wanted: set[str]):
        self.parsed, self.file, self.wanted = parsed, file, wanted
        self.found: dict[str, list[Department]] = {}
        self.columns: dict[str, int | None] = {}
        self.times: dict[str, list[int | None]] = {}
        self.width = 0

    def read(self, rows: Rows) -> None:
        """Find the columns, then read every row; refuse a file cut short or without data."""
        header = Header(next(rows, []))
        self.columns = header.require(SPECIALITY_REQUIRED)
        self.columns["診療科目コード"] = header.find("診療科目コード")
        self.times = {d: [header.find(f"{d}_診療{e}時間") for e in ("開始", "終了")] for d in DAYS}
        self.width = len(header.keys)
        filled = 0
        for row, cells in enumerate(rows, start=2):
            filled += not blank(cells)
            self._row(row, cells)
        if rows.cut_short:
            raise Bad("cut_short", rows.last_row)
        if not filled:
            raise Bad("no_rows", 1)

    def _row(self, row: int, cells: list[str]) -> None:
        """Add one speciality row to its facility, if we keep that facility."""
        if len(cells) != self.width and not blank(cells):
            self._note(
                self.parsed.problems, "row_width", row, found=len(cells), expected=self.width
            )
            return
        source_id = cell(cells, self.columns["ID"])
        if not source_id and not blank(cells):
            self._note(self.parsed.problems, "empty_id", row)
        if source_id not in self.wanted:
            return
        department = Department(
            code=cell(cells, self.columns["診療科目コード"]),
            name=cell(cells, self.columns["診療科目名"]),
            spans=self._spans(row, cells),
        )
        self.found.setdefault(source_id, []).append(department)

    def _spans(self, row: int, cells: list[str]) -> dict[str, list[Span]]:
        """Return each day's consultation slot in one row, warning about unreadable times."""
        spans: dict[str, list[Span]] = {}
        for day, columns in self.times.items():
            start, end = (cell(cells, c) for c in columns)
            try:
                span = _span(start, end)
            except ValueError:
                self._note(self.parsed.warnings, "bad_time", row, value=f"{start}-{end}")
                continue
            if span:
                spans[day] = [span]
        return spans

    def _note(self, target: list[ImportProblem], key: str, row: int, **values: Any) -> None:
        """Add a problem or warning about a row of the speciality file."""
        target.append(replace(problem(key, row, **values), file=self.file))


def _span(start: str, end: str) -> Span | None:
    """Return the minutes of one day's consultation slot, None when absent."""
    if not start or not end:
        return None
    a, b = _minutes(start), _minutes(end)
    if a == b:  # the open data fills unused slots with equal start and end
        return None
    return (a, b if b > a else b + 24 * 60)


def _minutes(text: str) -> int:
    """Parse 'H:MM' or 'HH:MM' into minutes after midnight."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", unicodedata.normalize("NFKC", text))
    if not match or int(match[1]) > 24 or int(match[2]) > 59:
        raise ValueError(text)
    return int(match[1]) * 60 + int(match[2])


def join_departments(names: list[str]) -> str:
    """Join unique department names with 、, dropping trailing ones past the column size."""
    unique = list(dict.fromkeys(n for n in names if n))
    while len("、".join(unique)) > LIMITS["departments"]:
        others = [n for n in unique if not is_psychiatric(n)]
        unique.remove(others[-1] if others else unique[-1])
    return "、".join(unique)


def format_hours(departments: list[Department]) -> str:
    """Summarise consultation hours: '月・火 09:00-12:00, 14:00-18:00 / 土 09:00-12:00'."""
    by_day = {d: _merge([s for dep in departments for s in dep.spans.get(d, [])]) for d in DAYS}
    groups: dict[str, list[str]] = {}
    for day, spans in by_day.items():
        if spans:
            text = ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in spans)
            groups.setdefault(text, []).append("祝日" if day == "祝" else day)
    return " / ".join(f"{'・'.join(days)} {text}" for text, days in groups.items())[:1000]


def _merge(spans: list[Span]) -> list[Span]:
    """Merge overlapping time spans."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _hhmm(minutes: int) -> str:
    """Format minutes after midnight (past 24:00 for overnight slots) as HH:MM."""
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"
