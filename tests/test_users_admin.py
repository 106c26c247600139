"""User management: invitations by mail, set-password links, disabling, roles, last admin."""

from __future__ import annotations

import re
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from surveys import audit, password_links, users
from surveys.accounts import password_matches
from surveys.models import AuditEvent, User, UserFacility
from tests.conftest import csrf_token

LINK_RE = re.compile(r"https?://\S+/account/setup/(\S+)")
NEW_PASSWORD = "river stone lantern 42"


@pytest.fixture
def mail_folder(tmp_path) -> Path:
    """Where the file mail backend writes its .eml files."""
    return tmp_path / "mail"


@pytest.fixture
def app(make_app, mail_folder):
    """The app with mail written to a known folder."""
    return make_app(MAIL_BACKEND="file", MAIL_FOLDER=str(mail_folder))


def _post(client, url: str, form_url: str, **data):
    """Post a form with the CSRF token of the page it lives on."""
    return client.post(url, data={"csrf_token": csrf_token(client, form_url), **data})


def _mails(folder: Path) -> list:
    """Return the parsed messages the file backend wrote."""
    return [
        message_from_bytes(p.read_bytes(), policy=default_policy)
        for p in sorted(folder.glob("*.eml"))
    ]


def _invite(client, email: str, role: str = "staff", **extra):
    """Invite a user through the admin form."""
    data = {"email": email, "role": role, "language": "ja", **extra}
    return _post(client, "/admin/users/new", "/admin/users/new", **data)


def _user(db, email: str) -> User:
    """Reload a user from the database."""
    db.expire_all()
    return db.exec(select(User).where(User.email == email)).one()


def _sign_in(app, email: str, password: str):
    """Sign in on a fresh client through the real form; return the client and response."""
    other = app.test_client()
    token = csrf_token(other, "/login")
    response = other.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    return other, response


def test_users_invite_mail_link_sets_password_and_sign_in_works(
    app, client, db, admin, mail_folder
):
    response = _invite(client, "Hokenshi@Example.jp", organisation="江東区保健所")
    assert response.status_code == 302
    user = _user(db, "hokenshi@example.jp")
    assert user.is_active and user.role == "staff" and user.password_hash == ""
    assert user.organisation == "江東区保健所"
    # The invited person cannot sign in before choosing a password.
    assert "user_id" not in _session_of(_sign_in(app, user.email, "anything at all")[0])

    [mail] = _mails(mail_folder)
    assert mail["To"] == "hokenshi@example.jp"
    assert "アカウント設定" in mail["Subject"]
    token = LINK_RE.search(mail.get_content()).group(1)

    invited = app.test_client()
    page = invited.get(f"/account/setup/{token}")
    assert page.status_code == 200 and "hokenshi@example.jp" in page.get_data(as_text=True)
    assert _user(db, user.email).password_hash == ""  # GET changes nothing

    form = csrf_token(invited, f"/account/setup/{token}")
    mismatch = invited.post(
        f"/account/setup/{token}",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x", "csrf_token": form},
    )
    assert "一致しません" in mismatch.get_data(as_text=True)
    assert _user(db, user.email).password_hash == ""

    done = invited.post(
        f"/account/setup/{token}",
        data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": form},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    stored = _user(db, user.email)
    assert stored.password_hash and stored.session_epoch == 1
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "user.password_set")).one()

    signed_in, response = _sign_in(app, user.email, NEW_PASSWORD)
    assert response.status_code == 302
    assert signed_in.get("/shortlist/").status_code == 200

    reused = app.test_client().get(f"/account/setup/{token}")
    assert reused.status_code == 410
    assert "既に使用" in reused.get_data(as_text=True)


def _session_of(client) -> dict:
    """Return a copy of a test client's session."""
    with client.session_transaction() as session:
        return dict(session)


def test_users_weak_password_is_refused_on_setup_page(app, db, make_user):
    user = _invited(db, "weak@example.jp")
    token = password_links.make_token("test-secret", user)
    invited = app.test_client()
    form = csrf_token(invited, f"/account/setup/{token}")
    page = invited.post(
        f"/account/setup/{token}",
        data={"password": "short", "confirm": "short", "csrf_token": form},
    )
    assert page.status_code == 200 and "12文字以上" in page.get_data(as_text=True)
    assert _user(db, user.email).password_hash == ""


def test_users_municipality_code_in_five_or_six_digits(client, db, admin):
    assert _invite(client, "koto@example.jp", municipality_code="131083").status_code == 302
    assert _user(db, "koto@example.jp").municipality_code == "13108"  # 江東区, check digit gone
    assert _invite(client, "sumida@example.jp", municipality_code="13107").status_code == 302
    assert _user(db, "sumida@example.jp").municipality_code == "13107"
    for wrong in ("131084", "99999"):  # a wrong check digit; no such municipality
        response = _invite(client, f"x{wrong}@example.jp", municipality_code=wrong)
        assert response.status_code == 200
        assert "この区市町村コードは見つかりません。" in response.get_data(as_text=True)
    assert db.exec(select(User).where(User.email == "x99999@example.jp")).first() is None


def _invited(db, email: str, role: str = "staff") -> User:
    """Create an invited user directly through the operation."""
    user = users.invite_user(db, audit.CLI_ACTOR, email, role)
    db.commit()
    return user


def test_users_expired_link_gets_a_clear_page(app, db):
    user = _invited(db, "late@example.jp")
    old = password_links.make_token("test-secret", user, now=time.time() - 73 * 3600)
    page = app.test_client().get(f"/account/setup/{old}")
    assert page.status_code == 410
    assert "有効期限" in page.get_data(as_text=True)
    fresh = password_links.make_token("test-secret", user)
    with pytest.raises(password_links.SetupLinkExpired):
        password_links.user_for_token(db, "test-secret", fresh, now=time.time() + 73 * 3600)
    english = app.test_client().get(f"/account/setup/{old}?lang=en")
    assert english.status_code == 410 and "expired" in english.get_data(as_text=True)


def test_users_tampered_link_is_refused_without_error(app, db):
    user = _invited(db, "tamper@example.jp")
    token = password_links.make_token("test-secret", user)
    for bad in (token[:-2] + "xx", "nonsense", password_links.make_token("other-key", user)):
        page = app.test_client().get(f"/account/setup/{bad}")
        assert page.status_code == 400
        assert "正しくありません" in page.get_data(as_text=True)


def test_users_link_dies_when_user_is_disabled(app, db):
    user = _invited(db, "gone@example.jp")
    token = password_links.make_token("test-secret", user)
    users.disable_user(db, audit.CLI_ACTOR, user)
    db.commit()
    assert app.test_client().get(f"/account/setup/{token}").status_code == 410


def test_users_disabling_ends_a_live_session(app, client, db, admin, make_user):
    staff = make_user("staff")
    theirs, _response = _sign_in(app, staff.email, "correct horse")
    assert theirs.get("/shortlist/").status_code == 200

    done = _post(client, f"/admin/users/{staff.id}/disable", f"/admin/users/{staff.id}")
    assert done.status_code == 302
    stored = _user(db, staff.email)
    assert not stored.is_active and stored.session_epoch == 1

    after = theirs.get("/shortlist/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]
    # Posting disable again changes nothing more.
    _post(client, f"/admin/users/{staff.id}/disable", f"/admin/users/{staff.id}")
    assert _user(db, staff.email).session_epoch == 1
    events = db.exec(select(AuditEvent).where(AuditEvent.action == "user.disable")).all()
    assert len(events) == 1


def test_users_last_admin_is_protected(app, client, db, admin, make_user):
    page = f"/admin/users/{admin.id}"
    refused = _post(client, f"{page}/role", page, role="staff")
    assert refused.status_code == 302
    assert "最後の有効な管理者" in client.get(page).get_data(as_text=True)
    assert _user(db, admin.email).role == "admin"

    _post(client, f"{page}/disable", page)
    assert "自分自身" in client.get(page).get_data(as_text=True)
    assert _user(db, admin.email).is_active

    with pytest.raises(users.LastAdminError):
        users.disable_user(db, audit.CLI_ACTOR, _user(db, admin.email))
    db.rollback()

    other = make_user("admin")
    _post(client, f"/admin/users/{other.id}/role", f"/admin/users/{other.id}", role="staff")
    assert _user(db, other.email).role == "staff"


def test_users_role_change_appears_in_audit_log_with_before_and_after(
    app, client, db, admin, make_user
):
    staff = make_user("staff", email="role@example.jp")
    page = f"/admin/users/{staff.id}"
    _post(client, f"{page}/role", page, role="clinic")
    assert _user(db, staff.email).role == "clinic"
    log = client.get("/admin/audit?action=user.role_change").get_data(as_text=True)
    assert "権限変更" in log
    assert "role: staff → clinic" in log
    assert f"user {staff.id}" in log


def test_users_list_shows_role_state_and_two_factor(app, client, db, admin, make_user):
    clinic = make_user("clinic", email="clinic-list@example.jp")
    clinic.totp_secret = "JBSWY3DPEHPK3PXP"
    db.add(clinic)
    db.commit()
    make_user("staff", email="off@example.jp", active=False)
    text = client.get("/admin/users").get_data(as_text=True)
    assert "clinic-list@example.jp" in text and "off@example.jp" in text
    assert "設定済み" in text and "無効" in text
    only_clinic = client.get("/admin/users?role=clinic").get_data(as_text=True)
    assert "clinic-list@example.jp" in only_clinic and "off@example.jp" not in only_clinic


def test_users_invite_twice_keeps_one_user(app, client, db, admin, mail_folder):
    _invite(client, "twice@example.jp")
    second = _invite(client, "twice@example.jp")
    assert second.status_code == 200
    assert "既に登録" in second.get_data(as_text=True)
    assert len(db.exec(select(User).where(User.email == "twice@example.jp")).all()) == 1


def test_users_clinic_facilities_link_and_unlink(app, client, db, admin, make_facility):
    near = make_facility(name="亀戸こころクリニック")
    far = make_facility(name="八王子ひかり病院")
    response = _invite(client, "clinic@example.jp", role="clinic", facility_ids=f"{near.id}")
    assert response.status_code == 302
    user = _user(db, "clinic@example.jp")
    page = f"/admin/users/{user.id}"
    missing = _post(client, f"{page}/facilities", page, facility_id="99999")
    assert missing.status_code == 302
    assert "99999" in client.get(page).get_data(as_text=True)

    found = client.get(f"{page}?q=八王子").get_data(as_text=True)
    assert "八王子ひかり病院" in found
    _post(client, f"{page}/facilities", page, facility_id=str(far.id))
    _post(client, f"{page}/facilities/{near.id}/unlink", page)
    db.expire_all()
    links = db.exec(select(UserFacility).where(UserFacility.user_id == user.id)).all()
    assert [link.facility_id for link in links] == [far.id]


def test_users_mail_failure_still_creates_user_and_shows_link(make_app, make_user, db, login):
    app = make_app("smtp", MAIL_BACKEND="smtp", MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=1)
    client = app.test_client()
    login(make_user("admin"), using=client)
    response = _invite(client, "nomail@example.jp")
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "メールサーバーに送信できませんでした" in text
    assert LINK_RE.search(text)
    assert _user(db, "nomail@example.jp").is_active


def test_users_cli_invite_prints_link_and_disable(app, db, mail_folder):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["user", "invite", "cli@example.jp", "--role", "staff", "--organisation", "墨田区"]
    )
    assert result.exit_code == 0, result.output
    assert LINK_RE.search(result.output)
    assert len(_mails(mail_folder)) == 1
    assert _user(db, "cli@example.jp").organisation == "墨田区"
    result = runner.invoke(args=["user", "disable", "cli@example.jp"])
    assert result.exit_code == 0, result.output
    assert not _user(db, "cli@example.jp").is_active
    unknown = runner.invoke(args=["user", "disable", "nobody@example.jp"])
    assert unknown.exit_code != 0


def test_users_resend_link_mails_a_new_one_in_english(app, client, db, admin, mail_folder):
    user = _invited(db, "again@example.jp")
    page = f"/admin/users/{user.id}"
    response = _post(client, f"{page}/setup-link", page, language="en")
    assert response.status_code == 302
    [mail] = _mails(mail_folder)
    assert mail["Subject"].startswith("[Perinatal Mental Health Clinic Finder]")
    token = LINK_RE.search(mail.get_content()).group(1)
    assert app.test_client().get(f"/account/setup/{token}").status_code == 200


def test_two_admins_demoting_each_other_at_once_leave_one_admin(app, db, make_user):
    first, second = make_user("admin"), make_user("admin")
    engine = app.extensions["pmh_engine"]
    outcome: list[str] = []

    def demote_second() -> None:
        with Session(engine) as other:
            try:
                users.change_role(other, audit.CLI_ACTOR, other.get(User, second.id), "staff")
                other.commit()
                outcome.append("demoted")
            except users.LastAdminError:
                other.rollback()
                outcome.append("refused")

    with Session(engine) as session:
        users.change_role(session, audit.CLI_ACTOR, session.get(User, first.id), "staff")
        racer = threading.Thread(target=demote_second)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive()  # it waits for the first change to commit or roll back
        session.commit()
    racer.join(timeout=30)
    assert outcome == ["refused"]
    db.expire_all()
    admins = db.exec(select(User).where(User.role == "admin", col(User.is_active).is_(True)))
    assert [u.id for u in admins] == [second.id]


def test_admin_removes_a_lost_authenticator_and_the_old_session_ends(
    app, client, db, admin, make_user, login
):
    nurse = make_user("staff", totp=True)
    staff = app.test_client()
    login(nurse, using=staff)
    assert staff.get("/shortlist/").status_code == 200

    page = f"/admin/users/{nurse.id}"
    assert "解除する" in client.get(page).get_data(as_text=True)
    _post(client, f"{page}/two-factor/reset", page)
    assert "2段階認証を解除しました" in client.get(page).get_data(as_text=True)
    assert _user(db, nurse.email).totp_secret == ""
    assert staff.get("/shortlist/").status_code == 302  # the phone's session has ended
    actions = [e.action for e in db.exec(select(AuditEvent))]
    assert "user.two_factor_reset" in actions


def test_cli_removes_the_last_admins_authenticator_and_she_sets_up_a_new_one(app, db, make_user):
    chief = make_user("admin", totp=True)
    result = app.test_cli_runner().invoke(args=["user", "reset-two-factor", chief.email])
    assert result.exit_code == 0, result.output
    db.expire_all()
    assert _user(db, chief.email).totp_secret == ""
    step = app.test_client()
    form = {"email": chief.email, "password": "correct horse"}
    response = step.post("/login", data={**form, "csrf_token": csrf_token(step, "/login")})
    assert response.location.endswith("/account/two-factor")  # an admin must enrol again


def test_one_set_password_link_posted_twice_at_once_sets_one_password(app, db):
    user = _invited(db, "twice@example.jp")
    token = password_links.make_token(app.config["SECRET_KEY"], user)
    engine = app.extensions["pmh_engine"]
    outcome: list[str] = []

    def second_post() -> None:
        with Session(engine) as other:
            try:
                password_links.set_password(
                    other, app.config["SECRET_KEY"], token, "other " + NEW_PASSWORD
                )
                other.commit()
                outcome.append("set")
            except password_links.SetupLinkUsed:
                other.rollback()
                outcome.append("used")

    with Session(engine) as session:
        password_links.set_password(session, app.config["SECRET_KEY"], token, NEW_PASSWORD)
        racer = threading.Thread(target=second_post)
        racer.start()
        racer.join(timeout=1.0)
        assert racer.is_alive()  # waits for the first post to finish
        session.commit()
    racer.join(timeout=30)
    assert outcome == ["used"]
    assert password_matches(_user(db, "twice@example.jp").password_hash, NEW_PASSWORD)
