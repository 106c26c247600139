"""Exports of facilities with their current answers: CSV, XLSX, HSDS JSON and `pmh export`."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openpyxl import load_workbook
from sqlmodel import select

from search_app.cli import exports as export_cli
from surveys import audit
from surveys.exports import ExportError, ExportOptions, export_facilities
from surveys.exports.hsds import split_address
from surveys.exports.spreadsheet import write_xlsx
from surveys.exports.table import Table
from surveys.models import AuditEvent, Facility, IndexOutbox, SurveyResponse

SCHEMA = Path(__file__).parent / "fixtures" / "hsds" / "schema.json"
FORMULA_NAME = '=HYPERLINK("http://example.com","こころクリニック")'
PROFESSIONAL_LABELS = ("連絡窓口のFAX番号", "回答者（氏名・職種）")


@pytest.fixture
def facilities(make_facility, answer):
    """A public clinic with formula-like text, a plain public one, a private one, a silent one."""
    made = {
        "formula": make_facility(
            name=FORMULA_NAME,
            phone="03-1111-2222",
            postal_code="136-0071",
            website="https://example.jp/",
        ),
        "plain": make_facility(name="押上さくら心療内科", kind="hospital", lat=None, lng=None),
        "private": make_facility(name="関係者限定クリニック"),
        "silent": make_facility(name="未回答クリニック"),
    }
    answer(
        made["formula"],
        pregnant="yes",
        pregnant_trimester=["first", "second"],
        wait_days=14,
        languages=["en", "zh"],
        note_public="+1 まずお電話ください",
        contact_fax="03-0000-0000",
        answered_by="@受付 山田",
    )
    answer(made["plain"], postpartum="conditional", postpartum_conditions="-産科と連携がある場合")
    answer(made["private"], pregnant="yes", visibility="professionals")
    return made


def run_export(db, questionnaire, **options):
    """Export with these options as the command line would, and commit."""
    export = export_facilities(db, questionnaire, ExportOptions(**options), audit.CLI_ACTOR)
    db.commit()
    return export


def csv_rows(content: bytes) -> list[list[str]]:
    """Parse an exported CSV (UTF-8 with BOM)."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def exports_audited(db) -> list[AuditEvent]:
    """Return the recorded export events, oldest first."""
    query = select(AuditEvent).where(AuditEvent.action == "export.facilities")
    return list(db.exec(query.order_by(AuditEvent.id)))


def open_xlsx(content: bytes):
    """Open an exported workbook's only sheet."""
    return load_workbook(io.BytesIO(content)).active


def test_export_xlsx_reopens_with_all_rows_and_no_formula(db, questionnaire, facilities):
    export = run_export(db, questionnaire, format="xlsx", audience="all")
    sheet = open_xlsx(export.content)
    assert export.rows == 4
    assert sheet.max_row == 5
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    sheet_xml = zipfile.ZipFile(io.BytesIO(export.content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == [f.name for f in facilities.values()]


def test_export_formula_like_text_stays_text_in_csv_and_xlsx(db, questionnaire, facilities):
    columns = ("name", "note_public", "postpartum_conditions", "answered_by")
    options = {"audience": "all", "columns": columns}
    rows = csv_rows(run_export(db, questionnaire, format="csv", **options).content)
    assert rows[1][:2] == ["'" + FORMULA_NAME, "'+1 まずお電話ください"]
    assert rows[1][3] == "'@受付 山田"
    assert rows[2][2] == "'-産科と連携がある場合"

    sheet = open_xlsx(run_export(db, questionnaire, format="xlsx", **options).content)
    name, note = sheet["A2"], sheet["B2"]
    assert (name.value, name.data_type) == (FORMULA_NAME, "s")
    assert (note.value, note.data_type) == ("+1 まずお電話ください", "s")
    assert name.quotePrefix and not sheet["A3"].quotePrefix
    assert (sheet["C3"].value, sheet["D2"].value) == ("-産科と連携がある場合", "@受付 山田")


def test_export_public_leaves_out_private_facilities_and_items(db, questionnaire, facilities):
    export = run_export(db, questionnaire, format="csv")
    rows = csv_rows(export.content)
    assert export.rows == 2
    assert [row[2] for row in rows[1:]] == ["'" + FORMULA_NAME, "押上さくら心療内科"]
    assert not set(PROFESSIONAL_LABELS) & set(rows[0])
    text = export.content.decode("utf-8-sig")
    assert "03-0000-0000" not in text and "受付 山田" not in text

    everything = csv_rows(run_export(db, questionnaire, format="csv", audience="all").content)
    assert set(PROFESSIONAL_LABELS) <= set(everything[0])
    assert len(everything) == 5


def test_export_public_refuses_professional_only_columns(db, questionnaire, facilities):
    with pytest.raises(ExportError) as refused:
        run_export(db, questionnaire, format="csv", columns=("name", "contact_fax"))
    assert "contact_fax" in refused.value.message("en")
    assert exports_audited(db) == []


@pytest.mark.parametrize(
    ("options", "word"),
    [
        ({"format": "pdf"}, "format"),
        ({"format": "csv", "lang": "fr"}, "lang"),
        ({"format": "csv", "columns": ("name", "shoe_size")}, "shoe_size"),
        ({"format": "csv", "columns": ("name", "name")}, "twice"),
        ({"format": "hsds", "columns": ("name",)}, "HSDS"),
    ],
)
def test_export_refuses_bad_options(db, questionnaire, options, word):
    with pytest.raises(ExportError) as refused:
        run_export(db, questionnaire, **options)
    assert word in refused.value.message("en")


def test_export_headers_and_values_in_japanese(db, questionnaire, facilities):
    sheet = open_xlsx(run_export(db, questionnaire, format="xlsx").content)
    headers = [cell.value for cell in sheet[1]]
    assert headers[:4] == ["管理ID", "施設ID", "施設名", "フリガナ"]
    assert "最終確認日" in headers and "妊娠中の方の診療を受け入れていますか" in headers
    assert len(set(headers)) == len(headers)
    assert "受け入れの条件（妊娠中の方）" in headers
    row = dict(zip(headers, (cell.value for cell in sheet[2]), strict=True))
    assert row["妊娠中の方の診療を受け入れていますか"] == "受け入れている"
    assert row["受け入れ可能な妊娠時期"] == "妊娠初期（〜15週）、妊娠中期（16〜27週）"
    assert row["日本語以外で対応できる言語"] == "英語、中国語"
    assert row["初診までの目安の待ち日数"] == 14 and sheet.cell(2, 1).data_type == "n"
    assert row["種別"] == "診療所" and row["緯度"] == pytest.approx(35.6975)
    assert isinstance(row["最終確認日"], datetime)
    assert sheet.title == "施設一覧"


def test_export_headers_and_values_in_english(db, questionnaire, facilities):
    rows = csv_rows(run_export(db, questionnaire, format="csv", lang="en").content)
    headers = rows[0]
    assert headers[:4] == ["ID", "Source ID", "Name", "Kana"]
    assert "Do you see pregnant patients?" in headers and "Verified on" in headers
    row = dict(zip(headers, rows[1], strict=True))
    assert row["Do you see pregnant patients?"] == "Yes"
    assert row["Languages other than Japanese"] == "English, Chinese"
    assert row["Kind"] == "Clinic" and row["Latitude"] == "35.6975"
    assert date.fromisoformat(row["Verified on"])
    assert dict(zip(headers, rows[2], strict=True))["Latitude"] == ""


def test_export_csv_has_bom_and_crlf(db, questionnaire, facilities):
    content = run_export(db, questionnaire, format="csv").content
    assert content.startswith(b"\xef\xbb\xbf")
    assert content.count(b"\r\n") == 3 and b"\n" not in content.replace(b"\r\n", b"")


def test_export_chosen_columns_in_chosen_order(db, questionnaire, facilities):
    columns = ("wait_days", "name", "verified_on")
    export = run_export(db, questionnaire, format="csv", lang="en", columns=columns)
    rows = csv_rows(export.content)
    assert rows[0] == ["Typical wait to a first appointment", "Name", "Verified on"]
    assert rows[2][:2] == ["", "押上さくら心療内科"]


def test_export_hsds_validates_against_the_schema(db, questionnaire, facilities):
    document = json.loads(run_export(db, questionnaire, format="hsds").content)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(document)) == []
    broken = json.loads(json.dumps(document))
    del broken["services"][0]["status"]
    assert not validator.is_valid(broken)


def test_export_hsds_links_objects_and_keeps_to_the_public(db, questionnaire, facilities):
    document = json.loads(run_export(db, questionnaire, format="hsds").content)
    organizations = {o["id"]: o for o in document["organizations"]}
    locations = {loc["id"]: loc for loc in document["locations"]}
    assert sorted(o["name"] for o in organizations.values()) == sorted(
        [FORMULA_NAME, "押上さくら心療内科"]
    )
    for service in document["services"]:
        assert service["organization_id"] in organizations
        assert not set(service["x_perinatal"]["answers"]) - questionnaire.public_keys()
    assert {s["service_id"] for s in document["service_at_locations"]} == {
        s["id"] for s in document["services"]
    }
    assert all(s["location_id"] in locations for s in document["service_at_locations"])
    assert all(p["location_id"] in locations for p in document["phones"])
    assert "関係者限定" not in json.dumps(document, ensure_ascii=False)
    assert "03-0000-0000" not in json.dumps(document)


def test_export_hsds_maps_answers_to_hsds_fields(db, questionnaire, facilities):
    document = json.loads(run_export(db, questionnaire, format="hsds", audience="all").content)
    formula = facilities["formula"]
    organization = next(o for o in document["organizations"] if o["name"] == FORMULA_NAME)
    service = next(s for s in document["services"] if s["organization_id"] == organization["id"])
    location = next(x for x in document["locations"] if x["organization_id"] == organization["id"])
    assert service["status"] == "active" and service["url"] == "https://example.jp/"
    assert service["x_perinatal"]["answers"]["contact_fax"] == "03-0000-0000"
    assert service["x_perinatal"]["answers"]["wait_days"] == 14
    assert service["x_perinatal"]["questionnaire_version"] == questionnaire.version
    assert "+1 まずお電話ください" in service["description"]
    assert (location["latitude"], location["longitude"]) == (formula.lat, formula.lng)
    address = location["addresses"][0]
    assert (address["city"], address["address_1"]) == ("江東区", "亀戸八丁目5-1")
    assert len(document["organizations"]) == 4 and len(document["services"]) == 3
    again = json.loads(run_export(db, questionnaire, format="hsds", audience="all").content)
    assert [o["id"] for o in again["organizations"]] == [o["id"] for o in document["organizations"]]


@pytest.mark.parametrize(
    ("address", "code", "parts"),
    [
        ("東京都江東区亀戸八丁目5-1", "13108", ("東京都", "江東区", "亀戸八丁目5-1")),
        ("東京都新宿区市谷本村町5-1", "13104", ("東京都", "新宿区", "市谷本村町5-1")),
        ("東京都武蔵村山市本町1-1-1", "13223", ("東京都", "武蔵村山市", "本町1-1-1")),
        ("東京都西多摩郡瑞穂町箱根ケ崎2335", "13303", ("東京都", "西多摩郡瑞穂町", "箱根ケ崎2335")),
        ("東京都大島町元町1-1-14", "13361", ("東京都", "大島町", "元町1-1-14")),
        ("神奈川県横浜市中区港町1-1", "14104", ("神奈川県", "横浜市中区", "港町1-1")),
        ("江東区亀戸1-1", "13108", ("", "江東区", "亀戸1-1")),
        ("住所不明", "", ("", "", "住所不明")),
    ],
)
def test_split_address_names_prefecture_and_municipality(address, code, parts):
    assert split_address(address, code) == parts


def test_export_records_audit_event_and_changes_no_stored_data(db, questionnaire, facilities):
    before = _stored(db)
    for file_format in ("csv", "xlsx", "hsds"):
        run_export(db, questionnaire, format=file_format)
    assert _stored(db) == before
    events = exports_audited(db)
    assert [e.detail["format"] for e in events] == ["csv", "xlsx", "hsds"]
    assert {(e.detail["audience"], e.detail["rows"], e.actor_label) for e in events} == {
        ("public", 2, "cli")
    }


def _stored(db) -> tuple:
    """Snapshot the facilities, answers and index outbox."""
    db.expire_all()
    facilities = [f.model_dump() for f in db.exec(select(Facility).order_by(Facility.id))]
    responses = [
        r.model_dump() for r in db.exec(select(SurveyResponse).order_by(SurveyResponse.id))
    ]
    return facilities, responses, len(db.exec(select(IndexOutbox)).all())


def test_export_empty_database_gives_headers_only(db, questionnaire):
    export = run_export(db, questionnaire, format="xlsx", audience="all")
    assert export.rows == 0 and open_xlsx(export.content).max_row == 1
    assert export.filename.startswith("facilities-all-ja-") and export.filename.endswith(".xlsx")


def test_cli_export_writes_file_and_prints_count(app, db, facilities, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "out.xlsx"
    result = runner.invoke(export_cli.export_group, ["facilities", "--lang", "en", "-o", target])
    assert result.exit_code == 0, result.output
    assert "Exported 2 facilities (public)" in result.output
    assert open_xlsx(target.read_bytes()).max_row == 3
    assert [e.detail["format"] for e in exports_audited(db)] == ["xlsx"]

    hsds = tmp_path / "out.txt"
    args = ["facilities", "--format", "hsds", "--audience", "all", "-o", hsds]
    result = runner.invoke(export_cli.export_group, args)
    assert "Exported 4 facilities (all)" in result.output
    assert len(json.loads(hsds.read_text(encoding="utf-8"))["organizations"]) == 4


def test_cli_export_refuses_bad_columns_and_unknown_suffix(app, db, facilities, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "out.csv"
    result = runner.invoke(
        export_cli.export_group, ["facilities", "--columns", "name,contact_fax", "-o", target]
    )
    assert result.exit_code == 1 and "contact_fax" in result.output
    assert not target.exists()
    result = runner.invoke(export_cli.export_group, ["facilities", "-o", tmp_path / "out.pdf"])
    assert result.exit_code == 2 and "--format" in result.output
    assert exports_audited(db) == []


def test_write_xlsx_drops_characters_excel_cannot_store():
    table = Table(["施設名", "確認日"], [["制御\x07文字", date(2026, 4, 1)], ["-1", None]])
    sheet = open_xlsx(write_xlsx(table, "ja"))
    assert sheet["A2"].value == "制御文字" and sheet["B2"].is_date
    assert (sheet["A3"].value, sheet["A3"].data_type) == ("-1", "s")
