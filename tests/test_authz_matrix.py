"""Who may reach what: every endpoint in the URL map x every role x own/other object.

The RULES table below is the authorisation policy, one line per endpoint. A new route without a
line fails `test_every_endpoint_has_a_rule`: add the endpoint with the roles that may reach it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import url_for
from sqlmodel import select

from search_app.facilities import share
from surveys import (
    audit,
    corrections,
    letter_codes,
    password_links,
    pulse_mail,
    referrals,
    reports,
    signin_links,
)
from surveys.invitations import create_invitation
from surveys.models import Campaign, Invitation, utcnow
from surveys.totp import generate_secret
from tests.conftest import open_user_session

PUBLIC, STAFF, ADMIN = "public", "staff", "admin"
CLINIC_A, CLINIC_B, INVITE_A = "clinic_a", "clinic_b", "invite_a"
ROLES = (PUBLIC, STAFF, ADMIN, CLINIC_A, CLINIC_B, INVITE_A)
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {PUBLIC}
REFERRERS = frozenset({STAFF, ADMIN})
CLINICS = frozenset({CLINIC_A, CLINIC_B, INVITE_A})
ADMINS = frozenset({ADMIN})
USERS = frozenset({STAFF, ADMIN, CLINIC_A, CLINIC_B})  # accounts (not invitation sessions)
# Which facility each clinic role answers for ("own"); the other one is "other".
OWN_FACILITY = {CLINIC_A: "a", CLINIC_B: "b", INVITE_A: "a"}


@dataclass(frozen=True)
class Rule:
    """Roles that may reach an endpoint; `owner`: clinic roles only for their own facility."""

    roles: frozenset[str]
    owner: bool = False
    note: str = ""
    # How the app turns away a signed-in role: "403", or "login" (sent to sign in again).
    denial: str = "403"


RULES: dict[str, Rule] = {
    # public pages
    "main.home": Rule(EVERYONE),
    "main.help_page": Rule(EVERYONE),
    "main.contact": Rule(EVERYONE),
    "main.privacy": Rule(EVERYONE),
    "facilities.detail": Rule(EVERYONE, note="public listings; 404 only for hidden ones"),
    "shortlist.shared": Rule(EVERYONE, note="a signed share link is the credential"),
    "api.search_facilities": Rule(EVERYONE),
    "api.facility_detail": Rule(EVERYONE),
    "api.openapi": Rule(EVERYONE),
    "health.healthz": Rule(EVERYONE),
    # signing in and out
    "auth.login": Rule(EVERYONE),
    "auth.logout": Rule(EVERYONE),
    "auth.login_code": Rule(EVERYONE, note="step 2 of a sign-in; others are sent to /login"),
    "auth.account": Rule(USERS, note="an invitation session has no account"),
    "auth.totp_setup": Rule(USERS, denial="login", note="or an admin mid sign-in"),
    "account.setup": Rule(EVERYONE, note="the signed set-password link is the credential"),
    "clinic.invitation": Rule(EVERYONE, note="the token is the credential"),
    "clinic.redeem": Rule(EVERYONE, note="the token is the credential"),
    "pulse.confirm": Rule(EVERYONE, note="the signed pulse link is the credential"),
    "pulse.record": Rule(EVERYONE, note="the signed pulse link is the credential"),
    "clinic_access.for_clinics": Rule(EVERYONE),
    "clinic_access.signin_link": Rule(EVERYONE, note="the mailed token is the credential"),
    "clinic_access.signin_redeem": Rule(EVERYONE, note="the mailed token is the credential"),
    "clinic_access.letter_code": Rule(EVERYONE, note="the typed code is the credential"),
    "clinic_access.letter_link": Rule(EVERYONE, note="the printed code is the credential"),
    "clinic_access.letter_redeem": Rule(EVERYONE, note="the printed code is the credential"),
    # staff referral work
    "facilities.report": Rule(REFERRERS),
    "shortlist.index": Rule(REFERRERS),
    "shortlist.add": Rule(REFERRERS),
    "shortlist.remove": Rule(REFERRERS),
    "shortlist.note": Rule(REFERRERS),
    "shortlist.clear": Rule(REFERRERS),
    "shortlist.print_view": Rule(REFERRERS),
    "shortlist.make_share": Rule(REFERRERS),
    "referrals.refer": Rule(REFERRERS),
    "referrals.index": Rule(REFERRERS),
    "referrals.outcome": Rule(REFERRERS, note="the referrer's organisation: see test_referrals"),
    # clinic portal
    "clinic.index": Rule(CLINICS),
    "clinic.survey": Rule(CLINICS, owner=True),
    "clinic.confirm": Rule(CLINICS, owner=True),
    "clinic.history": Rule(CLINICS, owner=True),
    "clinic.capacity": Rule(CLINICS, owner=True),
    "clinic.details": Rule(CLINICS, owner=True),
    "clinic.make_account": Rule(CLINICS, owner=True),
    # admin area: the programme office only
    "admin.report_list": Rule(ADMINS),
    "admin.resolve": Rule(ADMINS),
    "admin.pulse_rates": Rule(ADMINS),
    "admin.referral_counts": Rule(ADMINS),
    "admin.import_facilities": Rule(ADMINS),
    "admin.import_apply": Rule(ADMINS),
    "admin.dashboard": Rule(ADMINS),
    "admin.audit_log": Rule(ADMINS),
    "admin.audit_export": Rule(ADMINS),
    "admin.campaign_list": Rule(ADMINS),
    "admin.campaign_new": Rule(ADMINS),
    "admin.campaign_detail": Rule(ADMINS),
    "admin.campaign_send": Rule(ADMINS),
    "admin.campaign_remind": Rule(ADMINS),
    "admin.campaign_close": Rule(ADMINS),
    "admin.campaign_letters": Rule(ADMINS),
    "admin.correction_queue": Rule(ADMINS),
    "admin.correction_decide": Rule(ADMINS),
    "admin.coverage": Rule(ADMINS),
    "admin.coverage_csv": Rule(ADMINS),
    "admin.exports": Rule(ADMINS),
    "admin.facility_list": Rule(ADMINS),
    "admin.contact_point_new": Rule(ADMINS),
    "admin.contact_point_edit": Rule(ADMINS),
    "admin.user_list": Rule(ADMINS),
    "admin.user_new": Rule(ADMINS),
    "admin.user_detail": Rule(ADMINS),
    "admin.user_disable": Rule(ADMINS),
    "admin.user_enable": Rule(ADMINS),
    "admin.user_reset_two_factor": Rule(ADMINS),
    "admin.user_link": Rule(ADMINS),
    "admin.user_unlink": Rule(ADMINS),
    "admin.user_organisation": Rule(ADMINS),
    "admin.user_resend": Rule(ADMINS),
    "admin.user_role": Rule(ADMINS),
}


@dataclass
class World:
    """Objects the URLs point at: facility A (own for clinic A) and B, and the rest."""

    facility: dict[str, int]
    invitation_token: str
    invitation_id: int
    share_token: str
    report_id: int
    campaign_id: int
    target_user_id: int
    setup_token: str
    pulse_token: str
    referral_id: int
    users: dict[str, object]
    signin_token: str = ""
    correction_id: int = 0
    letter_code: str = ""
    contact_id: int = 0


@pytest.fixture
def world(app, db, make_facility, make_user, make_invitation, answer, reindex) -> World:
    """Two answered public facilities, an invitation for A, a report, users of every role."""
    a = make_facility(name="Aこころクリニック")
    b = make_facility(name="Bメンタルクリニック")
    answer(a)
    answer(b)
    reindex()
    token = make_invitation(a)
    staff = make_user("staff")
    report = reports.create_report(
        db, a, "no_capacity", "", audit.Actor(f"user:{staff.email}", staff.id)
    )
    db.commit()
    invitation = db.exec(select(Invitation).where(Invitation.facility_id == a.id)).one()
    target = make_user("clinic", facilities=[a])  # the user admin actions act on
    users = {
        STAFF: staff,
        ADMIN: make_user("admin"),
        CLINIC_A: make_user("clinic", facilities=[a]),
        CLINIC_B: make_user("clinic", facilities=[b]),
    }
    shared = share.dumps(app.config["SECRET_KEY"], share.shared_list([a.id, b.id], 14))
    referral = referrals.create_referral(db, a.id, staff, audit.CLI_ACTOR)
    _link, signin_token = signin_links.create_link(db, a, 30)
    correction = corrections.propose(db, a, {"phone": "03-1111-2222"}, audit.CLI_ACTOR)[0]
    contact = make_facility(
        name="江東区こども家庭センター", category="municipal", kind="family_center", phone="03-1"
    )
    code = letter_codes.new_code()
    create_invitation(db, a, db.get(Campaign, invitation.campaign_id), audit.CLI_ACTOR, token=code)
    db.commit()
    return World(
        facility={"a": a.id, "b": b.id},
        invitation_token=token,
        invitation_id=invitation.id,
        share_token=shared,
        report_id=report.id,
        campaign_id=invitation.campaign_id,
        target_user_id=target.id,
        setup_token=password_links.make_token(app.config["SECRET_KEY"], target),
        pulse_token=_pulse_token(app, db, a),
        referral_id=referral.id,
        users=users,
        signin_token=signin_token,
        letter_code=code,
        correction_id=correction.id,
        contact_id=contact.id,
    )


def _pulse_token(app, db, facility) -> str:
    """Return a signed pulse link token ("room") for a facility."""
    pulse_round = pulse_mail.open_round(db)
    links = pulse_mail.answer_links(app.config["SECRET_KEY"], "", pulse_round, facility.id)
    return links["room"].rsplit("/", 1)[1]


def open_session(client, db, world: World, role: str) -> None:
    """Give the client the session of a role (as after a completed sign-in)."""
    if role == PUBLIC:
        return
    with client.session_transaction() as session:
        if role == INVITE_A:
            session["invitation_id"] = world.invitation_id
            session["invitation_until"] = (utcnow() + timedelta(hours=1)).isoformat()
            return
        user = world.users[role]
        db.refresh(user)  # signing out moves the session epoch on
        if user.role == "admin" and not user.totp_secret:
            user.totp_secret = generate_secret()
            db.add(user)
            db.commit()
        open_user_session(session, user)


# URL parameter name -> value, given the world and which facility is meant ("a" or "b").
PARAMS = {
    "facility_id": lambda w, which: w.facility[which],
    "report_id": lambda w, which: w.report_id,
    "correction_id": lambda w, which: w.correction_id,
    "campaign_id": lambda w, which: w.campaign_id,
    "user_id": lambda w, which: w.target_user_id,
    "referral_id": lambda w, which: w.referral_id,
    "contact_id": lambda w, which: w.contact_id,
    "token": None,  # depends on the endpoint: see _token
}
TOKENS = {
    "clinic.invitation": lambda w: w.invitation_token,
    "clinic.redeem": lambda w: w.invitation_token,
    "shortlist.shared": lambda w: w.share_token,
    "account.setup": lambda w: w.setup_token,
    "pulse.confirm": lambda w: w.pulse_token,
    "pulse.record": lambda w: w.pulse_token,
    "clinic_access.signin_link": lambda w: w.signin_token,
    "clinic_access.signin_redeem": lambda w: w.signin_token,
    "clinic_access.letter_link": lambda w: w.letter_code,
    "clinic_access.letter_redeem": lambda w: w.letter_code,
}


def endpoints(app) -> list[str]:
    """Return every endpoint but static files."""
    return sorted({r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"})


def requests_for(app, world: World, endpoint: str) -> list[tuple[str, str, str]]:
    """Return (method, url, which facility) for each method and own/other variant of a rule."""
    found = []
    for rule in app.url_map.iter_rules(endpoint):
        variants = ["a", "b"] if "facility_id" in rule.arguments else ["a"]
        for which in variants:
            values = {}
            for name in rule.arguments:
                if name == "token":
                    values[name] = TOKENS[endpoint](world)
                else:
                    values[name] = PARAMS[name](world, which)
            with app.test_request_context():
                url = url_for(endpoint, **values)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                found.append((method, url, which))
    return found


def expected_allowed(rule: Rule, role: str, which: str) -> bool:
    """Tell whether the policy lets this role reach this object."""
    if role not in rule.roles:
        return False
    if rule.owner and role in OWN_FACILITY:
        return OWN_FACILITY[role] == which
    return True


def test_every_endpoint_has_a_rule(app):
    missing = [e for e in endpoints(app) if e not in RULES]
    assert not missing, (
        f"endpoints without an authorisation rule: {missing}. Add each to RULES in "
        "tests/test_authz_matrix.py with the roles that may reach it (and owner=True when a "
        "clinic may only reach its own facility)."
    )
    stale = sorted(set(RULES) - set(endpoints(app)))
    assert not stale, f"RULES names endpoints that no longer exist: {stale}"


def test_every_url_parameter_is_known(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for name in rule.arguments:
            assert name in PARAMS, f"{rule.endpoint}: add a value for <{name}> to PARAMS"
            if name == "token":
                assert rule.endpoint in TOKENS, f"{rule.endpoint}: add its token to TOKENS"


def test_authorisation_matrix(app, db, world):
    app.config["WTF_CSRF_ENABLED"] = False  # authorisation, not CSRF, is under test here
    problems = []
    cases = [(e, *req) for e in endpoints(app) if e in RULES for req in requests_for(app, world, e)]
    cases.sort(key=lambda c: c[1] != "GET")  # reads first: posts may change the world
    for endpoint, method, url, which in cases:
        rule = RULES[endpoint]
        for role in ROLES:
            client = app.test_client()
            open_session(client, db, world, role)
            response = client.open(url, method=method)
            status, location = response.status_code, response.location or ""
            allowed = expected_allowed(rule, role, which)
            verdict = _check(allowed, rule, role, status, location)
            if verdict:
                problems.append(
                    f"{role:9} {method:4} {url} ({endpoint}): {status} {location} {verdict}"
                )
    assert not problems, "authorisation matrix:\n" + "\n".join(problems)


def _check(allowed: bool, rule: Rule, role: str, status: int, location: str) -> str:
    """Return what is wrong with a response, or '' when it matches the policy."""
    if status >= 500:
        return "server error"
    if allowed:
        return "expected to be allowed" if status in (401, 403, 404) else ""
    to_login = status in (302, 303) and bool(re.search(r"/login(\?|$)", location))
    if role == PUBLIC:
        return "" if to_login or status == 403 else "expected a redirect to /login or 403"
    if rule.denial == "login":
        return "" if to_login or status == 403 else "expected a redirect to /login or 403"
    return "" if status == 403 else "expected 403"
