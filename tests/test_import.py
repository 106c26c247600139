"""`pmh import-facilities`: 医療情報ネット open data and the admin template into the master."""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from surveys import audit
from surveys.importer import (
    FacilityImportError,
    ImportProblem,
    Source,
    normalise_municipality,
    parse_import,
    template_csv,
    write_template_xlsx,
)
from surveys.models import AuditEvent, Facility, IndexOutbox, SurveyResponse
from surveys.operations import submit_answers

FIXTURES = Path(__file__).parent / "fixtures" / "import"
CLINICS = FIXTURES / "02-1_clinic_facility_info_20260601.csv"
CLINIC_HOURS = FIXTURES / "02-2_clinic_speciality_hours_20260601.csv"
HOSPITALS = FIXTURES / "01-1_hospital_facility_info_20260601.csv"
HOSPITAL_HOURS = FIXTURES / "01-2_hospital_speciality_hours_20260601.csv"
TEMPLATE = FIXTURES / "facility_template_filled.csv"
KAMEIDO, SHINJUKU, HACHIOJI, KASAI = (
    "1311310000011",
    "1311310000022",
    "1311310000044",
    "1311310000055",
)
ANSWERS = {"pregnant": "yes", "postpartum": "yes", "breastfeeding_rx": "consult",
           "wait_days": "7", "visibility": "public", "answered_by": "院長"}  # fmt: skip


def _import(app, path: Path, speciality: Path | None = None, *options: str):
    """Run the command as the admin would."""
    args = ["import-facilities", str(path), *options]
    if speciality:
        args += ["--speciality", str(speciality)]
    return app.test_cli_runner().invoke(args=args)


def _facilities(db) -> dict[str, Facility]:
    db.expire_all()
    return {f.source_id: f for f in db.exec(select(Facility))}


def _edited(tmp_path: Path, source: Path, *replacements: tuple[str, str]) -> Path:
    """Copy a fixture (same file name, so the kind is still known) with text replaced."""
    text = source.read_bytes().decode("utf-8-sig")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    path = tmp_path / source.name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    return path


def test_import_mhlw_clinics_keeps_psychiatric_facilities_in_prefecture(app, db):
    result = _import(app, CLINICS, CLINIC_HOURS)
    assert result.exit_code == 0, result.output
    assert "新規 new: 4" in result.output
    assert "対象外（精神科・心療内科・産科なし） skipped not psychiatric: 2" in result.output
    assert "対象外（他の都道府県） skipped other prefecture: 1" in result.output
    stored = _facilities(db)
    assert sorted(stored) == [KAMEIDO, SHINJUKU, HACHIOJI, KASAI]
    kameido = stored[KAMEIDO]
    assert kameido.name == "医療法人社団こころ会\u3000亀戸こころのクリニック"
    assert (kameido.kana, kameido.kind) == ("カメイドココロノクリニック", "clinic")
    assert (kameido.prefecture_code, kameido.municipality_code) == ("13", "13108")
    assert kameido.address == "東京都江東区亀戸２丁目１番１号\u3000亀戸ビル３階"
    assert (kameido.lat, kameido.lng) == (35.6975, 139.8262)
    assert kameido.departments == "精神科、心療内科"
    assert (
        kameido.hours == "月・火・木・金 09:00-12:30, 14:30-18:00 / 水 09:00-12:30 / 土 09:00-13:00"
    )
    assert kameido.website == "https://kameido-kokoro.example.jp/"
    assert stored[HACHIOJI].departments == "児童精神科、小児科"
    assert stored[HACHIOJI].municipality_code == "13201"


def test_import_mhlw_flags_gaps_without_refusing(app, db):
    result = _import(app, CLINICS, CLINIC_HOURS)
    assert result.exit_code == 0, result.output
    stored = _facilities(db)
    assert (stored[KASAI].lat, stored[KASAI].lng) == (None, None)  # 0.0/0.0 means unknown
    assert stored[SHINJUKU].website == ""  # "http//..." in the open data
    assert "7行目: 座標がありません" in result.output
    assert "row 7: no coordinates" in result.output
    assert "3行目: ホームページのアドレスが正しくない" in result.output
    assert "row 3: website 'http//shinjuku-mental.example.jp' is not" in result.output


def test_import_mhlw_hospitals_records_outbox_and_one_audit_event(app, db):
    result = _import(app, HOSPITALS, HOSPITAL_HOURS)
    assert result.exit_code == 0, result.output
    stored = _facilities(db)
    assert sorted(stored) == ["1311110000011", "1311110000022"]
    todai = stored["1311110000022"]
    assert todai.kind == "hospital"
    assert todai.departments == "内科、産婦人科、精神科、児童精神科、救急科"
    assert todai.hours == "月・火・木・金 08:30-11:00 / 水 08:30-11:00, 13:00-16:00"
    outbox = db.exec(select(IndexOutbox)).all()
    assert sorted(o.facility_id for o in outbox) == sorted(f.id for f in stored.values())
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "facility.import")).one()
    assert event.actor_label == "cli"
    assert event.detail["new"] == 2
    assert event.detail["skipped_other_prefecture"] == 1
    assert event.detail["source"] == HOSPITALS.name


def test_reimport_updates_only_changed_facility_and_keeps_answers(app, db, questionnaire, tmp_path):
    assert _import(app, CLINICS, CLINIC_HOURS).exit_code == 0
    before = _facilities(db)
    stamps = {sid: f.updated_at for sid, f in before.items()}
    submit_answers(db, before[KAMEIDO], questionnaire, ANSWERS, audit.CLI_ACTOR, base_version=0)
    db.commit()
    answers = [(r.id, r.version_no, r.answers) for r in db.exec(select(SurveyResponse))]
    moved = _edited(tmp_path, CLINICS, ("亀戸２丁目１番１号", "亀戸８丁目５番１号"))

    result = _import(app, moved, CLINIC_HOURS)

    assert result.exit_code == 0, result.output
    assert "変更 changed: 1" in result.output
    assert "変更なし unchanged: 3" in result.output
    assert "亀戸８丁目５番１号" in result.output
    after = _facilities(db)
    assert after[KAMEIDO].address == "東京都江東区亀戸８丁目５番１号\u3000亀戸ビル３階"
    assert after[KAMEIDO].updated_at > stamps[KAMEIDO]
    assert all(after[s].updated_at == stamps[s] for s in (SHINJUKU, HACHIOJI, KASAI))
    db.expire_all()
    assert [(r.id, r.version_no, r.answers) for r in db.exec(select(SurveyResponse))] == answers
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "facility.import")).all()
    assert [e.detail["changed"] for e in events] == [0, 1]


def test_reimport_of_same_file_rewrites_nothing(app, db):
    assert _import(app, CLINICS, CLINIC_HOURS).exit_code == 0
    stamps = {sid: f.updated_at for sid, f in _facilities(db).items()}
    result = _import(app, CLINICS, CLINIC_HOURS)
    assert result.exit_code == 0, result.output
    assert "変更なし unchanged: 4" in result.output
    assert {sid: f.updated_at for sid, f in _facilities(db).items()} == stamps
    assert len(db.exec(select(IndexOutbox)).all()) == 4
    assert len(db.exec(select(AuditEvent)).all()) == 1  # nothing stored, nothing audited


def test_facility_missing_from_new_file_is_reported_not_deleted(app, db, tmp_path):
    assert _import(app, CLINICS, CLINIC_HOURS).exit_code == 0
    without = _edited(
        tmp_path, CLINIC_HOURS, ('"1311310000022","07003"', '"1311310000066","07003"')
    )
    result = _import(app, CLINICS, without)
    assert result.exit_code == 0, result.output
    assert "ファイルにない既存施設 missing: 1" in result.output
    assert f"{SHINJUKU} 新宿メンタルクリニック" in result.output
    assert SHINJUKU in _facilities(db)


def test_dry_run_reports_changes_and_stores_nothing(app, db, tmp_path):
    result = _import(app, CLINICS, CLINIC_HOURS, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "新規 new: 4" in result.output
    assert "Dry run: nothing was stored." in result.output
    assert _facilities(db) == {}
    assert db.exec(select(AuditEvent)).all() == []

    assert _import(app, CLINICS, CLINIC_HOURS).exit_code == 0
    moved = _edited(tmp_path, CLINICS, ("亀戸２丁目１番１号", "亀戸８丁目５番１号"))
    result = _import(app, moved, CLINIC_HOURS, "--dry-run")
    assert "変更 changed: 1" in result.output
    assert "address: " in result.output
    assert "亀戸２丁目" in _facilities(db)[KAMEIDO].address
    assert len(db.exec(select(AuditEvent)).all()) == 1


def test_broken_file_is_refused_with_row_numbers_and_nothing_stored(app, db, tmp_path):
    broken = _edited(
        tmp_path,
        CLINICS,
        ("35.6975,139.8262", "北緯35.6975,139.8262"),  # row 2
        ('"八王子こどものこころクリニック"', '""'),  # row 5
    )
    result = _import(app, broken, CLINIC_HOURS)
    assert result.exit_code == 1
    assert "取り込みを中止しました（2件の問題）。何も保存していません。" in result.output
    assert "Import refused (2 problems). Nothing was stored." in result.output
    assert "2行目: 緯度が数値ではありません" in result.output
    assert "row 2: The latitude '北緯35.6975' is not a number" in result.output
    assert "5行目: 名称が空です" in result.output
    assert "row 5: name is empty" in result.output
    assert _facilities(db) == {}
    assert db.exec(select(AuditEvent)).all() == []


def test_shift_jis_file_is_refused_with_clear_message(app, db, tmp_path):
    sjis = tmp_path / CLINICS.name
    sjis.write_bytes(CLINICS.read_bytes().decode("utf-8-sig").encode("cp932"))
    result = _import(app, sjis, CLINIC_HOURS)
    assert result.exit_code == 1
    assert "Import refused (1 problem). Nothing was stored." in result.output
    assert "ファイル全体: 文字コードが Shift_JIS のようです" in result.output
    assert "UTF-8 で保存し直してください" in result.output
    assert "whole file: The file looks like Shift_JIS" in result.output
    assert _facilities(db) == {}


def test_mhlw_file_without_speciality_file_is_refused(app, db):
    result = _import(app, CLINICS)
    assert result.exit_code == 1
    assert "--speciality" in result.output
    assert _facilities(db) == {}


def test_template_csv_import(app, db):
    result = _import(app, TEMPLATE)
    assert result.exit_code == 0, result.output
    assert "新規 new: 2" in result.output
    stored = _facilities(db)
    assert sorted(stored) == ["T-0001", "T-0002"]  # T-0003 in Kanagawa, T-0004 dermatology
    sumida, tama = stored["T-0001"], stored["T-0002"]
    assert (sumida.kind, sumida.kana) == ("clinic", "スミダサンゴココロクリニック")
    assert (sumida.postal_code, sumida.phone) == ("130-0022", "03-1234-5678")
    assert sumida.municipality_code == "13107"
    assert sumida.hours == "月〜金 9:00-18:00（水曜午後休診）"
    assert (tama.kind, tama.municipality_code, tama.departments) == (
        "hospital",
        "13201",
        "精神科、内科",
    )
    assert (tama.phone, tama.lat, tama.lng) == ("042-600-0001", None, None)
    assert (sumida.email, tama.email) == ("office@sumida-sango.example.jp", "")


def _template_xlsx(path: Path) -> Path:
    """Fill the generated XLSX template with the rows of the filled CSV fixture."""
    stream = io.BytesIO()
    write_template_xlsx(stream)
    book = load_workbook(io.BytesIO(stream.getvalue()))
    sheet = book.worksheets[0]
    lines = TEMPLATE.read_bytes().decode("utf-8-sig").splitlines()[1:]
    for cells in csv.reader(lines):
        sheet.append([float(c) if c.replace(".", "").isdigit() and "." in c else c for c in cells])
    book.save(path)
    return path


def test_template_xlsx_import(app, db, tmp_path):
    result = _import(app, _template_xlsx(tmp_path / "施設一覧.xlsx"))
    assert result.exit_code == 0, result.output
    stored = _facilities(db)
    assert sorted(stored) == ["T-0001", "T-0002"]
    assert (stored["T-0001"].lat, stored["T-0001"].postal_code) == (35.6955, "130-0022")
    assert stored["T-0001"].email == "office@sumida-sango.example.jp"


def test_xlsx_that_is_not_a_workbook_is_refused(app, db, tmp_path):
    fake = tmp_path / "施設一覧.xlsx"
    shutil.copy(TEMPLATE, fake)
    result = _import(app, fake)
    assert result.exit_code == 1
    assert "拡張子は .xlsx ですが Excel ファイルではありません" in result.output


def test_template_import_keeps_fields_the_open_data_lacks(app, db, tmp_path):
    assert _import(app, CLINICS, CLINIC_HOURS).exit_code == 0
    sheet = tmp_path / "phones.csv"
    sheet.write_text(
        "施設ID,名称,種別,診療科,所在地,市区町村コード,電話番号\r\n"
        f"{KAMEIDO},亀戸こころのクリニック,診療所,精神科,東京都江東区亀戸２－１－１,13108,03-5555-0000\r\n",
        encoding="utf-8-sig",
    )
    assert _import(app, sheet).exit_code == 0
    result = _import(app, CLINICS, CLINIC_HOURS)
    assert result.exit_code == 0, result.output
    kameido = _facilities(db)[KAMEIDO]
    assert kameido.phone == "03-5555-0000"  # the open data has no phone column
    assert kameido.name.endswith("亀戸こころのクリニック")


def test_facility_template_command_writes_templates(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["facility-template", str(tmp_path / "t.xlsx")]).exit_code == 0
    assert runner.invoke(args=["facility-template", str(tmp_path / "t.csv")]).exit_code == 0
    book = load_workbook(tmp_path / "t.xlsx", read_only=True)
    header = next(book.worksheets[0].values)
    book.close()  # a read-only workbook keeps its file open until closed
    assert header[:3] == ("施設ID", "名称", "フリガナ")
    committed = Path(__file__).parent.parent / "surveys" / "data" / "facility_template.csv"
    assert (tmp_path / "t.csv").read_bytes() == committed.read_bytes() == template_csv()


@pytest.mark.parametrize(
    ("value", "prefecture", "expected"),
    [("108", "13", "13108"), ("13108", "13", "13108"), ("131083", "", "13108"),
     ("１３１０８", "", "13108"), ("13421", "13", "13421")],
)  # fmt: skip
def test_normalise_municipality_accepts_mhlw_and_jis_forms(value, prefecture, expected):
    assert normalise_municipality(value, prefecture) == expected


@pytest.mark.parametrize("value", ["131084", "14101", "1310", "13000", "abc", "108"])
def test_normalise_municipality_refuses_bad_codes(value):
    with pytest.raises(ValueError, match="市区町村コード"):
        normalise_municipality(value, "13" if value == "14101" else "")


@pytest.mark.parametrize(
    ("replacement", "row", "reason"),
    [
        (('"1311310000022"', '"1311310000011"'), 3, "IDが重複しています（2行目と同じ"),
        (('"1311310000022"', '""'), 3, "IDが空です"),
        (('"13","104"', '"13","99"'), 3, "市区町村コードが正しくありません"),
        (("35.690921,139.700258", "35.690921,200.5"), 3, "経度が日本の範囲外です"),
        (('"所在地",', '"住所",'), 1, "必要な列がありません: 所在地"),
    ],
)
def test_malformed_mhlw_rows_are_named(tmp_path, replacement, row, reason):
    broken = _edited(tmp_path, CLINICS, replacement)
    with broken.open("rb") as main, CLINIC_HOURS.open("rb") as spec:
        parsed = parse_import(Source(broken.name, main), "13", Source(CLINIC_HOURS.name, spec))
    assert [p for p in parsed.problems if reason in p.ja], parsed.problems
    assert parsed.problems[0].row == row


def test_import_accepts_mhlw_zip_as_downloaded(app, db, tmp_path):
    zipped = tmp_path / f"{CLINICS.name}.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(CLINICS, CLINICS.name)
    result = _import(app, zipped, CLINIC_HOURS)
    assert result.exit_code == 0, result.output
    assert sorted(_facilities(db)) == [KAMEIDO, SHINJUKU, HACHIOJI, KASAI]


def test_malformed_template_rows_are_named(tmp_path):
    sheet = tmp_path / "facilities.csv"
    sheet.write_text(
        "施設ID,名称,種別,診療科,所在地,市区町村コード,郵便番号\n"
        "A1,あ,診療所,精神科,東京都,13101,100-0001\n"
        ",い,診療所,精神科,東京都,13101,\n"
        "A1,う,薬局,精神科,東京都,13101,12345\n",
        encoding="utf-8",
    )
    with sheet.open("rb") as stream:
        parsed = parse_import(Source(sheet.name, stream), "13")
    reasons = {(p.row, p.ja) for p in parsed.problems}
    assert reasons == {
        (3, "IDが空です"),
        (4, "IDが重複しています（2行目と同じ A1）"),
        (4, "種別は「病院」か「診療所」です（「薬局」）"),
        (4, "郵便番号が正しくありません（「12345」）"),
    }


def test_template_with_broken_email_is_refused_with_row_and_nothing_stored(app, db, tmp_path):
    sheet = tmp_path / "facilities.csv"
    sheet.write_text(
        "施設ID,名称,種別,診療科,所在地,市区町村コード,メールアドレス\r\n"
        "A1,あ,診療所,精神科,東京都千代田区,13101,ａ１＠example.jp\r\n"
        "A2,い,診療所,精神科,東京都千代田区,13101,info@example\r\n"
        "A3,う,診療所,精神科,東京都千代田区,13101,\r\n",
        encoding="utf-8-sig",
    )
    result = _import(app, sheet)
    assert result.exit_code == 1
    assert "3行目: メールアドレスが正しくありません（「info@example」）" in result.output
    assert "row 3: Invalid e-mail address 'info@example'" in result.output
    assert _facilities(db) == {}
    sheet.write_text(sheet.read_text(encoding="utf-8-sig").replace("info@example", ""), "utf-8")
    assert _import(app, sheet).exit_code == 0
    assert {k: f.email for k, f in _facilities(db).items()} == {
        "A1": "a1@example.jp",
        "A2": "",
        "A3": "",
    }


def test_speciality_file_problems_name_that_file(app, db, tmp_path):
    hours = _edited(
        tmp_path,
        CLINIC_HOURS,
        ('"1311310000011","07001","精神科","2"', '"","07001","精神科","2"'),  # row 3
        (
            '"09:00","12:30","09:00","12:30","09:00","12:30"',
            '"9時","12:30","09:00","12:30","09:00","12:30"',
        ),
    )
    with CLINICS.open("rb") as main, hours.open("rb") as spec:
        parsed = parse_import(Source(CLINICS.name, main), "13", Source(hours.name, spec))
    assert parsed.problems == [ImportProblem(3, "IDが空です", "The ID is empty", hours.name)]
    bad_times = [w for w in parsed.warnings if "9時" in w.ja]
    assert {w.file for w in bad_times} == {hours.name}
    assert bad_times[0] == ImportProblem(
        2,
        "時刻を読めないため診療時間から除きました（9時-12:30）",
        "unreadable time 9時-12:30 left out of the hours",
        hours.name,
    )
    result = _import(app, CLINICS, hours)
    assert result.exit_code == 1
    assert f"  {hours.name} 3行目: IDが空です" in result.output
    assert f"  {hours.name} row 3: The ID is empty" in result.output
    assert _facilities(db) == {}


def test_import_error_counts_and_renders_problems_per_language():
    one = FacilityImportError([ImportProblem(0, "空です", "It is empty")])
    assert one.message("en") == "Import refused (1 problem). Nothing was stored."
    assert one.message("ja") == "取り込みを中止しました（1件の問題）。何も保存していません。"
    assert (one.lines("ja"), one.lines("en")) == (
        ["ファイル全体: 空です"],
        ["whole file: It is empty"],
    )
    two = FacilityImportError(
        [ImportProblem(4, "名称が空です", "name is empty"), ImportProblem(2, "あ", "a", "b.csv")]
    )
    assert two.message("en") == "Import refused (2 problems). Nothing was stored."
    assert two.lines("ja") == ["4行目: 名称が空です", "b.csv 2行目: あ"]
    assert two.lines("en") == ["row 4: name is empty", "b.csv row 2: a"]


def test_import_mhlw_keeps_obstetric_institutions_by_speciality(app, db, tmp_path):
    hours = _edited(
        tmp_path,
        CLINIC_HOURS,
        ('"1311310000066","01001","内科"', '"1311310000066","04001","産婦人科"'),
    )
    result = _import(app, CLINICS, hours)
    assert result.exit_code == 0, result.output
    assert "新規 new: 5" in result.output
    assert "対象外（精神科・心療内科・産科なし） skipped not psychiatric: 1" in result.output
    stored = _facilities(db)
    unit = stored["1311310000066"]
    assert (unit.category, unit.kind, unit.departments) == ("obstetric", "clinic", "産婦人科")
    assert unit.hours.startswith("月")  # the obstetric department's hours
    assert "1311310000033" not in stored  # dermatology only
    assert {stored[i].category for i in (KAMEIDO, SHINJUKU, HACHIOJI, KASAI)} == {"psychiatric"}


def test_import_keeps_a_facility_with_psychiatry_and_obstetrics_psychiatric(app, db):
    result = _import(app, HOSPITALS, HOSPITAL_HOURS)
    assert result.exit_code == 0, result.output
    todai = _facilities(db)["1311110000022"]
    assert "産婦人科" in todai.departments and "精神科" in todai.departments
    assert todai.category == "psychiatric"  # one row per facility ID, searched


def test_template_category_column_adds_obstetric_units_and_contact_points(app, db, tmp_path):
    sheet = tmp_path / "facilities.csv"
    header = "施設ID,名称,種別,診療科,所在地,市区町村コード,電話番号,区分\r\n"
    rows = (
        "A1,あ,診療所,精神科,東京都千代田区,13101,,\r\n"
        "A2,い産婦人科,診療所,産婦人科,東京都千代田区,13101,,\r\n"
        "A3,千代田区こども家庭センター,こども家庭センター,,東京都千代田区,131016,03-1111-2222,相談窓口\r\n"
        "A4,千代田区保健所,保健センター,,東京都千代田区,13101,,相談窓口\r\n"
    )
    sheet.write_text(header + rows, encoding="utf-8-sig")
    refused = _import(app, sheet)
    assert refused.exit_code == 1
    assert "5行目: 相談窓口には電話番号が必要です" in refused.output
    assert "row 5: A contact point needs a phone number" in refused.output
    assert _facilities(db) == {}  # nothing stored half-way

    sheet.write_text(
        header + rows.replace("13101,,相談窓口", "13101,03-3333-4444,相談窓口"), "utf-8"
    )
    assert _import(app, sheet).exit_code == 0, _import(app, sheet).output
    stored = _facilities(db)
    assert {k: (f.category, f.kind) for k, f in stored.items()} == {
        "A1": ("psychiatric", "clinic"),
        "A2": ("obstetric", "clinic"),
        "A3": ("municipal", "family_center"),
        "A4": ("municipal", "health_center"),
    }
    assert stored["A3"].municipality_code == "13101" and stored["A3"].phone == "03-1111-2222"


def test_template_contact_point_with_a_clinic_kind_is_refused(tmp_path):
    sheet = tmp_path / "facilities.csv"
    sheet.write_text(
        "施設ID,名称,種別,診療科,所在地,市区町村コード,電話番号,区分\n"
        "A1,あ,診療所,,東京都,13101,03-1111-1111,相談窓口\n"
        "A2,い,保健センター,精神科,東京都,13101,,\n"
        "A3,う,診療所,精神科,東京都,13101,,歯科\n",
        encoding="utf-8",
    )
    with sheet.open("rb") as stream:
        parsed = parse_import(Source(sheet.name, stream), "13")
    reasons = {(p.row, p.ja) for p in parsed.problems}
    assert reasons == {
        (
            2,
            "相談窓口の種別は「こども家庭センター」「保健センター」「その他の相談窓口」のいずれかです（「clinic」）",
        ),
        (3, "医療機関の種別は「病院」か「診療所」です（「health_center」）"),
        (4, "区分は「精神科」「産科」「相談窓口」のいずれかです（「歯科」）"),
    }
