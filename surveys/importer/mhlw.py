"""The 医療情報ネット 施設票 (hospital or clinic facility file), joined with its speciality file."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from pathlib import PurePath

from .fields import (
    category_of,
    collect,
    coordinates,
    is_obstetric,
    is_psychiatric,
    limited,
    normalise_municipality,
    normalise_postal_code,
    parse_kind,
    parse_phone,
    parse_url,
    required,
)
from .messages import Bad, problem
from .readers import Header, Rows, blank, cell
from .records import FacilityRecord, ParsedImport, Source
from .speciality import Department, format_hours, join_departments, read_speciality

KIND_LABELS = {
    "hospital": ("病院", "hospitals"),
    "clinic": ("診療所", "clinics"),
    None: ("不明", "?"),
}
EDITION_RE = re.compile(r"(?<!\d)(20\d{2})(\d{2})(\d{2})(?!\d)")  # ..._info_20240601.csv
MHLW_REQUIRED = ("ID", "正式名称", "都道府県コード", "市区町村コード", "所在地")
MHLW_COORDINATES = ("所在地座標（緯度）", "所在地座標（経度）")
# Optional: the 2024+ files have the first two; 郵便番号 and 電話番号 are read if a future
# edition adds them. 機関区分 only helps when the file name does not say hospital or clinic.
MHLW_OPTIONAL = {
    "kana": "正式名称（フリガナ）",
    "name_en": "英語表記（ローマ字表記）",
    "website": "案内用ホームページアドレス",
    "postal_code": "郵便番号",
    "phone": "電話番号",
}


def parse_mhlw(
    parsed: ParsedImport,
    source: Source,
    header: Header,
    rows: Rows,
    speciality: Source | None,
) -> None:
    """Join the MHLW facility file with its speciality file, keeping psychiatric facilities."""
    parsed.format = "mhlw"
    kind = _kind_from_file_name(source.name)
    columns = header.require(MHLW_REQUIRED + MHLW_COORDINATES)
    if kind is None and not header.has("機関区分"):
        raise Bad("unknown_kind", 1)
    if speciality is None:
        raise Bad("speciality_needed")
    parsed.edition = _same_edition(source.name, speciality.name, kind)
    extra = {f: header.find(h) for f, h in MHLW_OPTIONAL.items() if header.has(h)}
    columns["機関区分"] = header.find("機関区分")
    parsed.kinds |= {kind} if kind else set()
    candidates = _candidates(parsed, rows, columns | extra, len(header.keys))
    departments = read_speciality(parsed, speciality, set(candidates))
    for source_id, raw in candidates.items():
        _record(parsed, source_id, raw, departments.get(source_id, []), kind)


def _kind_from_file_name(name: str) -> str | None:
    """Tell hospital and clinic files apart by the MHLW file name."""
    lower = PurePath(name).name.lower()
    if any(other in lower for other in ("dental", "pharmacy", "maternity")):
        raise Bad("out_of_scope")
    return next((k for k in ("hospital", "clinic") if k in lower), None)


def _same_edition(name: str, speciality: str, kind: str | None) -> date | None:
    """Refuse a speciality file of the other kind or of another date; return the edition."""
    other = _kind_from_file_name(speciality)
    if kind and other and kind != other:
        main_ja, main_en = KIND_LABELS[kind]
        other_ja, other_en = KIND_LABELS[other]
        raise Bad("kind_mismatch", main=main_ja, other=other_ja, main_en=main_en, other_en=other_en)
    editions = {f: _edition(f) for f in (name, speciality)}
    if None not in editions.values() and len(set(editions.values())) > 1:
        main, other = (d.isoformat() for d in editions.values())
        raise Bad("edition_mismatch", main=main, other=other)
    return editions[name] or editions[speciality]


def _edition(name: str) -> date | None:
    """Return the edition date in an MHLW file name (01-1_hospital_facility_info_20240601)."""
    match = EDITION_RE.search(PurePath(name).name)
    try:
        return date(*(int(part) for part in match.groups())) if match else None
    except ValueError:  # eight digits that are not a date
        return None


def _candidates(parsed: ParsedImport, rows: Rows, columns: dict, width: int) -> dict[str, dict]:
    """Return the rows in the configured prefecture by ID; count the others."""
    candidates: dict[str, dict] = {}
    filled = 0
    for row, cells in enumerate(rows, start=2):
        if blank(cells):
            continue
        filled += 1
        if len(cells) != width:
            parsed.problems.append(problem("row_width", row, found=len(cells), expected=width))
        elif _prefecture(cell(cells, columns["都道府県コード"])) != parsed.prefecture_code:
            parsed.skipped_other_prefecture += 1
        else:
            raw = {name: cell(cells, col) for name, col in columns.items()}
            _add_candidate(parsed, candidates, raw | {"row": row})
    _check_complete(parsed, rows, filled, candidates)
    return candidates


def _check_complete(parsed: ParsedImport, rows: Rows, filled: int, candidates: dict) -> None:
    """Refuse a file cut short, one with no data, or one without this prefecture."""
    if rows.cut_short:
        parsed.problems.append(problem("cut_short", rows.last_row))
    elif not filled:
        raise Bad("no_rows", 1)
    elif not candidates and not parsed.problems:
        raise Bad("none_in_prefecture", prefecture=parsed.prefecture_code)


def _add_candidate(parsed: ParsedImport, candidates: dict, raw: dict) -> None:
    """Keep a row by ID, refusing empty and duplicate IDs."""
    source_id, row = raw["ID"], raw["row"]
    if not source_id:
        parsed.problems.append(problem("empty_id", row))
    elif source_id in candidates:
        first = candidates[source_id]["row"]
        parsed.problems.append(problem("duplicate_id", row, id=source_id, first=first))
    else:
        candidates[source_id] = raw


def _prefecture(value: str) -> str:
    """Return a 2-digit prefecture code ('13', '13.0', '１３' -> '13'), '' if not one."""
    text = unicodedata.normalize("NFKC", value).removesuffix(".0")
    return text.zfill(2) if text.isdigit() and len(text) <= 2 else ""


def _record(
    parsed: ParsedImport, source_id: str, raw: dict, departments: list[Department], kind: str | None
) -> None:
    """Turn one psychiatric or obstetric facility row into a record, collecting its problems."""
    category = category_of([d.name for d in departments], [d.code for d in departments])
    if category is None:
        parsed.skipped_not_psychiatric += 1
        return
    selected = [d for d in departments if _selects(category, d)]
    values = {
        "category": category,
        "prefecture_code": parsed.prefecture_code,
        "departments": join_departments([d.name for d in departments]),
        "hours": format_hours(selected),
    }
    collect(parsed, raw["row"], values, _checks(parsed, raw, kind))
    _coordinates(parsed, raw["row"], values, raw)
    parsed.kinds.add(values.get("kind", "clinic"))
    parsed.records.append(FacilityRecord(raw["row"], source_id, values))


def _selects(category: str, department: Department) -> bool:
    """Tell whether a department is of the category (its hours are the facility's hours)."""
    if category == "psychiatric":
        return is_psychiatric(department.name, department.code)
    return is_obstetric(department.name)


def _checks(parsed: ParsedImport, raw: dict, kind: str | None) -> dict:
    """Return the converters of the fields this row has, by field name."""
    prefecture = parsed.prefecture_code
    checks = {
        "name": lambda: required(raw["正式名称"], "name"),
        "kind": lambda: kind or parse_kind(raw["機関区分"]),
        "municipality_code": lambda: normalise_municipality(raw["市区町村コード"], prefecture),
        "address": lambda: required(raw["所在地"], "address"),
    }
    optional = {
        "kana": lambda: limited(unicodedata.normalize("NFKC", raw["kana"]), "kana"),
        "name_en": lambda: limited(unicodedata.normalize("NFKC", raw["name_en"]).strip(), "name"),
        "postal_code": lambda: normalise_postal_code(raw["postal_code"]),
        "phone": lambda: parse_phone(raw["phone"]),
        "website": lambda: _website(parsed, raw["row"], raw["website"]),
    }
    return checks | {f: c for f, c in optional.items() if f in raw}


def _coordinates(parsed: ParsedImport, row: int, values: dict, raw: dict) -> None:
    """Set coordinates; 0.0/0.0 or blank means unknown and leaves stored ones alone."""
    try:
        point = coordinates(*(raw[c] for c in MHLW_COORDINATES), zero_unknown=True)
    except Bad as bad:
        parsed.problems.append(bad.at(row))
        return
    if point is None:
        parsed.warnings.append(problem("no_coordinates", row))
    else:
        values["lat"], values["lng"] = point


def _website(parsed: ParsedImport, row: int, value: str) -> str:
    """Keep a valid open-data website address; drop a malformed one with a warning."""
    try:
        return parse_url(value)
    except Bad:
        parsed.warnings.append(problem("website_dropped", row, value=value))
        return ""
