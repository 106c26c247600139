"""Capacity pulse pages: the one-click mail link (GET confirms, POST records) and the portal."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from search_app import db, ratelimit, search
from search_app.auth import current_principal
from search_app.i18n import current_lang
from surveys import pulse
from surveys.models import CAPACITY_CODES, Facility

bp = Blueprint("pulse", __name__, url_prefix="/pulse")


def _wait_field() -> IntegerField:
    """The optional wait in days (0-365)."""
    return IntegerField(
        lazy_gettext("現在の初診までの待ち日数（任意）"),
        validators=[Optional(), NumberRange(min=0, max=pulse.WAIT_MAX)],
    )


class LinkForm(FlaskForm):
    """The confirmation button of a mail link, with the optional wait."""

    wait_days = _wait_field()


class PortalForm(FlaskForm):
    """The clinic portal's pulse answer."""

    capacity = RadioField(
        lazy_gettext("今月、妊産婦の新規受け入れ枠"),
        choices=[SelectChoice(c, c) for c in CAPACITY_CODES],
        validators=[InputRequired()],
    )
    wait_days = _wait_field()


@bp.route("/<int:facility_id>/<token>", methods=["GET"])
def confirm(facility_id: int, token: str):
    """Show the answer the link carries and a button; opening the link changes nothing."""
    ratelimit.enforce_per_ip("invitation_ip")
    link = pulse.read_link(db.session(), _secret(), facility_id, token)
    return _page(link, LinkForm())


def _page(link: pulse.PulseLink, form: LinkForm, status: int = 200):
    """Render the confirmation page."""
    facility = db.session().get(Facility, link.facility_id)
    return render_template(
        "clinic/pulse_confirm.html", facility=facility, link=link, form=form
    ), status


@bp.route("/<int:facility_id>/<token>", methods=["POST"])
def record(facility_id: int, token: str):
    """Record the link's answer (once per month's mail)."""
    ratelimit.enforce_per_ip("invitation_ip")
    session = db.session()
    form = LinkForm()
    if not form.validate_on_submit():
        return _page(pulse.read_link(session, _secret(), facility_id, token), form, 422)
    answer = pulse.record_from_link(session, _secret(), facility_id, token, form.wait_days.data)
    session.commit()
    search.sync_after_commit(session)
    facility = session.get(Facility, facility_id)
    return render_template("clinic/pulse_done.html", facility=facility, answer=answer)


def _secret() -> str:
    """Return the key the links are signed with."""
    return current_app.config["SECRET_KEY"]


def portal_form() -> PortalForm:
    """Return the portal's pulse form with translated choice labels."""
    form = PortalForm()
    form.capacity.choices = [
        SelectChoice(code, pulse.capacity_label(code, current_lang())) for code in CAPACITY_CODES
    ]
    return form


def save_from_portal(facility: Facility):
    """Store the portal answer for a facility the clinic answers for, or say what is wrong."""
    form = portal_form()
    if not form.validate_on_submit():
        flash(
            _("新規枠は「あり・少し・なし」から選び、待ち日数は0〜365の数字で入力してください。"),
            "error",
        )
        return redirect(url_for("clinic.index") + f"#capacity-{facility.id}")
    session = db.session()
    pulse.record_from_portal(
        session, facility, form.capacity.data, form.wait_days.data, current_principal().actor
    )
    session.commit()
    search.sync_after_commit(session)
    flash(_("今月の新規受け入れ枠を更新しました。"), "success")
    return redirect(url_for("clinic.index"))
