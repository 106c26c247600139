"""CSV and XLSX writers that spreadsheet programs open as text, never as formulas."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from surveys.exports.table import Table

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SHEET_TITLES = {"ja": "施設一覧", "en": "Facilities"}


def write_csv(table: Table) -> bytes:
    """Return the table as CSV in UTF-8 with a BOM and CRLF (what Excel in Japan expects)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_value(h) for h in table.headers])
    writer.writerows([csv_value(v) for v in row] for row in table.rows)
    return buffer.getvalue().encode("utf-8-sig")


def csv_value(value: Any) -> str:
    """Render one CSV cell; formula-like text gets a leading quote so it stays text."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def write_xlsx(table: Table, lang: str) -> bytes:
    """Return the table as an XLSX workbook: text as text, numbers as numbers, dates as dates."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLES[lang]
    for column, header in enumerate(table.headers, start=1):
        put(sheet.cell(row=1, column=column), header).font = Font(bold=True)
    for row_no, row in enumerate(table.rows, start=2):
        for column, value in enumerate(row, start=1):
            put(sheet.cell(row=row_no, column=column), value)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def put(cell, value: Any):
    """Store a value in a cell; a string is always a string, whatever it begins with."""
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
        # openpyxl makes any string starting with "=" a formula: force the string type.
        cell.data_type = "s"
        # Excel's quote prefix keeps it text even after someone edits the cell.
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
        return cell
    cell.value = value
    if isinstance(value, date):
        cell.number_format = "yyyy-mm-dd"
    return cell
