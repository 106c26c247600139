"""Admin exports page: the form, the downloads in each format and language, the audit event."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from openpyxl import load_workbook
from sqlmodel import select

from surveys.models import AuditEvent
from surveys.operations import today_in_japan
from tests.conftest import csrf_token

SCHEMA = Path(__file__).parent / "fixtures" / "hsds" / "schema.json"
FORMULA_NAME = '=HYPERLINK("http://example.com","クリック")'
PUBLIC_ONLY = "関係機関向けの項目は一般公開用の出力に含められません"


@pytest.fixture
def listed(make_facility, answer):
    """Two public facilities (one with a formula-like name) and one for professionals only."""
    made = [
        make_facility(name=FORMULA_NAME),
        make_facility(name="押上さくら心療内科"),
        make_facility(name="関係者限定クリニック"),
    ]
    answer(made[0], pregnant="yes", contact_fax="03-0000-0000", note_public="+1 まずお電話を")
    answer(made[1], pregnant="conditional")
    answer(made[2], pregnant="yes", visibility="professionals")
    return made


def export(client, **fields):
    """Post the export form with these choices (lists for several columns)."""
    data = {"file_format": "csv", "lang": "ja", "audience": "public", **fields}
    data["csrf_token"] = csrf_token(client, "/admin/exports")
    return client.post("/admin/exports", data=data)


def csv_rows(content: bytes) -> list[list[str]]:
    """Parse an exported CSV (UTF-8 with BOM)."""
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def audited(db) -> list[AuditEvent]:
    """Return the recorded export events."""
    return list(db.exec(select(AuditEvent).where(AuditEvent.action.startswith("export."))))


def test_exports_form_lists_formats_languages_and_columns(client, admin, questionnaire):
    page = client.get("/admin/exports").get_data(as_text=True)
    for value in ("csv", "xlsx", "hsds"):
        assert f'name="file_format" type="radio" value="{value}"' in page
    assert 'name="lang" type="radio" value="en"' in page
    assert 'name="audience" type="radio" value="all"' in page
    assert 'name="columns" type="checkbox" value="contact_fax"' in page
    assert "（関係機関のみ）" in page
    assert 'name="csrf_token"' in page


def test_exports_xlsx_reopens_with_all_rows_and_no_formula(client, admin, listed, db):
    response = export(client, file_format="xlsx", audience="all")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    day = today_in_japan().strftime("%Y%m%d")
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="facilities-all-ja-{day}.xlsx"'
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert sheet.max_row == 1 + len(listed)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    names = [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == [f.name for f in listed]


def test_exports_csv_headers_follow_the_chosen_language(client, admin, listed):
    japanese = csv_rows(export(client, lang="ja").data)
    english = csv_rows(export(client, lang="en").data)
    assert japanese[0][:3] == ["管理ID", "施設ID", "施設名"]
    assert english[0][:3] == ["ID", "Source ID", "Name"]
    assert len(japanese) == len(english) == 3  # header and the two public facilities


def test_exports_public_only_omits_professional_columns_and_facilities(
    client, admin, listed, questionnaire
):
    fax = questionnaire.item("contact_fax").label("ja")
    public = csv_rows(export(client, audience="public").data)
    everything = csv_rows(export(client, audience="all").data)
    assert fax not in public[0] and fax in everything[0]
    assert "03-0000-0000" not in {cell for row in public for cell in row}
    assert "03-0000-0000" in {cell for row in everything for cell in row}
    assert "関係者限定クリニック" not in [row[2] for row in public]
    assert len(everything) == 4


def test_exports_chosen_columns_in_order(client, admin, listed, questionnaire):
    rows = csv_rows(export(client, columns=["name", "pregnant"]).data)
    assert rows[0] == ["施設名", questionnaire.item("pregnant").label("ja")]
    assert rows[1][0] == "'" + FORMULA_NAME  # formula-safe cell


def test_exports_hsds_validates_against_the_schema(client, admin, listed):
    response = export(client, file_format="hsds", lang="en")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.json"')
    document = json.loads(response.data)
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(document)) == []
    assert len(document["organizations"]) == 2


def test_exports_record_one_audit_event_with_the_options(client, admin, listed, db):
    export(client, file_format="csv", lang="en", audience="all", columns=["name", "phone"])
    events = audited(db)
    assert len(events) == 1
    event = events[0]
    assert (event.action, event.actor_user_id) == ("export.facilities", admin.id)
    assert event.detail["format"] == "csv" and event.detail["lang"] == "en"
    assert event.detail["audience"] == "all" and event.detail["columns"] == ["name", "phone"]
    assert event.detail["rows"] == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"audience": "public", "columns": ["name", "contact_fax"]}, PUBLIC_ONLY),
        ({"file_format": "hsds", "columns": ["name"]}, "HSDS形式では列を選べません。"),
        ({"file_format": "pdf"}, 'class="field-error"'),
        ({"lang": "fr"}, 'class="field-error"'),
        ({"columns": ["no_such_column"]}, 'class="field-error"'),
    ],
)
def test_exports_bad_choices_show_the_form_with_a_message(
    client, admin, listed, db, fields, message
):
    response = export(client, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert message in page
    assert '<form method="post" action="/admin/exports"' in page
    assert audited(db) == []


def test_exports_without_csrf_token_is_refused(client, admin, listed, db):
    response = client.post("/admin/exports", data={"file_format": "csv"})
    assert response.status_code == 400
    assert audited(db) == []


def test_exports_page_in_english_has_english_labels(client, admin):
    page = client.get("/admin/exports?lang=en").get_data(as_text=True)
    assert re.search(r'<html lang="en"', page)
    assert "Source ID" in page
