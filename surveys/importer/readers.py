"""Reading rows from CSV (UTF-8, optionally zipped) and XLSX files, refusing other encodings."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, BinaryIO

from openpyxl import load_workbook

from .messages import Bad
from .records import Source


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


def read_rows(source: Source) -> Iterator[list[str]]:
    """Yield the rows of a CSV, zipped CSV or XLSX file as lists of strings."""
    suffix = PurePath(source.name).suffix.lower()
    if suffix == ".xls":
        raise Bad("xls")
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(source)
    if suffix == ".zip":
        return _zipped_csv_rows(source)
    return _csv_rows(source.stream)


def _csv_rows(stream: BinaryIO) -> Iterator[list[str]]:
    """Yield CSV rows after checking the file is UTF-8 text (a BOM is optional)."""
    _check_text_encoding(stream.read(65536))
    stream.seek(0)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    row = 0
    try:
        for row, cells in enumerate(csv.reader(text), start=1):  # noqa: B007
            yield cells
    except UnicodeDecodeError as exc:
        raise Bad("bad_bytes", row + 1) from exc
    except csv.Error as exc:
        raise Bad("bad_csv", row + 1, error=exc) from exc
    finally:
        text.detach()  # the caller owns the stream


def _check_text_encoding(sample: bytes) -> None:
    """Refuse files that are not UTF-8 text, naming what they look like instead."""
    if sample.startswith(b"PK\x03\x04"):
        raise Bad("zip_as_csv")
    if sample[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise Bad("utf16")
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


def _zipped_csv_rows(source: Source) -> Iterator[list[str]]:
    """Yield the rows of the one CSV inside a ZIP (as MHLW publishes them)."""
    _require_zip(source, "not_zip")
    with zipfile.ZipFile(source.stream) as archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if len(members) != 1:
            raise Bad("zip_members")
        with archive.open(members[0]) as member:  # seekable, so it can be sniffed and re-read
            yield from _csv_rows(member)


def _xlsx_rows(source: Source) -> Iterator[list[str]]:
    """Yield the rows of the first worksheet, read-only, values not formulas."""
    _require_zip(source, "not_xlsx")
    try:
        with warnings.catch_warnings():  # openpyxl warns about styles it ignores
            warnings.simplefilter("ignore")
            book = load_workbook(source.stream, read_only=True, data_only=True)
    except Exception as exc:  # a ZIP that is not a workbook: openpyxl raises several kinds
        raise Bad("bad_xlsx") from exc
    try:
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield [_xlsx_text(v) for v in values]
    except (ValueError, TypeError, KeyError) as exc:  # a cell openpyxl cannot read
        raise Bad("bad_xlsx") from exc
    finally:
        book.close()


def _xlsx_text(value: Any) -> str:
    """Turn a cell value into text as the user typed it (13101.0 -> '13101')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
