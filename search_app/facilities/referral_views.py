"""Referrals: "referred today", and the one outcome question two weeks later (no patient data)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired

from search_app import db, search
from search_app.auth import PROFESSIONAL_ROLES, current_principal, role_required
from search_app.facilities.forms import AddForm
from search_app.i18n import current_lang
from surveys import referrals
from surveys.models import OUTCOME_CODES, User

bp = Blueprint("referrals", __name__, url_prefix="/referrals")
referrers_only = role_required(*PROFESSIONAL_ROLES)


class ReferForm(AddForm):
    """'Referred today' for one facility, then back to `next`."""


class OutcomeForm(FlaskForm):
    """One tap: the pressed button's value is the outcome."""

    outcome = StringField(validators=[InputRequired(), AnyOf(OUTCOME_CODES)])
    next = HiddenField()
    safe_next = AddForm.safe_next


def _user() -> User:
    """Return the signed-in referrer's account."""
    user = db.session().get(User, current_principal().user_id)
    if user is None:
        abort(403)
    return user


@bp.route("/", methods=["POST"])
@referrers_only
def refer():
    """Record that the referrer referred someone to this facility today."""
    form = ReferForm()
    if not form.validate_on_submit():
        abort(400)
    session = db.session()
    back = form.safe_next(url_for("referrals.index"))
    try:
        referrals.create_referral(
            session, form.facility_id.data, _user(), current_principal().actor
        )
    except referrals.DuplicateReferral as exc:
        session.rollback()
        flash(exc.message(current_lang()), "info")
        return redirect(back)
    session.commit()
    flash(
        _("本日の紹介を記録しました。%(days)d日後に、受診につながったかを1問だけお聞きします。",
          days=referrals.FOLLOW_UP_DAYS),
        "success",
    )  # fmt: skip
    return redirect(back)


@bp.route("/")
@referrers_only
def index():
    """The referrer's questions that are due, and referrals still waiting for their day."""
    session = db.session()
    user = _user()
    return render_template(
        "referrals/index.html",
        due=referrals.due_questions(session, user),
        waiting=referrals.waiting(session, user),
        follow_up_days=referrals.FOLLOW_UP_DAYS,
    )


@bp.route("/<int:referral_id>/outcome", methods=["POST"])
@referrers_only
def outcome(referral_id: int):
    """Store the answer to 「受診につながりましたか」 (once, by the referrer's organisation)."""
    form = OutcomeForm()
    if not form.validate_on_submit():
        abort(400)
    session = db.session()
    referrals.answer_outcome(
        session, referral_id, _user(), form.outcome.data, current_principal().actor
    )
    session.commit()
    search.sync_after_commit(session)
    flash(_("ご回答ありがとうございました。"), "success")
    return redirect(form.safe_next(url_for("referrals.index")))


def due_outcome_questions() -> list:
    """Return the signed-in referrer's due questions (none for anyone else)."""
    principal = current_principal()
    if principal.role not in PROFESSIONAL_ROLES or principal.user_id is None:
        return []
    user = db.session().get(User, principal.user_id)
    return referrals.due_questions(db.session(), user) if user else []
