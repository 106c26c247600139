"""Clinics coming back without the office: the 'for clinics' page, sign-in links by e-mail,
and the short code of a printed letter typed at /invite."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from search_app import db, ratelimit
from search_app.auth import start_invitation_session, start_signin_link_session
from search_app.forms import ActionForm, email_format, strip
from search_app.i18n import current_lang
from search_app.mailing import base_url, mail_settings, office_contact
from surveys import invitations, letter_codes, signin_links
from surveys.errors import InvitationError
from surveys.models import Facility
from surveys.users import canonical_email

bp = Blueprint("clinic_access", __name__)


def office_context() -> dict:
    """Every page may show the office's contact (dead ends, the 'for clinics' page)."""
    return {"office": office_contact()}


class LinkRequestForm(FlaskForm):
    """The address registered for the facility's survey contact."""

    email = EmailField(
        lazy_gettext("登録されているメールアドレス"),
        filters=[strip],
        validators=[DataRequired(), Length(max=254), email_format()],
    )


def _code_format(_form, field) -> None:
    """Refuse what cannot be a letter code, saying what one looks like."""
    if letter_codes.normalise(field.data or "") is None:
        raise ValidationError(
            _("コードは英数字12文字です（例: 7K3M-Q9XZ-2B4P）。案内状の記載を確認してください。")
        )


class LetterCodeForm(FlaskForm):
    """The short code printed on an invitation letter."""

    code = StringField(
        lazy_gettext("案内状のコード（12文字）"),
        filters=[strip],
        validators=[DataRequired(), Length(max=60), _code_format],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


@bp.route("/clinics", methods=["GET", "POST"])
def for_clinics():
    """Explain how clinics answer and come back; mail a sign-in link on request."""
    form = LinkRequestForm()
    status = 200
    if form.validate_on_submit():
        ratelimit.enforce_per_ip("signin_link_ip")
        address = canonical_email(form.email.data)
        if ratelimit.allow("signin_link_address", address):
            _send_links(address)
            flash(_sent_message(), "success")
            return redirect(url_for("clinic_access.for_clinics"))
        form.email.errors = [
            _("続けて依頼されました。1分ほど待ってから、もう一度お試しください。"),
        ]
        status = 429
    minutes = current_app.config["SIGNIN_LINK_MINUTES"]
    return render_template("clinic/for_clinics.html", form=form, minutes=minutes), (
        422 if form.errors and status == 200 else status
    )


def _sent_message() -> str:
    """The one answer to every request, known address or not."""
    return _(
        "登録されているメールアドレスであれば、ログイン用リンクを送信しました。"
        "メールが届かない場合は、事務局にお問い合わせください。"
    )


def _send_links(address: str) -> None:
    """Mail the links (if the address is registered) and commit; a mail failure is logged."""
    session = db.session()
    result = signin_links.request_links(
        session,
        address,
        mail_settings(),
        base_url(),
        office_contact(),
        current_app.config["SIGNIN_LINK_MINUTES"],
        current_lang(),
    )
    session.commit()
    if result.error is not None:
        current_app.logger.warning("sign-in link mail failed: %s", result.error.message_en)


@bp.route("/clinics/signin/<token>", methods=["GET"])
def signin_link(token: str):
    """Show which facility the link opens; the POST uses it (mail scanners only GET)."""
    ratelimit.enforce_per_ip("invitation_ip")
    link = signin_links.find_link(db.session(), token)
    facility = db.session().get(Facility, link.facility_id)
    return render_template("clinic/signin_link.html", facility=facility, form=ActionForm())


@bp.route("/clinics/signin/<token>", methods=["POST"])
def signin_redeem(token: str):
    """Use the link: sign the clinic in for its facility."""
    ratelimit.enforce_per_ip("invitation_ip")
    if not ActionForm().validate_on_submit():
        abort(400)
    session = db.session()
    link = signin_links.redeem_link(session, token)
    session.commit()
    start_signin_link_session(link, current_app.config["INVITATION_SESSION_HOURS"])
    flash(_("ログインしました。回答の確認・修正ができます。"), "success")
    return redirect(url_for("clinic.index"))


@bp.route("/invite", methods=["GET", "POST"])
def letter_code():
    """Type the code of a printed letter: it signs the clinic in once."""
    form = LetterCodeForm()
    if form.validate_on_submit():
        ratelimit.enforce_per_ip("letter_code_ip")
        code = letter_codes.normalise(form.code.data)
        try:
            return _redeem_code(code)
        except InvitationError as exc:
            db.session().rollback()
            form.code.errors = [exc.message(current_lang())]
    status = 422 if form.errors else 200
    return render_template("clinic/letter_code.html", form=form), status


@bp.route("/invite/<token>", methods=["GET"])
def letter_link(token: str):
    """The QR code's address: show which facility the letter is for, then POST to use it."""
    ratelimit.enforce_per_ip("letter_code_ip")
    code = letter_codes.normalise(token) or "-"
    invite = invitations.find_invitation(db.session(), code)
    facility = db.session().get(Facility, invite.facility_id)
    return render_template("clinic/invitation.html", facility=facility, form=ActionForm())


@bp.route("/invite/<token>", methods=["POST"])
def letter_redeem(token: str):
    """Use the letter's invitation from its QR code."""
    ratelimit.enforce_per_ip("letter_code_ip")
    if not ActionForm().validate_on_submit():
        abort(400)
    return _redeem_code(letter_codes.normalise(token) or "-")


def _redeem_code(code: str):
    """Use an invitation by its code and start the clinic's session."""
    session = db.session()
    invite = invitations.redeem_invitation(session, code)
    closes_at = invitations.invitation_expires_at(session, invite)
    session.commit()
    start_invitation_session(invite, closes_at, current_app.config["INVITATION_SESSION_HOURS"])
    return redirect(url_for("clinic.survey", facility_id=invite.facility_id))
