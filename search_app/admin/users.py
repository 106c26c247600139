"""Admin: user list, invitations, and one user's role, organisation, state and facilities."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from index.geo.gazetteer import five_digit_code, municipality_by_code
from search_app import db
from search_app.admin.views import bp, perform
from search_app.auth import current_principal
from search_app.forms import ActionForm, BoundedIntegerField, email_format, language_choices, strip
from search_app.i18n import current_lang
from search_app.mailing import send_setup_link
from surveys import password_links, users
from surveys.models import User

ROLE_LABELS = {
    "staff": lazy_gettext("関係機関職員"),
    "clinic": lazy_gettext("医療機関"),
    "admin": lazy_gettext("管理者"),
}


def _role_choices() -> list[SelectChoice]:
    """Return the role options."""
    return [SelectChoice(value, label) for value, label in ROLE_LABELS.items()]


class RoleForm(FlaskForm):
    """The user's role."""

    role = SelectField(lazy_gettext("権限"), choices=_role_choices())


class OrganisationForm(FlaskForm):
    """Name, organisation and municipality."""

    display_name = StringField(lazy_gettext("氏名"), filters=[strip], validators=[Length(max=200)])
    organisation = StringField(lazy_gettext("所属"), filters=[strip], validators=[Length(max=200)])
    municipality_code = StringField(
        lazy_gettext("区市町村コード（5桁または6桁、任意）"),
        filters=[strip],
        validators=[
            Optional(),
            Regexp(r"^\d{5,6}$", message=lazy_gettext("数字5〜6桁で入力してください。")),
        ],
    )

    def validate_municipality_code(self, field) -> None:
        """Keep the 5-digit code of a known municipality (a 6-digit one loses its check digit)."""
        if not field.data:
            return
        field.data = five_digit_code(field.data)
        if municipality_by_code(field.data) is None:
            raise ValidationError(_("この区市町村コードは見つかりません。"))


class InviteForm(RoleForm, OrganisationForm):
    """A new user: address, role, organisation, facilities (clinic) and the mail's language."""

    email = StringField(
        lazy_gettext("メールアドレス"),
        filters=[strip],
        validators=[
            DataRequired(),
            Length(max=254),
            email_format(),
        ],
    )
    facility_ids = StringField(
        lazy_gettext("医療機関ID（医療機関ユーザーのみ、複数はカンマ区切り）"),
        filters=[strip],
        validators=[
            Optional(),
            Regexp(
                r"^\d{1,9}(\s*[,、]\s*\d{1,9})*$",  # 9 digits: no overflow in the database
                message=lazy_gettext("数字をカンマで区切って入力してください。"),
            ),
        ],
    )
    language = RadioField(
        lazy_gettext("案内メールの言語"), choices=language_choices(), default="ja"
    )

    def ids(self) -> list[int]:
        """Return the facility ids typed in."""
        text = (self.facility_ids.data or "").replace("、", ",")
        return [int(part) for part in text.split(",") if part.strip()]


class LinkForm(FlaskForm):
    """A facility to link to a clinic user."""

    facility_id = BoundedIntegerField(lazy_gettext("医療機関ID"), validators=[InputRequired()])


class ResendForm(FlaskForm):
    """Send a new set-up link, in a chosen language."""

    language = RadioField(
        lazy_gettext("案内メールの言語"), choices=language_choices(), default="ja"
    )


@bp.route("/users")
def user_list():
    """List users with their role, organisation and sign-in state; filter by role."""
    role = request.args.get("role", "")
    role = role if role in ROLE_LABELS else ""
    rows = users.list_users(db.session(), role or None)
    return render_template("admin/users/list.html", rows=rows, role=role, roles=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    """Invite a user: create the account and mail a set-up link."""
    form = InviteForm()
    if form.validate_on_submit():
        user = perform(lambda session, actor: _invite(session, actor, form))
        if user is not None:
            return _after_link_sent(user, _send_link(user, form.language.data))
    return render_template("admin/users/new.html", form=form)


def _invite(session, actor, form: InviteForm) -> User:
    """Create the user the form describes."""
    return users.invite_user(
        session,
        actor,
        form.email.data,
        form.role.data,
        form.display_name.data,
        form.organisation.data,
        form.municipality_code.data or "",
        form.ids(),
    )


@bp.route("/users/<int:user_id>")
def user_detail(user_id: int):
    """One user: role, organisation, state, facilities, set-up link."""
    user = users.get_user(db.session(), user_id)
    query = request.args.get("q", "").strip()[:100]
    return render_template(
        "admin/users/detail.html",
        user=user,
        role_form=RoleForm(role=user.role),
        org_form=OrganisationForm(obj=user),
        link_form=LinkForm(),
        resend_form=ResendForm(),
        action_form=ActionForm(),
        facilities=users.linked_facilities(db.session(), user),
        query=query,
        matches=users.search_facilities(db.session(), query) if query else [],
        is_self=user.id == current_principal().user_id,
    )


@bp.route("/users/<int:user_id>/role", methods=["POST"])
def user_role(user_id: int):
    """Change a user's role."""
    form = _valid(RoleForm())
    return _apply(
        user_id,
        lambda s, a, u: users.change_role(s, a, u, form.role.data),
        _("権限を変更しました。"),
    )


@bp.route("/users/<int:user_id>/organisation", methods=["POST"])
def user_organisation(user_id: int):
    """Change a user's name, organisation and municipality."""
    form = OrganisationForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("admin.user_detail", user_id=user_id))
    return _apply(
        user_id,
        lambda s, a, u: users.set_organisation(
            s,
            a,
            u,
            form.organisation.data,
            form.municipality_code.data or "",
            form.display_name.data,
        ),
        _("所属を変更しました。"),
    )


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
def user_disable(user_id: int):
    """Disable a user; their sessions end at once."""
    _valid(ActionForm())
    return _apply(user_id, users.disable_user, _("アカウントを無効にしました。"))


@bp.route("/users/<int:user_id>/two-factor/reset", methods=["POST"])
def user_reset_two_factor(user_id: int):
    """Remove a user's authenticator (lost or replaced phone); their sessions end."""
    _valid(ActionForm())
    done = _("2段階認証を解除しました。次回ログイン時に設定し直します。")
    return _apply(user_id, users.reset_two_factor, done)


@bp.route("/users/<int:user_id>/enable", methods=["POST"])
def user_enable(user_id: int):
    """Enable a disabled user again."""
    _valid(ActionForm())
    return _apply(user_id, users.enable_user, _("アカウントを有効にしました。"))


@bp.route("/users/<int:user_id>/facilities", methods=["POST"])
def user_link(user_id: int):
    """Link a facility to a clinic user."""
    form = _valid(LinkForm())
    return _apply(
        user_id,
        lambda s, a, u: users.link_facility(s, a, u, form.facility_id.data),
        _("医療機関を紐づけました。"),
    )


@bp.route("/users/<int:user_id>/facilities/<int:facility_id>/unlink", methods=["POST"])
def user_unlink(user_id: int, facility_id: int):
    """Remove a facility from a clinic user."""
    _valid(ActionForm())
    return _apply(
        user_id,
        lambda s, a, u: users.unlink_facility(s, a, u, facility_id),
        _("医療機関の紐づけを解除しました。"),
    )


@bp.route("/users/<int:user_id>/setup-link", methods=["POST"])
def user_resend(user_id: int):
    """Mail a new set-up link (the old one stays valid until a password is set)."""
    form = _valid(ResendForm())
    user = users.get_user(db.session(), user_id)
    if not user.is_active:
        flash(_("無効なアカウントにはリンクを送れません。先に有効にしてください。"), "error")
        return redirect(url_for("admin.user_detail", user_id=user_id))
    return _after_link_sent(user, _send_link(user, form.language.data))


def _valid(form: FlaskForm) -> FlaskForm:
    """Return the posted form, or 400 when its token or fields are wrong."""
    if not form.validate_on_submit():
        abort(400)
    return form


def _apply(user_id: int, operation, done: str):
    """Run an operation on a user (404 if none), commit, and flash its result or its refusal."""
    user = users.get_user(db.session(), user_id)
    perform(lambda session, actor: operation(session, actor, user), done)
    return redirect(url_for("admin.user_detail", user_id=user_id))


def _send_link(user: User, lang: str) -> password_links.SentLink:
    """Mail a set-up link and commit its audit event."""
    sent = send_setup_link(db.session(), current_principal().actor, user, lang)
    db.session().commit()
    return sent


def _after_link_sent(user: User, sent: password_links.SentLink):
    """On success go to the user's page; on failure show the link to pass on by hand."""
    if sent.mailed:
        flash(_("%(email)s に設定用リンクを送りました。", email=user.email), "success")
        return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template(
        "admin/users/link_not_sent.html",
        user=user,
        url=sent.url,
        error=sent.error.message(current_lang()),
    )
