"""Measure the admin import of a full-size 医療情報ネット clinic edition: the zipped speciality
file (600,000 rows by default) posted to /admin/import, previewed, then applied.

Run: .venv/bin/python -m tests.bench.import_upload [--facilities 100000] [--rows 600000]
The files are generated from the test fixtures' columns (other prefectures' clinics pad them,
as in the nationwide file). The body is streamed from a file on disk, as a browser sends it;
peak memory is the process's maximum resident size (ru_maxrss).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

from sqlmodel import Session

from search_app import create_app
from surveys.database import upgrade
from surveys.models import User
from surveys.totp import generate_secret

FIXTURES = Path(__file__).parent.parent / "fixtures" / "import"
CLINICS = FIXTURES / "02-1_clinic_facility_info_20260601.csv"
HOURS = FIXTURES / "02-2_clinic_speciality_hours_20260601.csv"
BOUNDARY = "pmh-bench-boundary"
CONFIRM_RE = re.compile(r'name="upload"[^>]*value="([^"]+)"')
TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _padded_zip(target: Path, source: Path, rows: int, row_for) -> Path:
    """Zip a fixture with `rows` generated rows of other prefectures appended, written as a
    stream (memory stays flat), one CSV per ZIP as MHLW publishes them."""
    data = source.read_bytes()
    template = data.split(b"\r\n")[1].split(b",")
    with (
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(source.name, "w", force_zip64=True) as out,
    ):
        out.write(data)
        for n in range(rows):
            out.write(b",".join(row_for(n, list(template))) + b"\r\n")
    return target


def _facility_row(n: int, cells: list[bytes]) -> list[bytes]:
    """A clinic in Osaka (prefecture 27)."""
    cells[0] = b'"27%011d"' % n
    cells[7], cells[8] = b'"27"', b'"102"'
    return cells


def _hours_row(facilities: int, rng: random.Random):
    """Departments and hours of the padding clinics, about six rows each."""

    def row(n: int, cells: list[bytes]) -> list[bytes]:
        cells[0] = b'"27%011d"' % (n * facilities // ROWS[0])
        cells[1] = b'"%05d"' % rng.choice((1001, 1002, 7001, 7003, 10001, 13001))
        for column in range(4, len(cells), 4):
            start = rng.choice((b'"09:00"', b'"09:30"', b'"14:00"', b'""'))
            cells[column] = start
        return cells

    return row


ROWS = [600_000]


def _multipart(path: Path, files: list[tuple[str, Path]], token: str) -> int:
    """Write a multipart/form-data body to disk; return its length."""
    with path.open("wb") as out:
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"{token}\r\n".encode()
        )
        for field, file in files:
            out.write(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; '
                f'filename="{file.name}"\r\nContent-Type: application/zip\r\n\r\n'.encode()
            )
            with file.open("rb") as data:
                shutil.copyfileobj(data, out)
            out.write(b"\r\n")
        out.write(f"--{BOUNDARY}--\r\n".encode())
    return path.stat().st_size


def _expanded(file: Path) -> int:
    """Return the uncompressed size of a ZIP's members."""
    with zipfile.ZipFile(file) as archive:
        return sum(member.file_size for member in archive.infolist())


def _admin_client(app):
    """Return a test client signed in as an admin (session set directly, as the tests do)."""
    with Session(app.extensions["pmh_engine"]) as session:
        user = User(email="bench@example.jp", role="admin", password_hash="x",
                    totp_secret=generate_secret())  # fmt: skip
        session.add(user)
        session.commit()
        session.refresh(user)
        identity = (user.id, user.session_epoch)
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["user_id"], cookie["epoch"] = identity
    return client


def main() -> None:
    """Generate the files, post them, confirm, and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--rows", type=int, default=600_000)
    args = parser.parse_args()
    ROWS[0] = args.rows
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as folder:
        main = Path(folder, CLINICS.name + ".zip")
        hours = Path(folder, HOURS.name + ".zip")
        _padded_zip(main, CLINICS, args.facilities, _facility_row)
        _padded_zip(hours, HOURS, args.rows, _hours_row(args.facilities, rng))
        files = [("main", main), ("speciality", hours)]
        url = f"sqlite:///{folder}/bench.sqlite"
        upgrade(url)
        app = create_app({"INSTANCE_PATH": folder, "SECRET_KEY": "bench", "DATABASE_URL": url})
        client = _admin_client(app)
        token = TOKEN_RE.search(client.get("/admin/import").get_data(as_text=True)).group(1)
        body = Path(folder) / "body"
        length = _multipart(body, files, token)
        sizes = {file.name: [file.stat().st_size, _expanded(file)] for _f, file in files}
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with body.open("rb") as stream:
            preview = client.post(
                "/admin/import",
                input_stream=stream,
                content_length=length,
                content_type=f"multipart/form-data; boundary={BOUNDARY}",
            )
        previewed = time.perf_counter() - started
        page = preview.get_data(as_text=True)
        reference = CONFIRM_RE.search(page)
        started = time.perf_counter()
        confirm = {"upload": reference.group(1) if reference else "", "csrf_token": token}
        done = client.post("/admin/import/apply", data=confirm)
        applied = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "speciality_rows": args.rows, "facility_rows": args.facilities,
        "zipped_and_expanded_bytes": sizes, "body_bytes": length,
        "preview_status": preview.status_code, "preview_seconds": round(previewed, 1),
        "new": re.search(r'data-count="new">(\d+)<', page).group(1) if reference else page[-3000:],
        "apply_status": done.status_code, "apply_seconds": round(applied, 1),
        "peak_rss_mb_before_post": before // 1024, "peak_rss_mb": peak // 1024,
    }, ensure_ascii=False, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
