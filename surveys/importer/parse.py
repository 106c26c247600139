"""Parsing an import file (no database): tell the format by its header row, then read it."""

from __future__ import annotations

from surveys.errors import FacilityImportError

from .messages import Bad
from .mhlw import parse_mhlw
from .readers import Header, read_rows
from .records import ParsedImport, Source
from .template import parse_template


def parse_import(
    source: Source, prefecture_code: str, speciality: Source | None = None
) -> ParsedImport:
    """Read a facility file (and the MHLW speciality file) into records and problems."""
    parsed = ParsedImport(source=source.name, prefecture_code=prefecture_code)
    try:
        _parse(parsed, source, speciality)
    except Bad as bad:
        parsed.problems.append(bad.problem)
    parsed.problems.sort(key=lambda p: p.row)
    return parsed


def read_import(
    source: Source, prefecture_code: str, speciality: Source | None = None
) -> ParsedImport:
    """Parse like parse_import, raising FacilityImportError when the file is refused."""
    parsed = parse_import(source, prefecture_code, speciality)
    if parsed.problems:
        raise FacilityImportError(parsed.problems)
    return parsed


def _parse(parsed: ParsedImport, source: Source, speciality: Source | None) -> None:
    """Read the file in the format its header row names."""
    rows = read_rows(source)
    header = Header(next(rows, []))
    if header.has("正式名称") and header.has("ID"):
        parse_mhlw(parsed, source, header, rows, speciality)
    elif header.has("施設ID"):
        if speciality is not None:
            raise Bad("speciality_unused")
        parse_template(parsed, header, rows)
    else:
        raise Bad("speciality_as_main" if header.has("診療科目名") else "unknown_format", 1)
