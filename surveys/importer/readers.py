"""Reading rows from CSV (UTF-8, optionally zipped) and XLSX files, refusing other encodings."""

from __future__ import annotations

import codecs
import csv
import io
import re
import time
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, BinaryIO

from openpyxl import load_workbook

from .messages import Bad
from .records import Source

# A spreadsheet is read row by row up to these limits; its declared size (<dimension>, which
# may say A1:XFD1048576 in a 5 KB file) is ignored, as it makes openpyxl pad every row.
XLSX_MAX_ROWS = 50_000
XLSX_MAX_COLUMNS = 64
XLSX_MAX_SECONDS = 60.0


class Header:
    """Column lookup by header name, ignoring character width and spaces."""

    def __init__(self, cells: list[str]):
        self.keys = [_key(c) for c in cells]

    def find(self, name: str, hinted: bool = False) -> int | None:
        """Return the column of `name`; `hinted` also accepts `name（hint）` (template headers)."""
        key = _key(name)
        for i, k in enumerate(self.keys):
            if k == key or (hinted and k.startswith(key + "(")):
                return i
        return None

    def has(self, name: str, hinted: bool = False) -> bool:
        """Return whether the column exists."""
        return self.find(name, hinted) is not None

    def require(self, names, hinted: bool = False) -> dict[str, int]:
        """Return {name: column}, or refuse naming the missing columns (row 1)."""
        missing = [n for n in names if not self.has(n, hinted)]
        if missing:
            raise Bad("missing_columns", 1, columns="、".join(missing))
        return {n: self.find(n, hinted) for n in names}


def _key(header: Any) -> str:
    """Normalise a header cell for matching."""
    text = unicodedata.normalize("NFKC", str(header or "")).replace("\ufeff", "")
    return re.sub(r"\s+", "", text)


def cell(cells: list[str], column: int | None) -> str:
    """Return a trimmed cell, '' when the column is absent or the row is short."""
    if column is None or column >= len(cells):
        return ""
    return cells[column].strip(" \t\r\n\u3000")


def blank(cells: list[str]) -> bool:
    """Return whether a row is empty (spreadsheets leave such rows at the end)."""
    return not any(c.strip() for c in cells)


class Rows(Iterator[list[str]]):
    """The rows of one file as lists of strings. Once read to the end, `cut_short` tells
    whether a CSV's last line lacked its line ending (a download or copy cut in the middle)."""

    def __init__(self, source: Source):
        self.last_row = 0
        self._ending = _Ending()  # shared with the CSV reader (no cycle back to self)
        self._rows = self._open(source)

    @property
    def cut_short(self) -> bool:
        """Return whether the file ended without a line ending (known once read to the end)."""
        return self._ending.cut_short

    def __next__(self) -> list[str]:
        cells = next(self._rows)
        self.last_row += 1
        return cells

    def _open(self, source: Source) -> Iterator[list[str]]:
        """Pick the reader by the file name's extension."""
        suffix = PurePath(source.name).suffix.lower()
        if suffix == ".xls":
            raise Bad("xls")
        if suffix in (".xlsx", ".xlsm"):
            return _xlsx_rows(source)
        if suffix == ".zip":
            return _zipped_csv_rows(source, self._ending)
        return _csv_rows(source.stream, self._ending)


def read_rows(source: Source) -> Rows:
    """Return the rows of a CSV, zipped CSV or XLSX file as lists of strings."""
    return Rows(source)


class _Ending:
    """Whether a CSV's last line lacked its line ending."""

    cut_short = False


def _csv_rows(stream: BinaryIO, ending: _Ending) -> Iterator[list[str]]:
    """Yield CSV rows after checking the file is UTF-8 text (a BOM is optional)."""
    _check_text_encoding(stream.read(65536))
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    lines = _Lines(text)
    row = 0
    try:
        for row, cells in enumerate(csv.reader(lines), start=1):
            if row > 1 and cells and cells[0].startswith("\ufeff"):
                raise Bad("bom_inside", row)
            yield cells
    except UnicodeDecodeError as exc:  # at the very end: a character cut in half
        raise Bad(
            "cut_short" if exc.reason == "unexpected end of data" else "bad_bytes", row + 1
        ) from exc
    except csv.Error as exc:
        raise Bad("bad_csv", row + 1, error=exc) from exc
    finally:
        text.detach()  # the caller owns the stream
    ending.cut_short = lines.last != "" and not lines.last.endswith(("\n", "\r"))


class _Lines:
    """Iterate over text lines, remembering the last one (to see if it has a line ending)."""

    def __init__(self, text: io.TextIOWrapper):
        self.text, self.last = text, ""

    def __iter__(self):
        return self

    def __next__(self) -> str:
        self.last = next(self.text)
        return self.last


def _check_text_encoding(sample: bytes) -> None:
    """Refuse files that are not UTF-8 text, naming what they look like instead."""
    if sample.startswith(b"PK\x03\x04"):
        raise Bad("zip_as_csv")
    if sample[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise Bad("utf16")
    if sample.startswith(codecs.BOM_UTF8) and not _decodes(sample, "utf-8"):
        raise Bad("bom_mismatch")
    if not _decodes(sample, "utf-8"):
        raise Bad("sjis" if _decodes(sample, "cp932") else "not_utf8")


def _decodes(sample: bytes, encoding: str) -> bool:
    """Return whether the sample decodes (a character cut at the end is fine)."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _require_zip(source: Source, key: str) -> None:
    """Refuse a file that claims to be a ZIP container (xlsx, zip) but is not."""
    if not zipfile.is_zipfile(source.stream):
        raise Bad(key)
    source.stream.seek(0)


def _zipped_csv_rows(source: Source, ending: _Ending) -> Iterator[list[str]]:
    """Yield the rows of the one CSV inside a ZIP (as MHLW publishes them)."""
    _require_zip(source, "not_zip")
    with zipfile.ZipFile(source.stream) as archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if len(members) != 1:
            raise Bad("zip_members")
        with archive.open(members[0]) as member:  # seekable, so it can be sniffed and re-read
            yield from _csv_rows(member, ending)


def _xlsx_rows(source: Source) -> Iterator[list[str]]:
    """Yield the rows of the first worksheet, read-only, values not formulas."""
    _require_zip(source, "not_xlsx")
    try:
        with warnings.catch_warnings():  # openpyxl warns about styles it ignores
            warnings.simplefilter("ignore")
            book = load_workbook(source.stream, read_only=True, data_only=True)
    except Exception as exc:  # a ZIP that is not a workbook: openpyxl raises several kinds
        raise Bad("bad_xlsx") from exc
    sheet = book.worksheets[0]
    sheet.reset_dimensions()  # read the rows there are, not the size the file declares
    deadline = time.monotonic() + XLSX_MAX_SECONDS
    try:
        values = sheet.iter_rows(max_col=XLSX_MAX_COLUMNS, values_only=True)
        for row, cells in enumerate(values, start=1):
            _check_sheet_limits(row, deadline)
            yield [_xlsx_text(v) for v in cells]
    except Bad:
        raise
    except (ValueError, TypeError, KeyError) as exc:  # a cell openpyxl cannot read
        raise Bad("bad_xlsx") from exc
    finally:
        book.close()


def _check_sheet_limits(row: int, deadline: float) -> None:
    """Refuse a sheet with more rows than a facility list has, or one that takes too long."""
    if row > XLSX_MAX_ROWS:
        raise Bad("too_many_rows", row, limit=f"{XLSX_MAX_ROWS:,}")
    if time.monotonic() > deadline:
        raise Bad("too_slow", row, seconds=f"{XLSX_MAX_SECONDS:g}")


def _xlsx_text(value: Any) -> str:
    """Turn a cell value into text as the user typed it (13101.0 -> '13101')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
