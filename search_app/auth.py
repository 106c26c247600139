"""Sign-in (password, then a one-time code), the current principal and role checks."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from sqlmodel import col, select, update

from search_app import db, login_throttle, ratelimit, session_limits
from search_app.auth_forms import CodeForm, LoginForm, PasswordCodeForm
from surveys import invitations, signin_links, totp
from surveys.accounts import hash_password, needs_rehash, password_matches
from surveys.api_tokens import user_for_token
from surveys.audit import Actor, record
from surveys.models import Invitation, SignInLink, User, UserFacility, utcnow
from surveys.users import canonical_email

bp = Blueprint("auth", __name__)
# How long the code step (or the admin's set-up step) may follow a correct password.
PENDING_SECONDS = 600
# Roles that must use a one-time code; others may set one up from their account page.
TOTP_REQUIRED_ROLES = ("admin",)


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
    """Load the principal before every request and offer it to templates."""
    app.before_request(_load_principal)
    app.context_processor(
        lambda: {"principal": current_principal(), "professional": is_professional()}
    )


def current_principal() -> Principal:
    """Return the principal of this request."""
    return g.get("principal", PUBLIC)


def is_professional() -> bool:
    """Professionals (staff, admin; or a staff API token) see professional-only fields."""
    if bearer_token() is not None:
        return token_user() is not None
    return current_principal().role in PROFESSIONAL_ROLES


def bearer_token() -> str | None:
    """Return the token of an `Authorization: Bearer` header (None without one)."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.startswith("Bearer ") else None


def token_user() -> User | None:
    """Return the user of this request's bearer token if it is valid (looked up once)."""
    if "token_user" not in g:
        g.token_user = user_for_token(db.session(), bearer_token() or "")
        db.session().commit()  # the token's last-used time
    return g.token_user


def _load_principal():
    """Resolve the session to a principal; stale or disabled sessions become public.

    A staff or admin session past its idle or absolute limit ends here, whatever the page:
    the user is sent to the sign-in page with the reason.
    """
    g.principal = _principal_from_session()
    reason = g.pop("session_ended", "")
    if not reason or request.endpoint == "static":
        return None
    flash(session_limits.message(reason), "info")
    endpoint = request.endpoint or ""
    if endpoint == "auth.login" or endpoint.startswith(("api.", "health.")):
        return None  # the API answers as for anyone; the next page shows the message
    return redirect(url_for("auth.login"))


def _principal_from_session() -> Principal:
    """Build the principal from the session cookie."""
    if "user_id" in session:
        user = db.session().get(User, session["user_id"])
        if _session_current(user, session.get("epoch")):
            g.session_ended = session_limits.ended(session, user.role)
            if not g.session_ended:
                return principal_for_user(user)
        _fresh_session()
    if "signin_link_id" in session:
        return _signin_link_principal() or _cleared()
    if "invitation_id" in session:
        until = datetime.fromisoformat(session.get("invitation_until", "2000-01-01T00:00:00+00:00"))
        invitation = db.session().get(Invitation, session["invitation_id"])
        if invitation and utcnow() < until:
            if invitations.campaign_open(db.session(), invitation):
                return principal_for_invitation(invitation)
            session.clear()
            flash(_("この調査の受付は終了しました。回答を続けるには事務局にお問い合わせください。"))
            return PUBLIC
        session.clear()
    return PUBLIC


def _cleared() -> Principal:
    """End the session; the request is public."""
    session.clear()
    return PUBLIC


def _signin_link_principal() -> Principal | None:
    """Return the clinic signed in through a mailed sign-in link, while the session lasts."""
    until = datetime.fromisoformat(session.get("signin_until", "2000-01-01T00:00:00+00:00"))
    link = db.session().get(SignInLink, session["signin_link_id"])
    if link is None or utcnow() >= until:
        return None
    label = signin_links.actor_for(link).label
    return Principal("clinic", label, None, None, frozenset({link.facility_id}))


def start_signin_link_session(link: SignInLink, hours: int) -> None:
    """Sign the clinic in for the link's facility for `hours`."""
    _fresh_session()
    session["signin_link_id"] = link.id
    session["signin_until"] = (utcnow() + timedelta(hours=hours)).isoformat()


def _session_current(user: User | None, epoch: object) -> bool:
    """A session counts while the user is active, the epoch matches and a required code is set."""
    if user is None or not user.is_active or epoch != user.session_epoch:
        return False
    return bool(user.totp_secret) or user.role not in TOTP_REQUIRED_ROLES


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


@functools.cache
def _dummy_hash() -> str:
    """A hash checked for unknown addresses so both answers take the same time (made once)."""
    return hash_password("not-a-real-password")


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, taking the same time when unknown."""
    user = db.session().exec(select(User).where(User.email == canonical_email(email))).first()
    # An invited user without a password yet costs the same work as an unknown address.
    stored = user.password_hash if user and user.password_hash else _dummy_hash()
    valid = password_matches(stored, password)
    return user if user and user.password_hash and valid and user.is_active else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in, step 1: e-mail and password (rate-limited before the password is checked)."""
    form = LoginForm()
    if form.validate_on_submit():
        email, ip = canonical_email(form.email.data), ratelimit.client_ip()
        ratelimit.enforce("login_ip", ip, f"ip:{ip}")
        login_throttle.check(email, ip)
        user = authenticate(email, form.password.data)
        if user is not None:
            _rehash_if_outdated(user, form.password.data)
            return _after_password(user)
        _audit(Actor(f"unknown:{email[:100]}"), "auth.login_failed")
        login_throttle.failed(email, ip)
        flash(_("メールアドレスまたはパスワードが正しくありません。"), "error")
    return render_template("auth/login.html", form=form)


def _rehash_if_outdated(user: User, password: str) -> None:
    """Replace a hash made with older parameters now that the password is known."""
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session().add(user)
        db.session().commit()


def _after_password(user: User):
    """Finish sign-in, or go on to the code step (or, for an admin without one, to set-up)."""
    needs_setup = not user.totp_secret and user.role in TOTP_REQUIRED_ROLES
    if not user.totp_secret and not needs_setup:
        return _complete_sign_in(user)
    _fresh_session()
    session["pending"] = {
        "user_id": user.id,
        "epoch": user.session_epoch,
        "until": time.time() + PENDING_SECONDS,
    }
    if needs_setup:
        flash(_("管理者は2段階認証の設定が必要です。設定するとログインが完了します。"), "info")
        return redirect(url_for("auth.totp_setup"))
    return redirect(url_for("auth.login_code"))


def _fresh_session() -> None:
    """Drop everything from the session but the chosen language (no fixation, no leftovers)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _complete_sign_in(user: User):
    """Start the signed-in session (fresh, carrying the epoch) and go to the role's home."""
    _fresh_session()
    session["user_id"] = user.id
    session["epoch"] = user.session_epoch
    session_limits.start(session)
    user.last_login_at = utcnow()
    db.session().add(user)
    _audit(Actor(f"user:{user.email}", user.id), "auth.login", user)
    flash(_("ログインしました。"), "success")
    return login_throttle.remember_device(redirect(url_for(_home_endpoint(user.role))), user.email)


def _pending_user() -> User | None:
    """Return the user whose password was right a moment ago in this session, if still valid."""
    pending = session.get("pending")
    if not isinstance(pending, dict) or pending.get("until", 0) < time.time():
        return None
    user = db.session().get(User, pending.get("user_id"))
    if user is None or not user.is_active or user.session_epoch != pending.get("epoch"):
        return None
    return user


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    """Sign in, step 2: the one-time code (only after a correct password)."""
    user = _pending_user()
    if user is None or not user.totp_secret:
        flash(_("もう一度ログインしてください。"), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        ratelimit.enforce("totp", str(user.id), f"user:{user.email}")
        if _accept_code(user, user.totp_secret, form.code.data):
            return _complete_sign_in(user)
        _refuse_code(user, form)
    return render_template("auth/code.html", form=form)


def _accept_code(user: User, secret: str, code: str) -> bool:
    """Check a code (now ± one step) and use up its step: a code works only once."""
    step = totp.matching_step(secret, code)
    return step is not None and ratelimit.limiter().claim_totp_step(user.id, step)


def _refuse_code(user: User, form: CodeForm) -> None:
    """Record a wrong or reused code and say so on the form."""
    _audit(Actor(f"user:{user.email}", user.id), "auth.totp_failed", user)
    form.code.errors = [_("確認コードが正しくないか、すでに使われています。")]


@bp.route("/account/security")
def account():
    """The signed-in user's account: address, role, last sign-in, two-step verification."""
    principal = current_principal()
    if principal.user_id is None:
        if principal.role is None:
            flash(_("ログインしてください。"), "info")
            return redirect(url_for("auth.login"))
        abort(403)  # a clinic that came through an invitation link has no account
    user = db.session().get(User, principal.user_id)
    can_setup = user.role in (*PROFESSIONAL_ROLES, "clinic")
    return render_template("auth/account.html", user=user, can_setup=can_setup)


@bp.route("/account/two-factor", methods=["GET", "POST"])
def totp_setup():
    """Set up two-step verification: show the secret, confirm it with a first code."""
    user, signing_in = _setup_user()
    if user is None:
        flash(_("ログインしてください。"), "info")
        return redirect(url_for("auth.login"))
    secret = session.setdefault("totp_setup", totp.generate_secret())
    # Mid sign-in the password was just given; a signed-in session must give it again.
    reauthenticate = not signing_in
    form = PasswordCodeForm() if reauthenticate else CodeForm()
    if form.validate_on_submit():
        ratelimit.enforce("totp", str(user.id), f"user:{user.email}")
        if reauthenticate and not password_matches(user.password_hash, form.password.data):
            _audit(Actor(f"user:{user.email}", user.id), "auth.totp_failed", user)
            form.password.errors = [_("パスワードが正しくありません。")]
        elif _accept_code(user, secret, form.code.data):
            return _enrol(user, secret, signing_in)
        else:
            _refuse_code(user, form)
    issuer = current_app.config["TOTP_ISSUER"]
    uri = totp.provisioning_uri(secret, user.email, issuer)
    return render_template(
        "auth/totp_setup.html", form=form, secret=totp.grouped(secret), uri=uri, user=user
    )


def _setup_user() -> tuple[User | None, bool]:
    """Return who may set up a code: a signed-in professional, or an admin mid sign-in."""
    principal = current_principal()
    if principal.user_id is not None and principal.role in (*PROFESSIONAL_ROLES, "clinic"):
        return db.session().get(User, principal.user_id), False
    user = _pending_user()
    if user is not None and user.role in TOTP_REQUIRED_ROLES and not user.totp_secret:
        return user, True
    return None, False


def _enrol(user: User, secret: str, signing_in: bool):
    """Store the confirmed secret; finish the sign-in if this was the admin's set-up step.

    A replaced authenticator ends the user's other sessions (this one carries on).
    """
    if user.totp_secret:
        user.session_epoch += 1
        session["epoch"] = user.session_epoch
    user.totp_secret = secret
    session.pop("totp_setup", None)
    db.session().add(user)
    _audit(Actor(f"user:{user.email}", user.id), "auth.totp_enrolled", user)
    if signing_in:
        return _complete_sign_in(user)
    flash(_("2段階認証を設定しました。次回から確認コードも入力します。"), "success")
    return redirect(url_for("auth.account"))


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out; the session epoch moves on, so a copy of the cookie stops working too."""
    principal = current_principal()
    if principal.user_id is not None:
        statement = (
            update(User)
            .where(col(User.id) == principal.user_id)
            .values(session_epoch=col(User.session_epoch) + 1)
        )
        db.session().exec(statement)
        _audit(principal.actor, "auth.logout")
    _fresh_session()
    flash(_("ログアウトしました。"), "success")
    return redirect(url_for("main.home"))


def _audit(actor: Actor, action: str, target: User | None = None) -> None:
    """Record an account event and commit it with any pending change."""
    record(db.session(), actor, action, target)
    db.session().commit()


def _home_endpoint(role: str) -> str:
    """Return where a role lands after signing in: the portal, the office dashboard, search."""
    return {"clinic": "clinic.index", "admin": "admin.dashboard"}.get(role, "main.home")
