"""Admin views (admin role only); thin: operations live in `surveys`."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from search_app import db, search
from search_app.auth import current_principal, role_required
from search_app.forms import ActionForm
from search_app.i18n import current_lang
from surveys import reports
from surveys.errors import UserFacingError

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@role_required("admin")
def _admins_only():
    """Let only the programme office in (others: sign in, or 403)."""


@bp.route("/reports")
def report_list():
    """'Could not get an appointment' reports, open ones first."""
    rows = reports.reports_for_admin(db.session())
    open_count = sum(1 for row in rows if row.status == "open")
    return render_template(
        "admin/reports.html", rows=rows, open_count=open_count, form=ActionForm()
    )


@bp.route("/reports/<int:report_id>/resolve", methods=["POST"])
def resolve(report_id: int):
    """Mark a report as followed up."""
    if not ActionForm().validate_on_submit():
        abort(400)
    reports.resolve_report(db.session(), report_id, current_principal().actor)
    db.session().commit()
    search.sync_after_commit(db.session())
    flash(_("対応済みにしました。"), "success")
    return redirect(url_for("admin.report_list"))


def perform(operation, done: str | None = None):
    """Run operation(session, actor) and commit, flashing `done`; on a refusal roll back,
    flash why and return None, else return the operation's result."""
    session = db.session()
    try:
        result = operation(session, current_principal().actor)
    except UserFacingError as exc:
        session.rollback()
        flash(exc.message(current_lang()), "error")
        return None
    session.commit()
    if done:
        flash(done, "success")
    return result


def attachment(content: bytes | str, content_type: str, filename: str) -> Response:
    """Return a file download that no cache keeps."""
    return Response(
        content,
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
