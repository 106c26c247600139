"""What parsing produces: the files read, the facilities found and the problems met."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, BinaryIO

from surveys.errors import ImportProblem


@dataclass(frozen=True)
class Source:
    """A file to import: its name (for the format and kind) and a seekable binary stream."""

    name: str
    stream: BinaryIO


@dataclass
class FacilityRecord:
    """One facility read from a file: only the fields that file provides."""

    row: int
    source_id: str
    values: dict[str, Any]


@dataclass
class ParsedImport:
    """What a file holds: records to apply, or problems that refuse the whole import."""

    source: str
    format: str = ""
    prefecture_code: str = ""
    edition: date | None = None  # 医療情報ネット files: the date in their names
    kinds: set[str] = field(default_factory=set)
    records: list[FacilityRecord] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    skipped_not_psychiatric: int = 0
    skipped_other_prefecture: int = 0
