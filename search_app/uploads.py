"""Large uploads: the facility import page takes the zipped 医療情報ネット files (tens of MB),
spooled to disk in the instance folder, never held in memory; every other page keeps
MAX_CONTENT_LENGTH."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import IO

from flask import Flask, Request, current_app, request, session

LARGE_UPLOAD_ENDPOINTS = frozenset({"admin.import_facilities"})
SPOOL_FOLDER = "uploads/spool"


class UploadRequest(Request):
    """A request whose uploaded files go to `upload_dir` when set (not /tmp, which is often
    memory-backed); Werkzeug's default keeps files under 500 KB in memory."""

    upload_dir: str | None = None

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """Return a nameless temporary file in `upload_dir` (removed when closed)."""
        if self.upload_dir is None:
            return super()._get_file_stream(
                total_content_length, content_type, filename, content_length
            )
        return tempfile.TemporaryFile("wb+", dir=self.upload_dir)


def init_app(app: Flask) -> None:
    """Use the upload-aware request; set the limits before anything reads the form."""
    app.request_class = UploadRequest
    app.before_request(_large_upload_limits)


def _large_upload_limits() -> None:
    """Let a signed-in session post the import files; spool them to the instance folder.

    Runs before the CSRF check and the NUL check, which parse the body: anonymous posts keep
    the small limit (the page refuses them after parsing anyway)."""
    if request.endpoint not in LARGE_UPLOAD_ENDPOINTS or request.method != "POST":
        return
    if "user_id" not in session:
        return
    request.max_content_length = current_app.config["IMPORT_MAX_CONTENT_LENGTH"]
    spool = Path(current_app.instance_path) / SPOOL_FOLDER
    spool.mkdir(parents=True, exist_ok=True)
    request.upload_dir = str(spool)
