"""Facility master upload: check the file, preview a dry run, then apply on confirmation."""

from __future__ import annotations

import json
import secrets
import shutil
import time
from pathlib import Path

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import BooleanField, HiddenField
from wtforms.validators import DataRequired

from search_app import db, search
from search_app.admin.views import bp
from search_app.auth import current_principal
from search_app.i18n import current_lang
from surveys.errors import FacilityImportError
from surveys.importer import ImportReport, Source, apply_import, parse_import
from surveys.importer.upload_guard import UploadLimits, UploadRefused, check_upload

SALT = "facility-import"
KEEP_SECONDS = 3600  # an upload can be confirmed for an hour
FOLDER = "uploads/import"


class UploadForm(FlaskForm):
    """The facility file and, for 医療情報ネット data, the speciality/hours file."""

    main = FileField(validators=[FileRequired()])
    speciality = FileField()
    force = BooleanField(
        lazy_gettext("古い版でも取り込む（前に取り込んだ版より古い医療情報ネットの票に戻す場合）")
    )


class ConfirmForm(FlaskForm):
    """Apply the previewed upload; carries the signed reference to the stored files."""

    upload = HiddenField(validators=[DataRequired()])
    # Unticked: fields a clinic corrected (approved by the office) keep the correction.
    overwrite_corrections = BooleanField(
        lazy_gettext("医療機関からの修正（承認済み）も取込データで上書きする")
    )


@bp.route("/import", methods=["GET", "POST"])
def import_facilities():
    """Upload a facility file and show what importing it would change (nothing is stored)."""
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("admin/import.html", form=form), (422 if form.errors else 200)
    files = [("main", form.main.data)]
    if form.speciality.data:
        files.append(("speciality", form.speciality.data))
    try:
        for _kind, upload in files:
            check_upload(upload.filename or "", upload.stream, _limits())
    except UploadRefused as exc:
        return _refused(form, exc.message(current_lang()))
    upload_id = _store(files, force=form.force.data)
    parsed, report = _run(upload_id, dry_run=True)
    if report is None:  # refused: nothing to confirm, so nothing to keep
        shutil.rmtree(_uploads() / upload_id, ignore_errors=True)
    return render_template(
        "admin/import.html",
        form=form,
        parsed=parsed,
        report=report,
        confirm=ConfirmForm(upload=_signer().dumps(upload_id)) if report else None,
    ), (200 if report else 422)


@bp.route("/import/apply", methods=["POST"])
def import_apply():
    """Apply a previewed upload; confirming twice changes nothing the second time."""
    form = ConfirmForm()
    upload_id = _upload_id(form)
    folder = _claim(upload_id) if upload_id else None
    if folder is None:
        flash(_("この取り込みは実行済みか、期限が切れています。"), "info")
        return redirect(url_for("admin.import_facilities"))
    try:
        keep = not form.overwrite_corrections.data
        _parsed, report = _run(folder.name, dry_run=False, keep_corrections=keep)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if report is None:
        flash(_("ファイルを読み込めませんでした。何も保存していません。"), "error")
        return redirect(url_for("admin.import_facilities"))
    flash(
        _(
            "取り込みました: 新規 %(new)d件、変更 %(changed)d件。",
            new=len(report.new),
            changed=len(report.changed),
        ),
        "success",
    )
    return redirect(url_for("admin.import_facilities"))


def _limits() -> UploadLimits:
    """Return the archive limits of the configuration (IMPORT_MAX_*)."""
    config = current_app.config
    return UploadLimits(
        max_uncompressed=config["IMPORT_MAX_UNCOMPRESSED"],
        max_member=config["IMPORT_MAX_MEMBER"],
        max_members=UploadLimits().max_members,
        max_ratio=config["IMPORT_MAX_RATIO"],
    )


def _refused(form: UploadForm, message: str):
    """Show the upload form again with the reason the file was refused."""
    form.main.errors = [*form.main.errors, message]
    return render_template("admin/import.html", form=form), 400


def _uploads() -> Path:
    """Return the folder holding uploads awaiting confirmation (inside the instance folder)."""
    folder = Path(current_app.instance_path) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _store(files, force: bool) -> str:
    """Save the uploaded files under a random id; drop uploads nobody confirmed in time."""
    _sweep()
    upload_id = secrets.token_hex(16)
    folder = _uploads() / upload_id
    folder.mkdir()
    names = {}
    for kind, upload in files:
        upload.stream.seek(0)
        upload.save(folder / kind)
        names[kind] = Path(upload.filename or kind).name
    meta = {"names": names, "user_id": current_principal().user_id, "force": force}
    (folder / "meta.json").write_text(json.dumps(meta, ensure_ascii=False))
    return upload_id


def _sweep() -> None:
    """Remove uploads older than KEEP_SECONDS."""
    cutoff = time.time() - KEEP_SECONDS
    for folder in _uploads().iterdir():
        if folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def _signer() -> URLSafeTimedSerializer:
    """Sign upload ids so a form cannot name someone else's (or an arbitrary) folder."""
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def _upload_id(form: ConfirmForm) -> str | None:
    """Return the upload id of a valid confirmation, else None."""
    if not form.validate_on_submit():
        return None
    try:
        upload_id = _signer().loads(form.upload.data, max_age=KEEP_SECONDS)
    except BadSignature:
        return None
    return upload_id if isinstance(upload_id, str) and upload_id.isalnum() else None


def _claim(upload_id: str) -> Path | None:
    """Take the upload for this request alone (renaming is atomic), if this admin made it."""
    folder = _uploads() / upload_id
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != current_principal().user_id:
        return None
    claimed = _uploads() / f"{upload_id}.applying"
    try:
        folder.rename(claimed)
    except OSError:
        return None
    return claimed


def _run(upload_id: str, dry_run: bool, keep_corrections: bool = True):
    """Parse the stored files and apply them (dry run: rolled back); (parsed, report or None)."""
    folder = _uploads() / upload_id
    meta = json.loads((folder / "meta.json").read_text())
    names = meta["names"]
    prefecture = current_app.config["PREFECTURE_CODE"]
    with (folder / "main").open("rb") as main:
        spec = (folder / "speciality").open("rb") if "speciality" in names else None
        try:
            extra = Source(names["speciality"], spec) if spec else None
            parsed = parse_import(Source(names["main"], main), prefecture, extra)
        finally:
            if spec:
                spec.close()
    if parsed.problems:
        return parsed, None
    try:
        return parsed, _apply(parsed, dry_run, meta.get("force", False), keep_corrections)
    except FacilityImportError as exc:  # e.g. an edition older than the last one applied
        db.session().rollback()
        parsed.problems.extend(exc.problems)
        return parsed, None


def _apply(parsed, dry_run: bool, force: bool, keep_corrections: bool = True) -> ImportReport:
    """Apply (or dry-run) the parsed file; a real run is audited and made searchable."""
    session = db.session()
    actor = current_principal().actor
    report = apply_import(
        session, parsed, actor, dry_run=dry_run, force=force, keep_corrections=keep_corrections
    )
    if dry_run:
        session.rollback()
        return report
    session.commit()  # apply_import recorded the audit event (file name, format, counts)
    search.sync_after_commit(session)
    return report
