"""Clinic portal views (thin: operations live in `surveys`)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from sqlmodel import col, select
from wtforms import EmailField, HiddenField
from wtforms.validators import Length, Optional

from search_app import db, ratelimit, search
from search_app.auth import current_principal, role_required, start_invitation_session
from search_app.clinic import links
from search_app.clinic import pulse as pulse_views
from search_app.forms import ActionForm, email_format, strip
from search_app.i18n import current_lang
from search_app.questionnaire import current_questionnaire
from surveys import audit, invitations, network, operations, pulse, referrals, reports
from surveys.errors import AnswerError, VersionConflict
from surveys.forms import build_form_class, form_data_from_answers
from surveys.models import Campaign, Facility, Invitation, QuestionnaireVersion
from surveys.numbers import DATABASE_INT_MAX, whole_number
from surveys.questionnaire import Questionnaire, stored_edition

bp = Blueprint("clinic", __name__, url_prefix="/clinic")


class ConfirmForm(FlaskForm):
    """The 'still accurate' button; carries the version it confirms."""

    base_version = HiddenField()


class SurveyFormBase(FlaskForm):
    """What the survey form carries besides the questionnaire: the clinic's contact address."""

    contact_email = EmailField(
        lazy_gettext("調査の連絡先メールアドレス"),
        description=lazy_gettext(
            "次回の調査のご案内と、ログイン用リンクの送り先です。関係機関にのみ表示されます。"
        ),
        filters=[strip],
        validators=[Optional(), Length(max=254), email_format()],
    )


def _own_facility(facility_id: int) -> Facility:
    """Return a facility the current clinic may answer for, or 403/404."""
    facility = db.session().get(Facility, facility_id)
    if facility is None:
        abort(404)
    if not current_principal().may_answer_for(facility_id):
        abort(403)
    return facility


def questionnaire_for(facility: Facility) -> Questionnaire:
    """The edition this facility answers: its invitation campaign's, else its category's."""
    invitation_id = current_principal().invitation_id
    invitation = db.session().get(Invitation, invitation_id) if invitation_id else None
    if invitation is not None and invitation.facility_id == facility.id:
        campaign = db.session().get(Campaign, invitation.campaign_id)
        row = db.session().get(QuestionnaireVersion, campaign.questionnaire_id)
        edition = stored_edition(row.version, row.definition)
        if edition.respondent == facility.category:
            return edition
    return current_questionnaire(facility.category)


@bp.route("/invite/<token>", methods=["GET"])
def invitation(token: str):
    """Show who the link is for; signing in needs the POST (mail scanners only GET)."""
    ratelimit.enforce_per_ip("invitation_ip")  # guessing tokens costs a 429 soon
    invite = invitations.find_invitation(db.session(), token)
    facility = db.session().get(Facility, invite.facility_id)
    return render_template("clinic/invitation.html", facility=facility, form=ActionForm())


@bp.route("/invite/<token>", methods=["POST"])
def redeem(token: str):
    """Use the invitation: sign the clinic in for its facility."""
    ratelimit.enforce_per_ip("invitation_ip")
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    session = db.session()
    invite = invitations.redeem_invitation(session, token)
    closes_at = invitations.invitation_expires_at(session, invite)
    session.commit()
    start_invitation_session(invite, closes_at, current_app.config["INVITATION_SESSION_HOURS"])
    return redirect(url_for("clinic.survey", facility_id=invite.facility_id))


@bp.route("/")
@role_required("clinic")
def index():
    """List the clinic's facilities with their answer status."""
    ids = current_principal().facility_ids
    facilities = (
        db.session()
        .exec(select(Facility).where(col(Facility.id).in_(ids)).order_by(Facility.name))
        .all()
    )
    rows = [(f, operations.current_response(db.session(), f.id)) for f in facilities]
    return render_template(
        "clinic/index.html",
        rows=rows,
        answerers=_answerers(facilities),
        form=ConfirmForm(),
        account_form=ActionForm(),
        pulse_form=pulse_views.portal_form(),
        capacity=pulse.latest_answers(db.session(), ids),
        outcomes=referrals.outcome_counts(db.session(), ids),
    )


def _answerers(facilities: list[Facility]) -> str:
    """Say who answers on the portal: medical institutions, contact points, or both."""
    municipal = {f.category == "municipal" for f in facilities}
    if municipal == {True}:
        return "contact_points"
    return "both" if True in municipal else "institutions"


@bp.route("/facilities/<int:facility_id>/capacity", methods=["POST"])
@role_required("clinic")
def capacity(facility_id: int):
    """Update this month's capacity pulse answer from the portal."""
    return pulse_views.save_from_portal(_own_facility(facility_id))


@bp.route("/facilities/<int:facility_id>/survey", methods=["GET", "POST"])
@role_required("clinic")
def survey(facility_id: int):
    """Show and save the survey answers of one facility."""
    facility = _own_facility(facility_id)
    questionnaire = questionnaire_for(facility)
    latest = operations.current_response(db.session(), facility_id)
    form = _survey_form(questionnaire, latest, facility)
    if form.validate_on_submit():
        return _save(facility, questionnaire, form)
    return render_template(
        "clinic/survey.html",
        facility=facility,
        form=form,
        latest=latest,
        questionnaire=questionnaire,
        pickers=links.pickers(
            db.session(), questionnaire, form.raw_answers(), latest.answers if latest else {}
        ),
    ), (422 if form.errors else 200)


def _survey_form(questionnaire: Questionnaire, latest, facility: Facility):
    """Build the form, pre-filled with the current answers and contact address on GET."""
    kept = latest.answers if latest else {}  # links no longer offered stay until unticked
    directory = network.link_directory(db.session(), questionnaire, kept)
    form_class = build_form_class(
        questionnaire, current_lang(), base=SurveyFormBase, directory=directory
    )
    data = form_data_from_answers(questionnaire, latest.answers) if latest else {}
    data["base_version"] = str(latest.version_no if latest else 0)
    data["contact_email"] = facility.email
    return form_class(data=data)


def _confirm_contact(facility: Facility, typed: str | None) -> None:
    """Store a changed contact address on the facility (audited; empty keeps the old one)."""
    address = (typed or "").strip().lower()
    if address and address != (facility.email or "").lower():
        before = facility.email
        facility.email = address
        db.session().add(facility)
        audit.record(
            db.session(),
            current_principal().actor,
            "facility.contact_email",
            facility,
            before=before,
            after=address,
        )


def _save(facility: Facility, questionnaire: Questionnaire, form):
    """Store a new version; a conflicting save shows both versions."""
    session = db.session()
    try:
        operations.submit_answers(
            session,
            facility,
            questionnaire,
            form.answers(),
            current_principal().actor,
            _base_version(form.base_version.data),
        )
    except VersionConflict:
        session.rollback()
        return _conflict(facility, questionnaire, form)
    except AnswerError:
        abort(422)
    _confirm_contact(facility, form.contact_email.data)
    reports.resolve_after_verification(session, facility.id, current_principal().actor)
    session.commit()
    search.sync_after_commit(session)
    flash(
        _("回答を保存しました。ご協力ありがとうございます。"),
        "success",
    )
    return redirect(url_for("clinic.index"))


def _base_version(raw: str | None) -> int:
    """Parse the hidden version field; garbage counts as a conflict, not a crash."""
    value = whole_number(raw or "", DATABASE_INT_MAX)
    return -1 if value is None else value


def _conflict(facility: Facility, questionnaire: Questionnaire, form):
    """Show the saved version next to the one the user tried to save."""
    latest = operations.current_response(db.session(), facility.id)
    if latest is None:  # nothing saved yet: the posted base version was garbled, not stale
        abort(400)
    mine = form.answers()
    return render_template(
        "clinic/conflict.html",
        facility=facility,
        questionnaire=questionnaire,
        latest=latest,
        mine=mine,
    ), 409


@bp.route("/facilities/<int:facility_id>/confirm", methods=["POST"])
@role_required("clinic")
def confirm(facility_id: int):
    """'Still accurate': set today's verification date without changing answers."""
    facility = _own_facility(facility_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    session = db.session()
    operations.confirm_still_accurate(
        session, facility, current_principal().actor, _base_version(form.base_version.data)
    )
    reports.resolve_after_verification(session, facility.id, current_principal().actor)
    session.commit()
    search.sync_after_commit(session)
    flash(
        _("「内容に変更なし」を登録しました。"),
        "success",
    )
    return redirect(url_for("clinic.index"))


@bp.route("/facilities/<int:facility_id>/history")
@role_required("clinic")
def history(facility_id: int):
    """List every saved version of a facility's answers."""
    facility = _own_facility(facility_id)
    versions = operations.history(db.session(), facility_id)
    return render_template(
        "clinic/history.html",
        facility=facility,
        versions=versions,
        questionnaire=questionnaire_for(facility),
    )
