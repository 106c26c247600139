"""The admin's facility template (CSV UTF-8 or XLSX, Japanese headers): reading and writing it."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from typing import Any, BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font

from surveys.models.facility import CONTACT_KINDS, FACILITY_KINDS

from .fields import (
    category_of,
    collect,
    coordinates,
    limited,
    normalise_municipality,
    normalise_postal_code,
    parse_category,
    parse_email,
    parse_kind,
    parse_phone,
    parse_url,
    required,
)
from .messages import Bad
from .readers import Header, blank, cell
from .records import FacilityRecord, ParsedImport

# (header, field). Text in brackets is a hint for whoever fills it in; matching ignores it.
TEMPLATE_COLUMNS = (
    ("施設ID", "source_id"),
    ("名称", "name"),
    ("フリガナ", "kana"),
    ("種別（病院/診療所）", "kind"),
    ("診療科（「、」区切り）", "departments"),
    ("郵便番号", "postal_code"),
    ("所在地", "address"),
    ("市区町村コード（5桁）", "municipality_code"),
    ("緯度", "lat"),
    ("経度", "lng"),
    ("電話番号", "phone"),
    ("メールアドレス（調査の案内先）", "email"),
    ("ホームページ", "website"),
    ("診療時間", "hours"),
    # Optional (older templates have no such column): a contact point's kind is written in 種別.
    (
        "区分（精神科/産科/相談窓口。空欄は診療科から判断。"
        "相談窓口の種別：こども家庭センター/保健センター/その他の相談窓口）",
        "category",
    ),
)
TEMPLATE_REQUIRED = ("施設ID", "名称", "種別", "診療科", "所在地", "市区町村コード")


def parse_template(parsed: ParsedImport, header: Header, rows: Iterator[list[str]]) -> None:
    """Read the admin template: psychiatric and obstetric institutions, contact points."""
    parsed.format = "template"
    header.require(TEMPLATE_REQUIRED, hinted=True)
    columns = {f: header.find(_base(h), True) for h, f in TEMPLATE_COLUMNS}
    columns = {f: col for f, col in columns.items() if col is not None}
    first_row: dict[str, int] = {}
    filled = 0
    for row, cells in enumerate(rows, start=2):
        if not blank(cells):
            filled += 1
            raw = {f: cell(cells, col) for f, col in columns.items()}
            _template_record(parsed, row, raw, first_row)
    if not filled:
        raise Bad("no_rows", 1)


def _base(label: str) -> str:
    """Return a template header without its bracketed hint."""
    return label.split("（")[0]


def _template_record(parsed: ParsedImport, row: int, raw: dict, first_row: dict) -> None:
    """Validate one template row and keep it when of a category and in the prefecture."""
    values: dict[str, Any] = {}
    problems = len(parsed.problems)
    collect(parsed, row, values, _template_checks(row, raw, first_row))
    if len(parsed.problems) == problems:
        parsed.problems.extend(p.at(row) for p in _category_problems(values))
    if len(parsed.problems) == problems:  # else refused anyway; the problems name this row
        _keep(parsed, row, values)


def _category_problems(values: dict[str, Any]) -> list[Bad]:
    """Settle the row's category (区分, else its departments) and check what it needs.

    A contact point needs a contact point's kind and a phone; a medical institution needs
    departments and the kind hospital or clinic. A row of no category is skipped later.
    """
    departments = values.get("departments", "")
    category = values.pop("category", "") or category_of(departments.split("、"))
    values["category"] = category
    kind = values.get("kind", "")
    if category == "municipal":
        problems = [] if kind in CONTACT_KINDS else [Bad("contact_kind", value=kind)]
        return problems + ([] if values.get("phone") else [Bad("contact_phone")])
    if category is None:  # skipped as not psychiatric; a row with no department at all is refused
        return [] if departments else [Bad("no_departments")]
    problems = [] if departments else [Bad("no_departments")]
    return problems + ([] if kind in FACILITY_KINDS else [Bad("facility_kind", value=kind)])


def _template_checks(row: int, raw: dict, first_row: dict) -> dict:
    """Return the converters of the fields this row has, by field name."""
    checks = {f: _template_check(f, raw) for f in raw if f not in ("source_id", "lat", "lng")}
    checks["source_id"] = lambda: _unique_id(raw["source_id"], row, first_row)
    if "lat" in raw or "lng" in raw:
        checks["lat"] = lambda: coordinates(raw.get("lat", ""), raw.get("lng", "")) or (None, None)
    return checks


def _keep(parsed: ParsedImport, row: int, values: dict[str, Any]) -> None:
    """Add a valid row as a record, or count it when out of the prefecture or not psychiatric."""
    if "lat" in values:
        values["lat"], values["lng"] = values["lat"]
    values["prefecture_code"] = values["municipality_code"][:2]
    if values["prefecture_code"] != parsed.prefecture_code:
        parsed.skipped_other_prefecture += 1
    elif values["category"] is None:
        parsed.skipped_not_psychiatric += 1
    else:
        parsed.kinds.add(values["kind"])
        parsed.records.append(FacilityRecord(row, values.pop("source_id"), values))


def _template_check(name: str, raw: dict):
    """Return the converter of one template field."""
    value = raw[name]
    converters = {
        "name": lambda: required(value, "name"),
        "kana": lambda: limited(unicodedata.normalize("NFKC", value), "kana"),
        "kind": lambda: parse_kind(value),
        "departments": lambda: _template_departments(value),
        "category": lambda: parse_category(value) if value.strip() else "",
        "postal_code": lambda: normalise_postal_code(value),
        "address": lambda: required(value, "address"),
        "municipality_code": lambda: normalise_municipality(value),
        "phone": lambda: parse_phone(value),
        "email": lambda: parse_email(value),
        "website": lambda: parse_url(value),
        "hours": lambda: limited(value, "hours"),
    }
    return converters[name]


def _unique_id(source_id: str, row: int, first_row: dict) -> str:
    """Refuse an empty or repeated facility ID."""
    if not source_id:
        raise Bad("empty_id")
    if source_id in first_row:
        raise Bad("duplicate_id", id=source_id, first=first_row[source_id])
    first_row[source_id] = row
    return limited(source_id, "source_id")


def _template_departments(value: str) -> str:
    """Split departments on 、 , ; or new lines and join them with 、."""
    names = [n.strip(" \u3000") for n in re.split(r"[、,，;；\n]", value)]
    return limited("、".join(dict.fromkeys(n for n in names if n)), "departments")


def template_csv() -> bytes:
    """Return the empty template as CSV UTF-8 with BOM and CRLF (what Excel opens cleanly)."""
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerow(h for h, _f in TEMPLATE_COLUMNS)
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def write_template_xlsx(stream: BinaryIO) -> None:
    """Write the empty template as XLSX; code-like columns are text so leading zeros survive."""
    book = Workbook()
    sheet = book.active
    sheet.title = "施設一覧"
    sheet.append([h for h, _f in TEMPLATE_COLUMNS])
    sheet.freeze_panes = "A2"
    for i, (_h, name) in enumerate(TEMPLATE_COLUMNS, start=1):
        sheet.cell(row=1, column=i).font = Font(bold=True)
        letter = sheet.cell(row=1, column=i).column_letter
        wide = name in ("address", "hours", "email")
        sheet.column_dimensions[letter].width = 40 if wide else 18
        if name in ("source_id", "postal_code", "municipality_code", "phone"):
            for row in range(2, 1001):
                sheet.cell(row=row, column=i).number_format = "@"
    book.save(stream)
