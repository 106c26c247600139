"""Set-password page: GET shows the form, only the POST changes anything."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _

from search_app import db
from search_app.account.forms import SetupPasswordForm
from search_app.i18n import current_lang
from surveys import password_links
from surveys.passwords import WeakPasswordError

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token: str):
    """Let the invited person choose a password, then send them to sign in."""
    secret = current_app.config["SECRET_KEY"]
    try:
        user = password_links.user_for_token(db.session(), secret, token)
    except password_links.SetupLinkError as exc:
        return _link_error(exc)
    form = SetupPasswordForm(account_email=user.email)
    if form.validate_on_submit():
        try:
            password_links.set_password(db.session(), secret, token, form.password.data)
        except WeakPasswordError as exc:  # the form checked already; kept for safety
            form.password.errors = [exc.message(current_lang())]
        else:
            db.session().commit()
            session.clear()
            flash(_("パスワードを設定しました。ログインしてください。"), "success")
            return redirect(url_for("auth.login"))
    return render_template("account/setup.html", form=form, user=user)


def _link_error(exc: password_links.SetupLinkError):
    """Explain why the link cannot be used (400 changed, 410 expired or used)."""
    message = exc.message(current_lang())
    return render_template("account/link_error.html", message=message), exc.status
