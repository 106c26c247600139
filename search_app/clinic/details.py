"""Clinics propose corrections to their facility details (phone, website, hours, station,
e-mail) and see the office's decisions."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length

from search_app import db
from search_app.auth import current_principal, role_required
from search_app.clinic.views import _own_facility, bp
from search_app.forms import ActionForm, strip
from search_app.i18n import current_lang
from search_app.mailing import send_setup_link
from surveys import corrections, signin_links
from surveys.errors import SurveyError

FIELD_LABELS = {
    "phone": lazy_gettext("電話番号"),
    "website": lazy_gettext("ウェブサイト"),
    "hours": lazy_gettext("診療時間"),
    "station": lazy_gettext("最寄り駅"),
    "email": lazy_gettext("調査の連絡先メールアドレス"),
}
# A municipal contact point has reception hours, not consultation hours.
CONTACT_POINT_LABELS = {**FIELD_LABELS, "hours": lazy_gettext("受付時間")}
STATUS_LABELS = {
    "pending": lazy_gettext("確認待ち"),
    "approved": lazy_gettext("反映済み"),
    "rejected": lazy_gettext("見送り"),
}


class DetailsForm(FlaskForm):
    """The facility's details as the clinic would have them."""

    phone = StringField(FIELD_LABELS["phone"], filters=[strip], validators=[Length(max=60)])
    website = StringField(FIELD_LABELS["website"], filters=[strip], validators=[Length(max=500)])
    hours = TextAreaField(FIELD_LABELS["hours"], filters=[strip], validators=[Length(max=1000)])
    station = StringField(FIELD_LABELS["station"], filters=[strip], validators=[Length(max=200)])
    email = StringField(FIELD_LABELS["email"], filters=[strip], validators=[Length(max=254)])


@bp.route("/facilities/<int:facility_id>/details", methods=["GET", "POST"])
@role_required("clinic")
def details(facility_id: int):
    """Show the facility's details with a form to propose corrections, and past outcomes."""
    facility = _own_facility(facility_id)
    labels = CONTACT_POINT_LABELS if facility.category == "municipal" else FIELD_LABELS
    form = DetailsForm(obj=facility)
    form.hours.label.text = labels["hours"]
    if form.validate_on_submit():
        values = {name: form[name].data or "" for name in corrections.LIMITS}
        try:
            made = corrections.propose(db.session(), facility, values, current_principal().actor)
        except corrections.CorrectionError as exc:
            db.session().rollback()
            en = current_lang() == "en"
            for name, (ja, english) in exc.errors.items():
                form[name].errors = [english if en else ja]
        else:
            db.session().commit()
            flash(_proposed_message(len(made)), "success" if made else "info")
            return redirect(url_for("clinic.details", facility_id=facility_id))
    history = corrections.for_facility(db.session(), facility_id)
    return render_template(
        "clinic/details.html",
        facility=facility,
        form=form,
        history=history,
        field_labels=labels,
        status_labels=STATUS_LABELS,
    ), (422 if form.errors else 200)


def _proposed_message(count: int) -> str:
    """Say what happened to the proposal."""
    if not count:
        return _("変更された項目はありませんでした。")
    return _("%(count)d件の修正を事務局に送りました。確認後に検索結果へ反映されます。", count=count)


@bp.route("/facilities/<int:facility_id>/account", methods=["POST"])
@role_required("clinic")
def make_account(facility_id: int):
    """Give the clinic a password sign-in: a set-password link to the registered address."""
    facility = _own_facility(facility_id)
    if not ActionForm().validate_on_submit():
        return redirect(url_for("clinic.index"))
    session, actor = db.session(), current_principal().actor
    try:
        user = signin_links.clinic_account(session, facility, actor)
    except SurveyError as exc:
        session.rollback()
        flash(exc.message(current_lang()), "error")
        return redirect(url_for("clinic.index"))
    sent = send_setup_link(session, actor, user, current_lang())
    session.commit()
    if sent.mailed:
        flash(
            _("パスワード設定用のリンクを %(address)s に送りました。", address=user.email),
            "success",
        )
    else:
        flash(_("メールを送れませんでした。時間をおいてもう一度お試しください。"), "error")
    return redirect(url_for("clinic.index"))
