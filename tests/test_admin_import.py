"""Admin upload of the facility master: preview, confirm, and refusal of hostile files."""

from __future__ import annotations

import io
import os
import re
import struct
import zipfile
from pathlib import Path

import pytest
from flask import request
from openpyxl import load_workbook
from sqlmodel import func, select

from surveys.importer import write_template_xlsx
from surveys.models import AuditEvent, Facility, ImportEdition
from surveys.totp import generate_secret
from tests.conftest import csrf_token, open_user_session

HEADER = "施設ID,名称,種別,診療科,所在地,市区町村コード\r\n"
ROWS = (
    "T-0001,亀戸こころのクリニック,診療所,精神科,東京都江東区亀戸２－１－１,13108\r\n"
    "T-0002,錦糸町メンタルクリニック,診療所,心療内科,東京都墨田区錦糸１－１－１,13107\r\n"
)
CONFIRM_RE = re.compile(r'name="upload"[^>]*value="([^"]+)"')


def sign_in(client, db, user) -> None:
    """Open a signed-in session for a user (an admin gets a second factor enrolled first)."""
    if user.role == "admin" and not user.totp_secret:
        user.totp_secret = generate_secret()
        db.add(user)
        db.commit()
    with client.session_transaction() as session:
        open_user_session(session, user)


@pytest.fixture
def admin(client, db, make_user):
    """Sign an admin in."""
    user = make_user("admin")
    sign_in(client, db, user)
    return user


def upload(client, name: str, data: bytes, url: str = "/admin/import", **extra):
    """Post one file through the upload form."""
    token = csrf_token(client, "/admin/import")
    files = {"main": (io.BytesIO(data), name), "csrf_token": token, **extra}
    return client.post(url, data=files, content_type="multipart/form-data")


def confirm(client, page: str):
    """Press "この内容で取り込む" on a preview page."""
    reference = CONFIRM_RE.search(page).group(1)
    token = csrf_token(client, "/admin/import")
    return client.post(
        "/admin/import/apply",
        data={"upload": reference, "csrf_token": token},
        follow_redirects=True,
    )


def count(db, model, *where) -> int:
    """Count rows."""
    db.expire_all()
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def template_xlsx(rows: list[dict[str, str]]) -> bytes:
    """Return the generated XLSX template with these rows filled in."""
    stream = io.BytesIO()
    write_template_xlsx(stream)
    book = load_workbook(io.BytesIO(stream.getvalue()))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    for number, row in enumerate(rows, start=2):
        for name, value in row.items():
            sheet.cell(row=number, column=header.index(name) + 1, value=value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rewrite_member(xlsx: bytes, name: str, content: bytes) -> bytes:
    """Return the workbook with one member replaced."""
    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = content if info.filename == name else source.read(info)
            target.writestr(info.filename, data)
        if name not in source.namelist():
            target.writestr(name, content)
    return out.getvalue()


def test_preview_then_confirm_imports_once(client, db, admin):
    page = upload(client, "施設一覧.csv", (HEADER + ROWS).encode("utf-8-sig"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'data-count="new">2<', text)
    assert "亀戸こころのクリニック" in text
    assert count(db, Facility) == 0  # a preview stores nothing
    assert "亀戸" not in client.get_cookie("session").value  # the file is not in the cookie

    done = confirm(client, text)
    assert "取り込みました: 新規 2件、変更 0件。" in done.get_data(as_text=True)
    assert count(db, Facility) == 2
    assert count(db, AuditEvent, AuditEvent.action == "facility.import") == 1

    again = confirm(client, text)  # the back button and a second click
    assert "実行済みか、期限が切れています" in again.get_data(as_text=True)
    assert count(db, Facility) == 2
    assert count(db, AuditEvent, AuditEvent.action == "facility.import") == 1


def test_xlsx_template_is_previewed(client, db, admin):
    rows = [
        {
            "施設ID": "T-0009",
            "名称": "押上クリニック",
            "種別（病院/診療所）": "診療所",
            "診療科（「、」区切り）": "精神科",
            "所在地": "東京都墨田区押上1-1-1",
            "市区町村コード（5桁）": "13107",
        }
    ]
    page = upload(client, "施設一覧.xlsx", template_xlsx(rows))
    assert page.status_code == 200, page.get_data(as_text=True)
    assert re.search(r'data-count="new">1<', page.get_data(as_text=True))


def test_row_errors_are_listed_with_row_numbers_and_cannot_be_applied(client, db, admin):
    bad = HEADER + ROWS + "T-0003,,診療所,精神科,東京都江東区亀戸1-1-1,13108\r\n"
    page = upload(client, "施設一覧.csv", bad.encode("utf-8"))
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "4行目" in text
    assert 'name="upload"' not in text
    assert count(db, Facility) == 0


def test_tampered_confirmation_stores_nothing(client, db, admin):
    page = upload(client, "施設一覧.csv", (HEADER + ROWS).encode("utf-8"))
    forged = page.get_data(as_text=True).replace('name="upload" type="hidden" value="', "x", 0)
    reference = CONFIRM_RE.search(forged).group(1)
    token = csrf_token(client, "/admin/import")
    response = client.post(
        "/admin/import/apply",
        data={"upload": reference[:-2] + "xx", "csrf_token": token},
        follow_redirects=True,
    )
    assert "実行済みか、期限が切れています" in response.get_data(as_text=True)
    assert count(db, Facility) == 0


def test_other_admin_cannot_apply_my_upload(app, client, db, admin, make_user):
    page = upload(client, "施設一覧.csv", (HEADER + ROWS).encode("utf-8")).get_data(as_text=True)
    other = app.test_client()
    sign_in(other, db, make_user("admin"))
    response = confirm(other, page)
    assert "実行済みか、期限が切れています" in response.get_data(as_text=True)
    assert count(db, Facility) == 0


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("facilities.txt", b"ID,name\r\n"),
        ("facilities.exe", b"MZ\x90\x00"),
        ("施設一覧.xlsx", HEADER.encode()),  # CSV renamed to .xlsx
        ("施設一覧.csv", b"PK\x03\x04rest-of-a-zip"),  # ZIP renamed to .csv
        ("施設一覧.csv", b"\x00\x01binary"),
        ("施設一覧.csv", b""),
    ],
)
def test_wrong_types_are_refused(client, db, admin, name, data):
    response = upload(client, name, data)
    assert response.status_code in (400, 422)
    assert count(db, Facility) == 0
    assert 'name="upload"' not in response.get_data(as_text=True)


def test_zip_bomb_is_refused_before_reading(client, db, admin):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("01-1_hospital_facility_info.csv", b"0" * (20 * 1024 * 1024))
    response = upload(client, "open-data.zip", out.getvalue())
    assert response.status_code == 400
    assert "展開後のサイズが大きすぎる" in response.get_data(as_text=True)


def test_huge_shared_strings_are_refused(make_app, make_user, db):
    app = make_app(IMPORT_MAX_MEMBER=64 * 1024)
    client = app.test_client()
    sign_in(client, db, make_user("admin"))
    # 256 KB that does not compress away (uploads stay under the test client's temp-file size)
    text = os.urandom(128 * 1024).hex().encode()
    strings = b"<sst><si><t>" + text + b"</t></si></sst>"
    xlsx = rewrite_member(template_xlsx([]), "xl/sharedStrings.xml", strings)
    response = upload(client, "施設一覧.xlsx", xlsx)
    assert response.status_code == 400
    assert "展開後のサイズが大きすぎる" in response.get_data(as_text=True)


def _lie_about_sizes(data: bytes) -> bytes:
    """Set every member's declared uncompressed size to 10 bytes in the central directory."""
    buffer = bytearray(data)
    start = 0
    while (start := buffer.find(b"PK\x01\x02", start)) != -1:
        struct.pack_into("<I", buffer, start + 24, 10)
        start += 4
    return bytes(buffer)


def test_members_that_expand_past_their_declared_size_are_refused(client, db, admin):
    xlsx = _lie_about_sizes(template_xlsx([]))
    response = upload(client, "施設一覧.xlsx", xlsx)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "ZIP / Excel ファイルが壊れています" in text or "展開後のサイズが大きすぎる" in text


@pytest.mark.parametrize(
    "doctype",
    [
        b'<!DOCTYPE lol [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>',
        b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ],
)
def test_xml_entities_are_refused(client, db, admin, doctype):
    strings = b'<?xml version="1.0"?>' + doctype + b"<sst><si><t>&lol2;</t></si></sst>"
    xlsx = rewrite_member(template_xlsx([]), "xl/sharedStrings.xml", strings)
    response = upload(client, "施設一覧.xlsx", xlsx)
    assert response.status_code == 400
    assert "許可されていない XML 構文" in response.get_data(as_text=True)
    assert count(db, Facility) == 0


def test_too_large_upload_gets_a_friendly_413(make_app, make_user, db):
    app = make_app(IMPORT_MAX_CONTENT_LENGTH=64 * 1024)
    client = app.test_client()
    sign_in(client, db, make_user("admin"))
    response = upload(client, "施設一覧.csv", b"x" * (128 * 1024))
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "ファイルが大きすぎます（上限 0.0625 MB）" in text
    assert "トップページへ戻る" in text  # the site's page, not Werkzeug's


def _damage_deflate(xlsx: bytes, name: str) -> bytes:
    """Flip bytes inside one member's compressed data (sizes and names left as they were)."""
    buffer = bytearray(xlsx)
    info = zipfile.ZipFile(io.BytesIO(xlsx)).getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for offset in range(start + 2, start + min(info.compress_size, 40)):
        buffer[offset] ^= 0xFF
    return bytes(buffer)


def test_damaged_compressed_data_is_a_message_not_a_500(client, db, admin):
    xlsx = _damage_deflate(template_xlsx([]), "xl/worksheets/sheet1.xml")
    response = upload(client, "施設一覧.xlsx", xlsx)
    assert response.status_code == 400
    assert "壊れています" in response.get_data(as_text=True)
    assert count(db, Facility) == 0


def test_unreadable_cell_value_is_a_message_not_a_500(client, db, admin):
    xlsx = template_xlsx([{"施設ID": "T-0001", "名称": "亀戸こころのクリニック"}])
    sheet = zipfile.ZipFile(io.BytesIO(xlsx)).read("xl/worksheets/sheet1.xml")
    # A cell that says it holds a number but holds text: openpyxl fails while reading rows.
    broken = re.sub(rb'<c r="A2"[^>]*>.*?</c>', b'<c r="A2" t="n"><v>abc</v></c>', sheet, count=1)
    assert broken != sheet
    response = upload(
        client, "施設一覧.xlsx", rewrite_member(xlsx, "xl/worksheets/sheet1.xml", broken)
    )
    assert response.status_code in (400, 422)
    assert "Excel ファイルとして読めません" in response.get_data(as_text=True)
    assert count(db, Facility) == 0


FIXTURES = Path(__file__).parent / "fixtures" / "import"
CLINICS = FIXTURES / "02-1_clinic_facility_info_20260601.csv"
CLINIC_HOURS = FIXTURES / "02-2_clinic_speciality_hours_20260601.csv"
HOSPITAL_HOURS = FIXTURES / "01-2_hospital_speciality_hours_20260601.csv"


def upload_mhlw(client, main: Path, hours: tuple[bytes, str], day: str = "20260601", **extra):
    """Post a facility file (renamed to an edition date) with a speciality file."""
    name = main.name.replace("20260601", day)
    return upload(
        client, name, main.read_bytes(), speciality=(io.BytesIO(hours[0]), hours[1]), **extra
    )


def test_clinic_file_with_hospital_hours_is_refused_on_the_page(client, db, admin):
    page = upload_mhlw(client, CLINICS, (HOSPITAL_HOURS.read_bytes(), HOSPITAL_HOURS.name))
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "施設票（診療所）と診療科・診療時間票（病院）の種類が違います" in text
    assert 'name="upload"' not in text
    assert count(db, Facility) == 0


def test_older_edition_needs_the_box_ticked_on_the_page(client, db, admin):
    hours = CLINIC_HOURS.read_bytes()
    newer = upload_mhlw(client, CLINICS, (hours, CLINIC_HOURS.name))
    assert "取り込みました" in confirm(client, newer.get_data(as_text=True)).get_data(as_text=True)
    older_hours = (hours, CLINIC_HOURS.name.replace("20260601", "20251201"))

    refused = upload_mhlw(client, CLINICS, older_hours, day="20251201")
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "この版（2025-12-01）は、すでに取り込んだ版（2026-06-01）より古い" in text
    assert 'name="upload"' not in text

    forced = upload_mhlw(client, CLINICS, older_hours, day="20251201", force="y")
    assert forced.status_code == 200, forced.get_data(as_text=True)
    done = confirm(client, forced.get_data(as_text=True))
    assert "取り込みました" in done.get_data(as_text=True)
    db.expire_all()
    assert str(db.get(ImportEdition, "clinic").edition) == "2025-12-01"


def _large_speciality_zip(rows: int) -> bytes:
    """Zip the clinic speciality file padded with rows of other facilities (as the real file,
    which lists every clinic in Japan)."""
    lines = CLINIC_HOURS.read_bytes().split(b"\r\n")
    filler = lines[1].split(b",", 1)[1]
    padding = b"".join(b'"%013d",' % (4700000000000 + n) + filler + b"\r\n" for n in range(rows))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CLINIC_HOURS.name, b"\r\n".join(lines[:-1]) + b"\r\n" + padding)
    return out.getvalue()


def test_zipped_speciality_file_over_the_site_limit_is_accepted_on_the_import_page(
    make_app, make_user, db
):
    app = make_app(MAX_CONTENT_LENGTH=16 * 1024, IMPORT_MAX_CONTENT_LENGTH=4 * 1024 * 1024)
    zipped = _large_speciality_zip(20_000)
    assert 16 * 1024 < len(zipped) < 4 * 1024 * 1024
    client = app.test_client()
    sign_in(client, db, make_user("admin"))
    page = upload_mhlw(client, CLINICS, (zipped, CLINIC_HOURS.name + ".zip"))
    text = page.get_data(as_text=True)
    assert page.status_code == 200, text
    assert re.search(r'data-count="new">4<', text)
    assert "取り込みました: 新規 4件" in confirm(client, text).get_data(as_text=True)

    anonymous = app.test_client()  # the larger limit is for signed-in sessions only
    token = csrf_token(anonymous, "/login")
    response = anonymous.post(
        "/admin/import",
        data={"main": (io.BytesIO(zipped), "x.zip"), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


def test_import_uploads_spool_to_the_instance_folder_not_memory(app):
    spool = Path(app.instance_path) / "uploads" / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    body = {"main": (io.BytesIO(b"x" * 1000), "small.csv")}  # small: Werkzeug keeps it in memory
    with app.test_request_context("/admin/import", method="POST", data=body):
        request.upload_dir = str(spool)
        stream = request.files["main"].stream
        where = os.readlink(f"/proc/self/fd/{stream.fileno()}")
    assert where.startswith(str(spool))
