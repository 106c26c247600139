"""Facility master import: parse a file (no database), then apply it (caller commits).

Two formats, told apart by their header row:
- 医療情報ネット open data: the 施設票 (`01-1_hospital_facility_info_*.csv` or
  `02-1_clinic_facility_info_*.csv`, optionally still zipped) joined by ID with its
  診療科・診療時間票 (`*_speciality_hours_*.csv`); UTF-8 with BOM, CRLF.
- the admin's template (CSV UTF-8 or XLSX) with Japanese headers, see TEMPLATE_COLUMNS.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, BinaryIO

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from sqlmodel import Session, select

from surveys import audit
from surveys.errors import FacilityImportError
from surveys.models import Facility, IndexOutbox, utcnow

Problem = tuple[int, str]  # (spreadsheet row number, header = 1; 0 = the whole file; reason)

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
    ("ホームページ", "website"),
    ("診療時間", "hours"),
)
TEMPLATE_REQUIRED = ("施設ID", "名称", "種別", "診療科", "所在地", "市区町村コード")

MHLW_REQUIRED = ("ID", "正式名称", "都道府県コード", "市区町村コード", "所在地")
MHLW_COORDINATES = ("所在地座標（緯度）", "所在地座標（経度）")
# Optional: the 2024+ files have the first two; 郵便番号 and 電話番号 are read if a future
# edition adds them. 機関区分 only helps when the file name does not say hospital or clinic.
MHLW_OPTIONAL = {
    "kana": "正式名称（フリガナ）",
    "website": "案内用ホームページアドレス",
    "postal_code": "郵便番号",
    "phone": "電話番号",
}
SPECIALITY_REQUIRED = ("ID", "診療科目名")
DAYS = "月火水木金土日祝"

# 診療科目コード group 07 is 精神科系 (精神科, 神経科, 心療内科, 老年精神科, 老年心療内科, other).
# By name we also take 児童精神科 (code 03005) and free-text variants such as 神経精神科: a child
# psychiatry clinic is still a psychiatric institution the survey must reach; it answers "no".
PSYCHIATRIC_CODE_GROUP = "07"
PSYCHIATRIC_NAMES = ("精神", "心療内科")
LAT_RANGE, LNG_RANGE = (20.0, 46.0), (122.0, 154.0)
LIMITS = {"source_id": 40, "name": 200, "kana": 200, "address": 300, "phone": 40,
          "website": 500, "hours": 1000, "departments": 500}  # fmt: skip
FIELD_LABELS = {"source_id": "施設ID", "name": "名称", "kana": "フリガナ", "address": "所在地",
                "departments": "診療科", "phone": "電話番号", "website": "ホームページ",
                "hours": "診療時間"}  # fmt: skip
# 病院/診療所 as the admin writes them; 1/2 as we assume 機関区分 codes them (unconfirmed).
KIND_LABELS = {"病院": "hospital", "hospital": "hospital", "1": "hospital",
               "診療所": "clinic", "クリニック": "clinic", "clinic": "clinic",
               "2": "clinic"}  # fmt: skip


# Every reason the import gives, in Japanese and English: one place to review the wording.
MESSAGES = {
    "xls": ("古い Excel 形式（.xls）は読めません。.xlsx か CSV UTF-8 で保存してください。",
            "Old Excel files (.xls) are not supported: save as .xlsx or CSV UTF-8."),
    "not_xlsx": ("拡張子は .xlsx ですが Excel ファイルではありません。",
                 "The file is named .xlsx but is not an Excel workbook."),
    "bad_xlsx": ("Excel ファイルとして読めません。", "Not a readable Excel workbook."),
    "not_zip": ("拡張子は .zip ですが ZIP ファイルではありません。",
                "The file is named .zip but is not a ZIP file."),
    "zip_members": ("ZIP の中に CSV がちょうど1つ必要です。", "The ZIP must hold exactly one CSV."),
    "zip_as_csv": ("CSV ではなく ZIP / Excel ファイルです。拡張子を確認してください。",
                   "This is a ZIP or Excel file, not CSV: check the file extension."),
    "utf16": ("文字コードが UTF-16 です。CSV UTF-8（コンマ区切り）で保存し直してください。",
              "The file is UTF-16: save it again as CSV UTF-8."),
    "sjis": ("文字コードが Shift_JIS のようです。UTF-8 で保存し直してください"
             "（Excel では「CSV UTF-8（コンマ区切り）」）。",
             "The file looks like Shift_JIS: save it again as UTF-8 "
             "(in Excel: 'CSV UTF-8 (Comma delimited)')."),
    "not_utf8": ("文字コードが UTF-8 ではありません。UTF-8 で保存し直してください。",
                 "The file is not UTF-8: save it again as UTF-8."),
    "bad_bytes": ("この行の付近に UTF-8 として読めない文字があります。",
                  "Bytes that are not UTF-8 near this row."),
    "bad_csv": ("CSV として読めません（{error}）。", "Not valid CSV ({error})."),
    "unknown_format": ("見出し行から形式を判断できません。医療情報ネットの施設票（ID, 正式名称, …）"
                       "か、施設一覧テンプレート（施設ID, 名称, …）を使ってください。",
                       "Unknown headers: use an MHLW facility file (ID, 正式名称, ...) or the "
                       "facility template (施設ID, 名称, ...)."),
    "speciality_as_main": ("これは診療科・診療時間票です。施設票を指定し、"
                           "この票は --speciality で渡してください。",
                           "This is the speciality/hours file: give the facility file, and this "
                           "one as --speciality."),
    "speciality_needed": ("医療情報ネットの施設票には診療科・診療時間票"
                          "（--speciality）が必要です。",
                          "An MHLW facility file needs its speciality/hours file (--speciality)."),
    "speciality_unused": ("診療科・診療時間票は医療情報ネットの施設票とだけ使えます。",
                          "The speciality file goes only with an MHLW facility file."),
    "out_of_scope": ("歯科診療所・薬局・助産所の票は対象外です。"
                     "病院か診療所の施設票を使ってください。",
                     "Dental, pharmacy and maternity files are out of scope: use the hospital or "
                     "clinic facility file."),
    "unknown_kind": ("病院・診療所のどちらの施設票か判断できません。"
                     "ファイル名に hospital か clinic を含めてください"
                     "（例: 02-1_clinic_facility_info_20260601.csv）。",
                     "Cannot tell whether this lists hospitals or clinics: keep 'hospital' or "
                     "'clinic' in the file name (e.g. 02-1_clinic_facility_info_20260601.csv)."),
    "missing_columns": ("必要な列がありません: {columns}", "Missing required columns: {columns}"),
    "empty_id": ("IDが空です", "The ID is empty"),
    "duplicate_id": ("IDが重複しています（{first}行目と同じ {id}）",
                     "Duplicate ID {id} (same as row {first})"),
    "empty": ("{label}が空です", "{field} is empty"),
    "too_long": ("{label}が長すぎます（{limit}文字まで）",
                 "{field} is too long (at most {limit} characters)"),
    "kind": ("種別は「病院」か「診療所」です（「{value}」）",
             "Kind must be 病院 (hospital) or 診療所 (clinic), not '{value}'"),
    "municipality": ("市区町村コードが正しくありません（「{value}」）",
                     "Invalid municipality code '{value}'"),
    "check_digit": ("市区町村コードの検査数字が合いません（「{value}」）",
                    "Municipality code '{value}': wrong check digit"),
    "other_prefecture_code": ("市区町村コード「{value}」が都道府県コード{prefecture}と合いません",
                              "Municipality code '{value}' is not in prefecture {prefecture}"),
    "postal_code": ("郵便番号が正しくありません（「{value}」）", "Invalid postal code '{value}'"),
    "phone": ("電話番号が正しくありません（「{value}」）", "Invalid phone number '{value}'"),
    "url": ("ホームページは http:// か https:// で始まるアドレスです（「{value}」）",
            "The website must be an http(s) address, not '{value}'"),
    "not_number": ("{label}が数値ではありません（「{value}」）",
                   "The {field} '{value}' is not a number"),
    "outside_japan": ("{label}が日本の範囲外です（{value}）",
                      "The {field} {value} is outside Japan ({low}-{high})"),
    "no_departments": ("診療科が空です", "No department given"),
    "website_dropped": ("ホームページのアドレスが正しくないため空欄にしました（「{value}」）",
                        "website '{value}' is not an http(s) address: left empty"),
    "no_coordinates": ("座標がありません（距離検索に出ません）",
                       "no coordinates (not found by distance)"),
    "bad_time": ("時刻を読めないため診療時間から除きました（{value}）",
                 "unreadable time {value} left out of the hours"),
    "in_speciality": ("診療科・診療時間票: {ja}", "speciality file: {en}"),
}  # fmt: skip


def _text(key: str, **values: Any) -> str:
    """Return the bilingual reason 'ja / en' for a message key."""
    ja, en = MESSAGES[key]
    return f"{ja.format(**values)} / {en.format(**values)}"


class _Bad(ValueError):
    """One value (or the whole file) is unusable; `row` 0 means the whole file."""

    def __init__(self, key: str, row: int = 0, **values: Any):
        self.text = _text(key, **values)
        self.row = row
        super().__init__(self.text)


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
    kinds: set[str] = field(default_factory=set)
    records: list[FacilityRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    skipped_not_psychiatric: int = 0
    skipped_other_prefecture: int = 0


@dataclass
class FacilityChange:
    """A facility the import creates or changes: field -> (before, after)."""

    source_id: str
    name: str
    fields: dict[str, tuple[Any, Any]]


@dataclass
class ImportReport:
    """The outcome of applying (or dry-running) an import."""

    source: str
    dry_run: bool
    new: list[FacilityChange] = field(default_factory=list)
    changed: list[FacilityChange] = field(default_factory=list)
    unchanged: int = 0
    skipped_not_psychiatric: int = 0
    skipped_other_prefecture: int = 0
    missing: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Return the counts, as stored in the audit event."""
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "skipped_not_psychiatric": self.skipped_not_psychiatric,
            "skipped_other_prefecture": self.skipped_other_prefecture,
            "missing": len(self.missing),
        }


# ---------------------------------------------------------------- parsing


def parse_import(
    source: Source, prefecture_code: str, speciality: Source | None = None
) -> ParsedImport:
    """Read a facility file (and the MHLW speciality file) into records and problems."""
    parsed = ParsedImport(source=source.name, prefecture_code=prefecture_code)
    try:
        rows = _rows(source)
        header = _Header(next(rows, []))
        if header.has("正式名称") and header.has("ID"):
            _parse_mhlw(parsed, source, header, rows, speciality)
        elif header.has("施設ID"):
            if speciality is not None:
                raise _Bad("speciality_unused")
            _parse_template(parsed, header, rows)
        else:
            raise _Bad("speciality_as_main" if header.has("診療科目名") else "unknown_format", 1)
    except _Bad as bad:
        parsed.problems.append((bad.row, bad.text))
    parsed.problems.sort(key=lambda p: p[0])
    return parsed


def read_import(
    source: Source, prefecture_code: str, speciality: Source | None = None
) -> ParsedImport:
    """Parse like parse_import, raising FacilityImportError when the file is refused."""
    parsed = parse_import(source, prefecture_code, speciality)
    if parsed.problems:
        raise FacilityImportError(parsed.problems)
    return parsed


class _Header:
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
            raise _Bad("missing_columns", 1, columns="、".join(missing))
        return {n: self.find(n, hinted) for n in names}


def _key(header: Any) -> str:
    """Normalise a header cell for matching."""
    text = unicodedata.normalize("NFKC", str(header or "")).replace("\ufeff", "")
    return re.sub(r"\s+", "", text)


def _cell(cells: list[str], column: int | None) -> str:
    """Return a trimmed cell, '' when the column is absent or the row is short."""
    if column is None or column >= len(cells):
        return ""
    return cells[column].strip(" \t\r\n\u3000")


def _blank(cells: list[str]) -> bool:
    """Return whether a row is empty (spreadsheets leave such rows at the end)."""
    return not any(c.strip() for c in cells)


# ---------------------------------------------------------------- reading files


def _rows(source: Source) -> Iterator[list[str]]:
    """Yield the rows of a CSV, zipped CSV or XLSX file as lists of strings."""
    suffix = PurePath(source.name).suffix.lower()
    if suffix == ".xls":
        raise _Bad("xls")
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
        raise _Bad("bad_bytes", row + 1) from exc
    except csv.Error as exc:
        raise _Bad("bad_csv", row + 1, error=exc) from exc
    finally:
        text.detach()  # the caller owns the stream


def _check_text_encoding(sample: bytes) -> None:
    """Refuse files that are not UTF-8 text, naming what they look like instead."""
    if sample.startswith(b"PK\x03\x04"):
        raise _Bad("zip_as_csv")
    if sample[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise _Bad("utf16")
    if not _decodes(sample, "utf-8"):
        raise _Bad("sjis" if _decodes(sample, "cp932") else "not_utf8")


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
        raise _Bad(key)
    source.stream.seek(0)


def _zipped_csv_rows(source: Source) -> Iterator[list[str]]:
    """Yield the rows of the one CSV inside a ZIP (as MHLW publishes them)."""
    _require_zip(source, "not_zip")
    with zipfile.ZipFile(source.stream) as archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
        if len(members) != 1:
            raise _Bad("zip_members")
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
        raise _Bad("bad_xlsx") from exc
    try:
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield [_xlsx_text(v) for v in values]
    finally:
        book.close()


def _xlsx_text(value: Any) -> str:
    """Turn a cell value into text as the user typed it (13101.0 -> '13101')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- MHLW open data


@dataclass
class _Department:
    """One row of the speciality file for a facility we keep."""

    code: str
    name: str
    spans: dict[str, list[tuple[int, int]]]


def _parse_mhlw(parsed, source, header, rows, speciality) -> None:
    """Join the MHLW facility file with its speciality file, keeping psychiatric facilities."""
    parsed.format = "mhlw"
    kind = _kind_from_file_name(source.name)
    columns = header.require(MHLW_REQUIRED + MHLW_COORDINATES)
    if kind is None and not header.has("機関区分"):
        raise _Bad("unknown_kind", 1)
    if speciality is None:
        raise _Bad("speciality_needed")
    extra = {f: header.find(h) for f, h in MHLW_OPTIONAL.items() if header.has(h)}
    columns["機関区分"] = header.find("機関区分")
    parsed.kinds |= {kind} if kind else set()
    candidates = _mhlw_candidates(parsed, rows, columns, extra)
    departments = _read_speciality(parsed, speciality, set(candidates))
    for source_id, raw in candidates.items():
        _mhlw_record(parsed, source_id, raw, departments.get(source_id, []), kind)


def _kind_from_file_name(name: str) -> str | None:
    """Tell hospital and clinic files apart by the MHLW file name."""
    lower = PurePath(name).name.lower()
    if any(other in lower for other in ("dental", "pharmacy", "maternity")):
        raise _Bad("out_of_scope")
    return next((k for k in ("hospital", "clinic") if k in lower), None)


def _mhlw_candidates(parsed, rows, columns, extra) -> dict[str, dict]:
    """Return the rows in the configured prefecture by ID; count the others."""
    candidates: dict[str, dict] = {}
    for row, cells in enumerate(rows, start=2):
        if _blank(cells):
            continue
        if _prefecture(_cell(cells, columns["都道府県コード"])) != parsed.prefecture_code:
            parsed.skipped_other_prefecture += 1
            continue
        raw = {name: _cell(cells, col) for name, col in (columns | extra).items()}
        raw["row"] = row
        _add_candidate(parsed, candidates, raw)
    return candidates


def _add_candidate(parsed, candidates: dict, raw: dict) -> None:
    """Keep a row by ID, refusing empty and duplicate IDs."""
    source_id, row = raw["ID"], raw["row"]
    if not source_id:
        parsed.problems.append((row, _text("empty_id")))
    elif source_id in candidates:
        first = candidates[source_id]["row"]
        parsed.problems.append((row, _text("duplicate_id", id=source_id, first=first)))
    else:
        candidates[source_id] = raw


def _prefecture(value: str) -> str:
    """Return a 2-digit prefecture code ('13', '13.0', '１３' -> '13'), '' if not one."""
    text = unicodedata.normalize("NFKC", value).removesuffix(".0")
    return text.zfill(2) if text.isdigit() and len(text) <= 2 else ""


def _read_speciality(parsed, speciality: Source, wanted: set[str]) -> dict[str, list]:
    """Read the speciality/hours rows of the wanted facilities; problems name the file."""
    found: dict[str, list[_Department]] = {}
    problems: list[Problem] = []
    try:
        rows = _rows(speciality)
        header = _Header(next(rows, []))
        columns = header.require(SPECIALITY_REQUIRED)
        columns["診療科目コード"] = header.find("診療科目コード")
        times = {d: [header.find(f"{d}_診療{e}時間") for e in ("開始", "終了")] for d in DAYS}
        for row, cells in enumerate(rows, start=2):
            _speciality_row(parsed, found, wanted, (row, cells), (columns, times), problems)
    except _Bad as bad:
        problems.append((bad.row, bad.text))
    parsed.problems += [(row, _in_speciality(text)) for row, text in problems]
    return found


def _in_speciality(text: str) -> str:
    """Prefix a 'ja / en' reason with the file it is about."""
    ja, en = text.split(" / ", 1)
    return _text("in_speciality", ja=ja, en=en)


def _speciality_row(parsed, found, wanted, numbered, layout, problems) -> None:
    """Add one speciality row to its facility, if we keep that facility."""
    row, cells = numbered
    columns, times = layout
    source_id = _cell(cells, columns["ID"])
    if not source_id and not _blank(cells):
        problems.append((row, _text("empty_id")))
    if source_id not in wanted:
        return
    spans = {d: _span(parsed, row, cells, cols) for d, cols in times.items()}
    department = _Department(
        code=_cell(cells, columns["診療科目コード"]),
        name=_cell(cells, columns["診療科目名"]),
        spans={d: [s] for d, s in spans.items() if s},
    )
    found.setdefault(source_id, []).append(department)


def _span(parsed, row: int, cells: list[str], columns) -> tuple[int, int] | None:
    """Return (start, end) minutes of one day's consultation slot, None when absent."""
    start, end = (_cell(cells, c) for c in columns)
    if not start or not end:
        return None
    try:
        a, b = _minutes(start), _minutes(end)
    except ValueError:
        parsed.warnings.append((row, _in_speciality(_text("bad_time", value=f"{start}-{end}"))))
        return None
    if a == b:  # the open data fills unused slots with equal start and end
        return None
    return (a, b if b > a else b + 24 * 60)


def _minutes(text: str) -> int:
    """Parse 'H:MM' or 'HH:MM' into minutes after midnight."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", unicodedata.normalize("NFKC", text))
    if not match or int(match[1]) > 24 or int(match[2]) > 59:
        raise ValueError(text)
    return int(match[1]) * 60 + int(match[2])


def is_psychiatric(name: str, code: str = "") -> bool:
    """Return whether a department is psychiatric (精神科・心療内科 and close variants)."""
    text = unicodedata.normalize("NFKC", name)
    return (
        code.startswith(PSYCHIATRIC_CODE_GROUP)
        or text == "神経科"
        or any(n in text for n in PSYCHIATRIC_NAMES)
    )


def _mhlw_record(parsed, source_id: str, raw: dict, departments: list, kind) -> None:
    """Turn one psychiatric facility row into a record, collecting its problems."""
    psychiatric = [d for d in departments if is_psychiatric(d.name, d.code)]
    if not psychiatric:
        parsed.skipped_not_psychiatric += 1
        return
    values = {
        "prefecture_code": parsed.prefecture_code,
        "departments": _join_departments([d.name for d in departments]),
        "hours": format_hours(psychiatric),
    }
    prefecture = parsed.prefecture_code
    checks = {
        "name": lambda: _required(raw["正式名称"], "name"),
        "kind": lambda: kind or _kind(raw["機関区分"]),
        "municipality_code": lambda: normalise_municipality(raw["市区町村コード"], prefecture),
        "address": lambda: _required(raw["所在地"], "address"),
    }
    optional = {
        "kana": lambda: _limited(unicodedata.normalize("NFKC", raw["kana"]), "kana"),
        "postal_code": lambda: normalise_postal_code(raw["postal_code"]),
        "phone": lambda: _phone(raw["phone"]),
        "website": lambda: _website(parsed, raw["row"], raw["website"]),
    }
    _collect(parsed, raw["row"], values, checks | {f: c for f, c in optional.items() if f in raw})
    _mhlw_coordinates(parsed, raw["row"], values, raw)
    parsed.kinds.add(values.get("kind", "clinic"))
    parsed.records.append(FacilityRecord(raw["row"], source_id, values))


def _mhlw_coordinates(parsed, row: int, values: dict, raw: dict) -> None:
    """Set coordinates; 0.0/0.0 or blank means unknown and leaves stored ones alone."""
    try:
        point = coordinates(*(raw[c] for c in MHLW_COORDINATES), zero_unknown=True)
    except _Bad as bad:
        parsed.problems.append((row, bad.text))
        return
    if point is None:
        parsed.warnings.append((row, _text("no_coordinates")))
    else:
        values["lat"], values["lng"] = point


def _join_departments(names: list[str]) -> str:
    """Join unique department names with 、, dropping trailing ones past the column size."""
    unique = list(dict.fromkeys(n for n in names if n))
    while len("、".join(unique)) > LIMITS["departments"]:
        others = [n for n in unique if not is_psychiatric(n)]
        unique.remove(others[-1] if others else unique[-1])
    return "、".join(unique)


def format_hours(departments: list[_Department]) -> str:
    """Summarise consultation hours: '月・火 09:00-12:00, 14:00-18:00 / 土 09:00-12:00'."""
    by_day = {d: _merge([s for dep in departments for s in dep.spans.get(d, [])]) for d in DAYS}
    groups: dict[str, list[str]] = {}
    for day, spans in by_day.items():
        if spans:
            text = ", ".join(f"{_hhmm(a)}-{_hhmm(b)}" for a, b in spans)
            groups.setdefault(text, []).append("祝日" if day == "祝" else day)
    return " / ".join(f"{'・'.join(days)} {text}" for text, days in groups.items())[:1000]


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping time spans."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _hhmm(minutes: int) -> str:
    """Format minutes after midnight (past 24:00 for overnight slots) as HH:MM."""
    return f"{minutes // 60 % 24:02d}:{minutes % 60:02d}"


# ---------------------------------------------------------------- the admin template


def _parse_template(parsed: ParsedImport, header: _Header, rows) -> None:
    """Read the admin template: every row with a psychiatric department is a record."""
    parsed.format = "template"
    header.require(TEMPLATE_REQUIRED, hinted=True)
    columns = {f: header.find(_base(h), True) for h, f in TEMPLATE_COLUMNS}
    columns = {f: col for f, col in columns.items() if col is not None}
    first_row: dict[str, int] = {}
    for row, cells in enumerate(rows, start=2):
        if not _blank(cells):
            raw = {f: _cell(cells, col) for f, col in columns.items()}
            _template_record(parsed, row, raw, first_row)


def _base(label: str) -> str:
    """Return a template header without its bracketed hint."""
    return label.split("（")[0]


def _template_record(parsed: ParsedImport, row: int, raw: dict, first_row: dict) -> None:
    """Validate one template row and keep it when psychiatric and in the prefecture."""
    values: dict[str, Any] = {}
    checks = {f: _template_check(f, raw) for f in raw if f not in ("source_id", "lat", "lng")}
    checks["source_id"] = lambda: _unique_id(raw["source_id"], row, first_row)
    if "lat" in raw or "lng" in raw:
        checks["lat"] = lambda: coordinates(raw.get("lat", ""), raw.get("lng", "")) or (None, None)
    problems = len(parsed.problems)
    _collect(parsed, row, values, checks)
    if len(parsed.problems) > problems:
        return  # refused anyway; the problems name this row
    if "lat" in values:
        values["lat"], values["lng"] = values["lat"]
    values["prefecture_code"] = values["municipality_code"][:2]
    if values["prefecture_code"] != parsed.prefecture_code:
        parsed.skipped_other_prefecture += 1
    elif not any(is_psychiatric(d) for d in values["departments"].split("、")):
        parsed.skipped_not_psychiatric += 1
    else:
        parsed.kinds.add(values["kind"])
        parsed.records.append(FacilityRecord(row, values.pop("source_id"), values))


def _template_check(name: str, raw: dict):
    """Return the converter of one template field."""
    value = raw[name]
    converters = {
        "name": lambda: _required(value, "name"),
        "kana": lambda: _limited(unicodedata.normalize("NFKC", value), "kana"),
        "kind": lambda: _kind(value),
        "departments": lambda: _template_departments(value),
        "postal_code": lambda: normalise_postal_code(value),
        "address": lambda: _required(value, "address"),
        "municipality_code": lambda: normalise_municipality(value),
        "phone": lambda: _phone(value),
        "website": lambda: _url(value),
        "hours": lambda: _limited(value, "hours"),
    }
    return converters[name]


def _unique_id(source_id: str, row: int, first_row: dict) -> str:
    """Refuse an empty or repeated facility ID."""
    if not source_id:
        raise _Bad("empty_id")
    if source_id in first_row:
        raise _Bad("duplicate_id", id=source_id, first=first_row[source_id])
    first_row[source_id] = row
    return _limited(source_id, "source_id")


def _template_departments(value: str) -> str:
    """Split departments on 、 , ; or new lines and join them with 、."""
    names = [n.strip(" \u3000") for n in re.split(r"[、,，;；\n]", value)]
    if not any(names):
        raise _Bad("no_departments")
    return _limited("、".join(dict.fromkeys(n for n in names if n)), "departments")


# ---------------------------------------------------------------- field checks


def _collect(parsed: ParsedImport, row: int, values: dict, checks: dict) -> None:
    """Run converters; store their values, or their problems under this row."""
    for name, check in checks.items():
        try:
            values[name] = check()
        except _Bad as bad:
            parsed.problems.append((row, bad.text))


def _required(value: str, name: str) -> str:
    """Refuse an empty value."""
    if not value:
        raise _Bad("empty", label=FIELD_LABELS[name], field=name)
    return _limited(value, name)


def _limited(value: str, name: str) -> str:
    """Refuse a value longer than its database column."""
    if len(value) > LIMITS[name]:
        raise _Bad("too_long", label=FIELD_LABELS[name], field=name, limit=LIMITS[name])
    return value


def _kind(value: str) -> str:
    """Map 病院/診療所 (or hospital/clinic, 1/2) to the stored kind."""
    kind = KIND_LABELS.get(unicodedata.normalize("NFKC", value).strip().lower())
    if kind is None:
        raise _Bad("kind", value=value)
    return kind


def normalise_municipality(value: str, prefecture: str = "") -> str:
    """Return the 5-digit JIS code from 3 digits (within `prefecture`), 5, or 6 with check digit."""
    digits = unicodedata.normalize("NFKC", value).strip().removesuffix(".0")
    if not (digits.isascii() and digits.isdigit()):
        raise _Bad("municipality", value=value)
    if len(digits) == 3 and prefecture:
        digits = prefecture + digits
    elif len(digits) == 6:
        if _check_digit(digits[:5]) != digits[5]:
            raise _Bad("check_digit", value=value)
        digits = digits[:5]
    if len(digits) != 5 or digits[2:] == "000" or not 1 <= int(digits[:2]) <= 47:
        raise _Bad("municipality", value=value)
    if prefecture and digits[:2] != prefecture:
        raise _Bad("other_prefecture_code", value=value, prefecture=prefecture)
    return digits


def _check_digit(code5: str) -> str:
    """Return the check digit of a 地方公共団体コード (weights 6..2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


def normalise_postal_code(value: str) -> str:
    """Return '123-4567' from any common spelling (〒, full-width, no hyphen); '' if empty."""
    digits = re.sub(r"[〒\s\-‐－ー−]", "", unicodedata.normalize("NFKC", value))
    if not digits:
        return ""
    if not (digits.isascii() and digits.isdigit() and len(digits) == 7):
        raise _Bad("postal_code", value=value)
    return f"{digits[:3]}-{digits[3:]}"


def _phone(value: str) -> str:
    """Normalise a phone number to half-width; refuse text that holds no number."""
    text = unicodedata.normalize("NFKC", value).strip()
    if text and not re.fullmatch(r"[0-9()\-+ ]*[0-9][0-9()\-+ ]*", text):
        raise _Bad("phone", value=value)
    return _limited(text, "phone")


def _url(value: str) -> str:
    """Return an http(s) address, refusing anything else."""
    text = unicodedata.normalize("NFKC", value).strip()
    if text and not re.fullmatch(r"https?://[^\s/]+\.\S+", text):
        raise _Bad("url", value=value)
    return _limited(text, "website")


def _website(parsed: ParsedImport, row: int, value: str) -> str:
    """Keep a valid open-data website address; drop a malformed one with a warning."""
    try:
        return _url(value)
    except _Bad:
        parsed.warnings.append((row, _text("website_dropped", value=value)))
        return ""


def coordinates(lat: str, lng: str, zero_unknown: bool = False) -> tuple[float, float] | None:
    """Return (lat, lng) inside Japan, None when both are blank (or both 0 if zero_unknown)."""
    if not lat and not lng:
        return None
    point = (_degrees(lat, "緯度", "latitude"), _degrees(lng, "経度", "longitude"))
    if zero_unknown and point == (0.0, 0.0):
        return None
    for value, (low, high), label, name in (
        (point[0], LAT_RANGE, "緯度", "latitude"),
        (point[1], LNG_RANGE, "経度", "longitude"),
    ):
        if not low <= value <= high:
            raise _Bad("outside_japan", label=label, field=name, value=value, low=low, high=high)
    return point


def _degrees(text: str, label: str, name: str) -> float:
    """Parse one coordinate."""
    try:
        value = float(unicodedata.normalize("NFKC", text))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise _Bad("not_number", label=label, field=name, value=text)
    return value


# ---------------------------------------------------------------- applying


def apply_import(
    session: Session, parsed: ParsedImport, actor: audit.Actor, dry_run: bool = False
) -> ImportReport:
    """Create and update facilities from parsed records; never deletes; the caller commits."""
    if parsed.problems:
        raise FacilityImportError(parsed.problems)
    report = ImportReport(
        source=parsed.source,
        dry_run=dry_run,
        warnings=list(parsed.warnings),
        skipped_not_psychiatric=parsed.skipped_not_psychiatric,
        skipped_other_prefecture=parsed.skipped_other_prefecture,
    )
    existing = {f.source_id: f for f in session.exec(select(Facility))}
    written = [_apply_record(session, report, existing.get(r.source_id), r, dry_run)
               for r in parsed.records]  # fmt: skip
    report.missing = _missing(existing, parsed)
    if not dry_run and (report.new or report.changed):
        session.flush()  # ids for the outbox rows of new facilities
        session.add_all(IndexOutbox(facility_id=f.id) for f in written if f is not None)
        audit.record(session, actor, "facility.import", None, source=parsed.source,
                     format=parsed.format, **report.counts())  # fmt: skip
    return report


def _apply_record(session, report, facility, record, dry_run) -> Facility | None:
    """Create or update one facility; return it when it was written."""
    if facility is None:
        fields = {k: (None, v) for k, v in record.values.items() if v not in ("", None)}
        report.new.append(FacilityChange(record.source_id, record.values["name"], fields))
        if dry_run:
            return None
        facility = Facility(source_id=record.source_id, **record.values)
        session.add(facility)
        return facility
    changes = _diff(facility, record.values)
    if not changes:
        report.unchanged += 1
        return None
    report.changed.append(FacilityChange(record.source_id, facility.name, changes))
    if dry_run:
        return None
    for name, (_before, after) in changes.items():
        setattr(facility, name, after)
    facility.updated_at = utcnow()
    return facility


def _diff(facility: Facility, values: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Return {field: (stored, new)} for the fields that differ."""
    return {
        name: (getattr(facility, name), value)
        for name, value in values.items()
        if not _same(getattr(facility, name), value)
    }


def _same(stored: Any, new: Any) -> bool:
    """Compare values, coordinates to about a centimetre."""
    if isinstance(stored, float) and isinstance(new, float):
        return math.isclose(stored, new, abs_tol=1e-7)
    return stored == new


def _missing(existing: dict[str, Facility], parsed: ParsedImport) -> list[tuple[str, str]]:
    """Facilities of this prefecture and kind that the file does not (or no longer) list."""
    listed = {r.source_id for r in parsed.records}
    return sorted(
        (f.source_id, f.name)
        for f in existing.values()
        if f.prefecture_code == parsed.prefecture_code
        and f.kind in parsed.kinds
        and f.source_id not in listed
    )


# ---------------------------------------------------------------- the template file


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
        sheet.column_dimensions[letter].width = 40 if name in ("address", "hours") else 18
        if name in ("source_id", "postal_code", "municipality_code", "phone"):
            for row in range(2, 1001):
                sheet.cell(row=row, column=i).number_format = "@"
    book.save(stream)
