"""Sign-in, the current principal (user or invitation) and role checks."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from search_app import db
from surveys.accounts import hash_password, password_matches
from surveys.api_tokens import user_for_token
from surveys.audit import Actor, record
from surveys.models import Invitation, User, UserFacility, utcnow

bp = Blueprint("auth", __name__)
# Checked for unknown e-mail addresses so both answers take the same time.
_DUMMY_HASH = hash_password("not-a-real-password")


@dataclass(frozen=True)
class Principal:
    """Who is making the request: public (role None), a user, or an invitation."""

    role: str | None = None
    label: str = "public"
    user_id: int | None = None
    invitation_id: int | None = None
    facility_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def actor(self) -> Actor:
        """Return the audit actor for this principal."""
        return Actor(self.label, self.user_id, self.invitation_id)

    def may_answer_for(self, facility_id: int) -> bool:
        """Tell whether this principal may answer the survey for a facility."""
        return self.role == "clinic" and facility_id in self.facility_ids


PUBLIC = Principal()
PROFESSIONAL_ROLES = ("staff", "admin")


def init_app(app: Flask) -> None:
    """Load the principal before every request."""
    app.before_request(_load_principal)
    app.context_processor(
        lambda: {"principal": current_principal(), "professional": is_professional()}
    )


def current_principal() -> Principal:
    """Return the principal of this request."""
    return g.get("principal", PUBLIC)


def is_professional() -> bool:
    """Professionals (staff, admin; or a staff API token) see professional-only fields."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return user_for_token(db.session(), header[7:].strip()) is not None
    return current_principal().role in PROFESSIONAL_ROLES


def _load_principal() -> None:
    """Resolve the session to a principal; stale or disabled sessions become public."""
    g.principal = _principal_from_session()


def _principal_from_session() -> Principal:
    """Build the principal from the session cookie."""
    if "user_id" in session:
        user = db.session().get(User, session["user_id"])
        if user and user.is_active:
            return principal_for_user(user)
        session.clear()
    if "invitation_id" in session:
        until = datetime.fromisoformat(session.get("invitation_until", "2000-01-01T00:00:00+00:00"))
        invitation = db.session().get(Invitation, session["invitation_id"])
        if invitation and utcnow() < until:
            return principal_for_invitation(invitation)
        session.clear()
    return PUBLIC


def principal_for_user(user: User) -> Principal:
    """Build the principal of a signed-in user."""
    facility_ids: frozenset[int] = frozenset()
    if user.role == "clinic":
        links = db.session().exec(select(UserFacility).where(UserFacility.user_id == user.id))
        facility_ids = frozenset(link.facility_id for link in links)
    return Principal(user.role, f"user:{user.email}", user.id, None, facility_ids)


def principal_for_invitation(invitation: Invitation) -> Principal:
    """Build the principal of a clinic that came through an invitation link."""
    label = f"invitation:{invitation.id}"
    return Principal("clinic", label, None, invitation.id, frozenset({invitation.facility_id}))


def start_invitation_session(invitation: Invitation, campaign_closes_at: datetime, hours: int):
    """Sign the clinic in for one facility until the campaign closes or `hours` pass."""
    session.clear()
    session["invitation_id"] = invitation.id
    session["invitation_until"] = min(
        campaign_closes_at, utcnow() + timedelta(hours=hours)
    ).isoformat()


def role_required(*roles: str):
    """Let only these roles through: others are sent to sign in (public) or get 403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            principal = current_principal()
            if principal.role is None:
                flash(_("ログインしてください。"), "info")
                return redirect(url_for("auth.login"))
            if principal.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(lazy_gettext("メールアドレス"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        lazy_gettext("パスワード"), validators=[DataRequired(), Length(max=200)]
    )


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, taking the same time when unknown."""
    user = db.session().exec(select(User).where(User.email == email.strip().lower())).first()
    valid = password_matches(user.password_hash if user else _DUMMY_HASH, password)
    return user if user and valid and user.is_active else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in with e-mail and password."""
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        _audit_login(form.email.data, user)
        if user is not None:
            session.clear()
            session["user_id"] = user.id
            flash(_("ログインしました。"), "success")
            return redirect(url_for(_home_endpoint(user.role)))
        flash(
            _("メールアドレスまたはパスワードが正しくありません。"),
            "error",
        )
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out."""
    session.clear()
    flash(_("ログアウトしました。"), "success")
    return redirect(url_for("main.home"))


def _audit_login(email: str, user: User | None) -> None:
    """Record a sign-in or a failed attempt."""
    label = f"user:{user.email}" if user else f"unknown:{email.strip().lower()[:100]}"
    actor = Actor(label, user.id if user else None)
    record(db.session(), actor, "auth.login" if user else "auth.login_failed", user)
    db.session().commit()


def _home_endpoint(role: str) -> str:
    """Return where a role lands after signing in."""
    return "clinic.index" if role == "clinic" else "main.home"
