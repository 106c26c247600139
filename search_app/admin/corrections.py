"""Admin: the queue of facility corrections proposed by clinics (approve, or reject with a
reason; both audited)."""

from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, Length

from search_app import db, search
from search_app.admin.views import bp, perform
from search_app.clinic.details import FIELD_LABELS, STATUS_LABELS
from search_app.forms import strip
from surveys import corrections


class DecisionForm(FlaskForm):
    """Approve or reject one proposal; a rejection carries the reason the clinic reads."""

    decision = HiddenField(validators=[AnyOf(["approve", "reject"])])
    reason = StringField(
        lazy_gettext("却下の理由（医療機関に表示されます）"),
        filters=[strip],
        validators=[Length(max=500)],
    )


@bp.route("/corrections")
def correction_queue():
    """Pending proposals (oldest first) and the latest decisions."""
    session = db.session()
    return render_template(
        "admin/corrections.html",
        pending=corrections.queue(session, "pending"),
        decided=corrections.queue(session, "approved", 20)
        + corrections.queue(session, "rejected", 20),
        form=DecisionForm(),
        field_labels=FIELD_LABELS,
        status_labels=STATUS_LABELS,
    )


@bp.route("/corrections/<int:correction_id>", methods=["POST"])
def correction_decide(correction_id: int):
    """Approve (the facility and the search change at once) or reject a proposal."""
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    approve = form.decision.data == "approve"
    done = _("修正を反映しました。") if approve else _("修正を見送りました。")
    decided = perform(
        lambda session, actor: corrections.decide(
            session, correction_id, approve, form.reason.data or "", actor
        ),
        done,
    )
    if decided is not None and approve:
        search.sync_after_commit(db.session())
    return redirect(url_for("admin.correction_queue"))
