"""Import hardening: spreadsheets read within limits, 医療情報ネット files cut short or of the
wrong kind or edition refused whole (nothing stored), and an older edition refused unless
forced."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

from openpyxl import Workbook
from sqlmodel import select

from surveys.importer import Source, parse_import, readers
from surveys.importer.readers import XLSX_MAX_ROWS
from surveys.models import AuditEvent, Facility, ImportEdition
from tests.test_import import CLINIC_HOURS, CLINICS, HOSPITAL_HOURS, HOSPITALS, _facilities, _import

BOM = b"\xef\xbb\xbf"


def _copy(tmp_path: Path, source: Path, name: str | None = None, data: bytes | None = None) -> Path:
    """Copy a fixture under another name or with other contents."""
    path = tmp_path / (name or source.name)
    path.write_bytes(source.read_bytes() if data is None else data)
    return path


def _refused(result, ja: str, en: str) -> None:
    """The command refused the import with this reason in both languages."""
    assert result.exit_code == 1, result.output
    assert "何も保存していません" in result.output
    assert ja in result.output, result.output
    assert en in result.output, result.output


def _huge_sheet(last_cell: str | None) -> bytes:
    """Return a few-KB workbook whose sheet declares A1:XFD1048576 (optionally with a cell
    at that far corner), as a crafted file would."""
    book = Workbook()
    sheet = book.active
    sheet.append(["施設ID", "名称", "種別", "診療科", "所在地", "市区町村コード"])
    sheet.append(
        ["T-1", "亀戸こころのクリニック", "診療所", "精神科", "東京都江東区亀戸1-1", "13108"]
    )
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(io.BytesIO(plain.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(
                    rb'<dimension ref="[^"]*"\s*/>', b'<dimension ref="A1:XFD1048576"/>', data
                )
                if last_cell:
                    cell = f'<c r="{last_cell}" t="inlineStr"><is><t>x</t></is></c>'
                    far = f'<row r="1048576">{cell}</row>'
                    data = data.replace(b"</sheetData>", far.encode() + b"</sheetData>")
            target.writestr(info.filename, data)
    return out.getvalue()


def test_sheet_declaring_a_million_rows_is_refused_at_the_row_limit(app, db, tmp_path):
    crafted = tmp_path / "施設一覧.xlsx"
    crafted.write_bytes(_huge_sheet("XFD1048576"))
    assert crafted.stat().st_size < 6000
    result = _import(app, crafted)
    _refused(result, f"{XLSX_MAX_ROWS + 1}行目: 行が多すぎます", "Too many rows")
    assert _facilities(db) == {}


def test_sheet_size_declared_is_not_trusted(app, db, tmp_path):
    crafted = tmp_path / "施設一覧.xlsx"
    crafted.write_bytes(_huge_sheet(None))  # declares A1:XFD1048576, holds two rows
    result = _import(app, crafted)
    assert result.exit_code == 0, result.output
    assert sorted(_facilities(db)) == ["T-1"]


def test_facility_file_cut_in_the_middle_is_refused_whole(app, db, tmp_path):
    data = CLINICS.read_bytes()
    cut = _copy(tmp_path, CLINICS, data=data[: data.rindex(b"\r\n", 0, len(data) - 2) + 60])
    result = _import(app, cut, CLINIC_HOURS)
    _refused(
        result,
        "8行目: ファイルが途中で切れています（最後の行に改行がありません）",
        "row 8: The file is cut short",
    )
    assert _facilities(db) == {}
    assert db.exec(select(AuditEvent)).all() == []


def test_file_cut_inside_a_quoted_field_is_refused(tmp_path):
    data = CLINICS.read_bytes()
    quote = data.index(b'"', len(data) - 200)
    cut = _copy(tmp_path, CLINICS, data=data[: quote + 3])
    with cut.open("rb") as main, CLINIC_HOURS.open("rb") as spec:
        parsed = parse_import(Source(cut.name, main), "13", Source(CLINIC_HOURS.name, spec))
    assert any("途中で切れています" in p.ja for p in parsed.problems), parsed.problems


def test_short_row_is_refused_with_its_row(app, db, tmp_path):
    lines = CLINICS.read_bytes().split(b"\r\n")
    lines[2] = lines[2][: lines[2].index(b'","') + 1]  # row 3 keeps only its ID
    short = _copy(tmp_path, CLINICS, data=b"\r\n".join(lines))
    result = _import(app, short, CLINIC_HOURS)
    _refused(
        result, "3行目: 列の数が見出しと合いません（1列、見出しは", "row 3: This row has 1 columns"
    )
    assert _facilities(db) == {}


def test_speciality_file_cut_short_is_refused_naming_it(app, db, tmp_path):
    data = CLINIC_HOURS.read_bytes()
    cut = _copy(tmp_path, CLINIC_HOURS, data=data[:-40])
    result = _import(app, CLINICS, cut)
    _refused(result, f"{cut.name} ", "The file is cut short")
    assert "途中で切れています" in result.output
    assert _facilities(db) == {}


def test_utf8_mark_on_shift_jis_text_is_named(app, db, tmp_path):
    text = CLINICS.read_bytes().decode("utf-8-sig")
    mixed = _copy(tmp_path, CLINICS, data=BOM + text.encode("cp932"))
    result = _import(app, mixed, CLINIC_HOURS)
    _refused(
        result, "UTF-8 の印（BOM）がありますが、中身は UTF-8 ではありません", "byte order mark"
    )
    assert _facilities(db) == {}


def test_two_files_joined_together_are_refused(app, db, tmp_path):
    joined = _copy(tmp_path, CLINICS, data=CLINICS.read_bytes() + CLINICS.read_bytes())
    result = _import(app, joined, CLINIC_HOURS)
    _refused(result, "9行目: この行の先頭に UTF-8 の印（BOM）があります", "were two files joined")
    assert _facilities(db) == {}


def test_clinic_facilities_with_hospital_hours_are_refused(app, db):
    result = _import(app, CLINICS, HOSPITAL_HOURS)
    _refused(
        result,
        "施設票（診療所）と診療科・診療時間票（病院）の種類が違います",
        "The facility file lists clinics but the speciality file hospitals",
    )
    assert _facilities(db) == {}


def test_renamed_speciality_file_of_the_other_kind_is_refused_by_contents(app, db, tmp_path):
    renamed = _copy(tmp_path, HOSPITAL_HOURS, name="hours.csv")
    result = _import(app, CLINICS, renamed)
    _refused(result, "診療科・診療時間票に、施設票の医療機関が1件もありません（6件中）", "None of")
    assert _facilities(db) == {}


def test_files_of_different_editions_are_refused(app, db, tmp_path):
    older = _copy(tmp_path, CLINIC_HOURS, CLINIC_HOURS.name.replace("20260601", "20251201"))
    result = _import(app, CLINICS, older)
    _refused(result, "版の日付が違います", "(2026-06-01) and the speciality file (2025-12-01)")
    assert _facilities(db) == {}


def test_header_only_files_are_refused(app, db, tmp_path):
    header = CLINICS.read_bytes().split(b"\r\n")[0] + b"\r\n"
    empty = _copy(tmp_path, CLINICS, data=header)
    _refused(_import(app, empty, CLINIC_HOURS), "1行目: 見出し行だけで", "only its header row")
    hours_header = CLINIC_HOURS.read_bytes().split(b"\r\n")[0] + b"\r\n"
    no_hours = _copy(tmp_path, CLINIC_HOURS, data=hours_header)
    _refused(_import(app, CLINICS, no_hours), f"{no_hours.name} 1行目: 見出し行だけで", "header")
    template = tmp_path / "施設一覧.csv"
    template.write_text("施設ID,名称,種別,診療科,所在地,市区町村コード\r\n", encoding="utf-8")
    _refused(_import(app, template), "見出し行だけで", "only its header row")
    assert _facilities(db) == {}


def _edition(tmp_path: Path, day: str) -> tuple[Path, Path]:
    """Copy the clinic files as the edition of another date, with a changed address."""
    folder = tmp_path / day
    folder.mkdir()
    text = CLINICS.read_bytes().decode("utf-8-sig").replace("亀戸２丁目", f"亀戸{day[4:6]}丁目")
    main = _copy(folder, CLINICS, CLINICS.name.replace("20260601", day), BOM + text.encode())
    hours = _copy(folder, CLINIC_HOURS, CLINIC_HOURS.name.replace("20260601", day))
    return main, hours


def test_older_edition_is_refused_unless_forced(app, db, tmp_path):
    newer, older = _edition(tmp_path, "20260601"), _edition(tmp_path, "20251201")
    assert _import(app, *newer).exit_code == 0
    stored = db.get(ImportEdition, "clinic")
    assert (str(stored.edition), stored.source) == ("2026-06-01", newer[0].name)

    result = _import(app, *older)
    _refused(
        result,
        "この版（2025-12-01）は、すでに取り込んだ版（2026-06-01）より古いため取り込みません",
        "This edition (2025-12-01) is older than the one already imported (2026-06-01)",
    )
    assert "--force" in result.output
    assert "亀戸06丁目" in _facilities(db)["1311310000011"].address

    assert _import(app, *older, "--dry-run").exit_code == 1  # a preview says so too
    forced = _import(app, *older, "--force")
    assert forced.exit_code == 0, forced.output
    assert "亀戸06丁目" not in _facilities(db)["1311310000011"].address
    db.expire_all()
    assert str(db.get(ImportEdition, "clinic").edition) == "2025-12-01"
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "facility.import")).all()
    assert [e.detail["edition"] for e in events] == ["2026-06-01", "2025-12-01"]


def test_editions_are_kept_per_kind(app, db, tmp_path):
    assert _import(app, CLINICS, CLINIC_HOURS).exit_code == 0
    older = [
        _copy(tmp_path, f, f.name.replace("20260601", "20250101"))
        for f in (HOSPITALS, HOSPITAL_HOURS)
    ]
    assert _import(app, *older).exit_code == 0  # the first hospital edition: nothing to compare
    assert sorted(f.kind for f in db.exec(select(Facility))).count("hospital") == 2


def test_zipped_files_keep_their_edition(app, db, tmp_path):
    zipped = tmp_path / f"{CLINICS.stem}.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(CLINICS, CLINICS.name)
    shutil.copy(CLINIC_HOURS, tmp_path / CLINIC_HOURS.name)
    assert _import(app, zipped, tmp_path / CLINIC_HOURS.name).exit_code == 0
    assert str(db.get(ImportEdition, "clinic").edition) == "2026-06-01"


def test_sheet_reading_is_time_boxed(app, db, tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "XLSX_MAX_SECONDS", -1.0)  # any sheet is already too slow
    sheet = tmp_path / "施設一覧.xlsx"
    sheet.write_bytes(_huge_sheet(None))
    result = _import(app, sheet)
    _refused(
        result, "ファイルの読み込みが-1秒を超えたため中止しました", "took longer than -1 seconds"
    )
    assert _facilities(db) == {}
