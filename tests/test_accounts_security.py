"""Account security: password rules, two-step sign-in, session epochs, equal answers."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select
from werkzeug.security import generate_password_hash

from surveys import totp
from surveys.accounts import HASH_METHOD, password_matches
from surveys.models import AuditEvent, User
from surveys.passwords import WeakPasswordError, validate_new_password
from tests.conftest import CSRF_RE, SECRET_RE, csrf_token


def _stored(app, user_id: int) -> User:
    """Read a user as stored now (a fresh session, not the test's cached object)."""
    with Session(app.extensions["pmh_engine"]) as session:
        return session.get(User, user_id)


def _password_step(client, email: str, password: str = "correct horse"):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def _post_code(client, url: str, code: str):
    return client.post(url, data={"code": code, "csrf_token": csrf_token(client, url)})


def _wrong_code(secret: str) -> str:
    """Return a six-digit code valid for none of the steps around now."""
    key, now = totp.decode_secret(secret), totp.time_step()
    valid = {totp.hotp(key, step) for step in range(now - 2, now + 3)}
    return next(c for c in (f"{n:06d}" for n in range(1000)) if c not in valid)


def _signed_in(client) -> bool:
    """Whether the client gets the staff shortlist (public visitors are sent to sign in)."""
    return client.get("/shortlist/").status_code == 200


@pytest.mark.parametrize(
    "password",
    [
        "Password1234",
        "P@ssw0rd2026!",
        "QWERTYUIOP12",
        "123456789012",
        "iloveyou1234!",
        "sakura19851231",
    ],
)
def test_common_password_refused_with_clear_messages(password):
    with pytest.raises(WeakPasswordError) as refused:
        validate_new_password(password, "nurse@example.jp")
    assert "よく使われるパスワード" in refused.value.message("ja")
    assert "too common" in refused.value.message("en")


@pytest.mark.parametrize(
    ("password", "email", "fragment"),
    [
        ("taro.yamada2026!", "taro.yamada@example.jp", "e-mail address"),
        ("YamadaTaro-1234", "taro.yamada@example.jp", "e-mail address"),
        ("kokoronavi2026!!", "nurse@example.jp", "name of this site"),
        ("妊産婦こころの医療機関ナビ1", "nurse@example.jp", "name of this site"),
    ],
)
def test_password_built_from_address_or_site_name_refused(password, email, fragment):
    with pytest.raises(WeakPasswordError) as refused:
        validate_new_password(password, email)
    assert fragment in refused.value.message("en")


def test_uncommon_passphrase_accepted():
    validate_new_password("kameido tram autumn 82", "taro.yamada@example.jp")
    validate_new_password("correct horse taro", "taro@example.jp")  # contains, not made of


def test_outdated_password_hash_replaced_at_sign_in(app, client, db, make_user, login):
    user = make_user("staff")
    user.password_hash = generate_password_hash("correct horse", method="pbkdf2:sha256:1000")
    db.add(user)
    db.commit()
    assert login(user).status_code == 302
    stored = _stored(app, user.id)
    assert stored.password_hash.startswith(HASH_METHOD + "$")
    assert password_matches(stored.password_hash, "correct horse")


def test_admin_cannot_reach_admin_pages_before_setting_up_two_step(app, client, db, make_user):
    admin = make_user("admin", totp=False)
    response = _password_step(client, admin.email)
    assert response.status_code == 302 and response.location.endswith("/account/two-factor")
    assert client.get("/admin/reports").location.endswith("/login")
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    assert "otpauth://totp/" in page and f"secret={secret}" in page
    assert not re.search(r'(src|href)="https?://', page)  # no QR service, no external call
    wrong = _post_code(client, "/account/two-factor", _wrong_code(secret))
    assert "確認コードが正しくないか" in wrong.get_data(as_text=True)
    assert client.get("/admin/reports").status_code == 302
    done = _post_code(client, "/account/two-factor", totp.totp(secret))
    assert done.status_code == 302
    assert client.get("/admin/reports").status_code == 200
    stored = _stored(app, admin.id)
    assert stored.totp_secret == secret and stored.last_login_at is not None
    actions = [e.action for e in db.exec(select(AuditEvent))]
    assert "auth.totp_enrolled" in actions and "auth.login" in actions


def test_setup_page_needs_a_password_first(client, make_user):
    make_user("admin", totp=False)
    response = client.get("/account/two-factor")
    assert response.status_code == 302 and response.location.endswith("/login")


def test_wrong_code_refused_and_used_code_refused(app, client, make_user):
    admin = make_user("admin")
    assert _password_step(client, admin.email).location.endswith("/login/code")
    assert client.get("/admin/reports").status_code == 302  # the password alone is not enough
    wrong = _post_code(client, "/login/code", _wrong_code(admin.totp_secret))
    assert wrong.status_code == 200
    assert "確認コードが正しくないか、すでに使われています。" in wrong.get_data(as_text=True)
    code = totp.totp(admin.totp_secret)
    assert _post_code(client, "/login/code", code).status_code == 302
    assert client.get("/admin/reports").status_code == 200
    other = app.test_client()  # someone who saw the code over the admin's shoulder
    assert _password_step(other, admin.email).location.endswith("/login/code")
    replay = _post_code(other, "/login/code", code)
    assert replay.status_code == 200 and "すでに使われています" in replay.get_data(as_text=True)
    assert other.get("/admin/reports").status_code == 302


def test_code_step_limited_even_for_the_right_code(make_app, make_user):
    app = make_app(RATELIMIT_TOTP=(2, 3600))
    app.extensions["pmh_ratelimiter"].clock = lambda: 1_000_000.0
    client = app.test_client()
    admin = make_user("admin")
    _password_step(client, admin.email)
    for _ in range(2):
        assert _post_code(client, "/login/code", _wrong_code(admin.totp_secret)).status_code == 200
    blocked = _post_code(client, "/login/code", totp.totp(admin.totp_secret))
    assert blocked.status_code == 429 and blocked.headers["Retry-After"]
    assert client.get("/admin/reports").status_code == 302


def test_code_step_needs_a_password_first(client):
    response = client.get("/login/code")
    assert response.status_code == 302 and response.location.endswith("/login")


def test_staff_signs_in_without_code_until_setting_one_up(client, make_user, login, code_clock):
    staff = make_user("staff")
    assert _password_step(client, staff.email).status_code == 302
    assert _signed_in(client)
    account = client.get("/account/security").get_data(as_text=True)
    assert "未設定" in account and "/account/two-factor" in account
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "現在のパスワード" in page
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    code = code_clock.code(secret)
    token = csrf_token(client, "/account/two-factor")
    added = client.post(
        "/account/two-factor",
        data={"code": code, "password": "correct horse", "csrf_token": token},
    )
    assert added.status_code == 302
    assert "設定済み" in client.get("/account/security").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert _password_step(client, staff.email).location.endswith("/login/code")
    assert not _signed_in(client)
    assert login(staff).status_code == 302 and _signed_in(client)  # fixture reads the new secret


def test_adding_an_authenticator_needs_the_password(app, client, make_user, login, code_clock):
    staff = make_user("staff")
    login(staff)
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    # someone at the unattended, signed-in browser, with their own phone
    without = _post_code(client, "/account/two-factor", code_clock.code(secret))
    assert without.status_code == 200
    assert _stored(app, staff.id).totp_secret == ""
    token = csrf_token(client, "/account/two-factor")
    wrong = client.post(
        "/account/two-factor",
        data={"code": code_clock.code(secret), "password": "a guess", "csrf_token": token},
    )
    assert "パスワードが正しくありません。" in wrong.get_data(as_text=True)
    assert _stored(app, staff.id).totp_secret == ""


def _copy_session_cookie(app, client):
    """A second browser holding a copy of the first one's session cookie."""
    copy = app.test_client()
    copy.set_cookie("session", client.get_cookie("session").value)
    return copy


def test_logout_makes_a_copied_cookie_useless(app, client, make_user, login):
    login(make_user("staff"))
    copy = _copy_session_cookie(app, client)
    assert _signed_in(copy)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert not _signed_in(client)
    assert not _signed_in(copy)
    assert "ログイン" in copy.get("/").get_data(as_text=True)


def test_disabling_a_user_ends_a_live_session(app, client, db, make_user, login):
    user = make_user("staff")
    login(user)
    assert _signed_in(client)
    user.is_active = False
    db.add(user)
    db.commit()
    assert not _signed_in(client)


def test_raised_session_epoch_ends_sessions(app, client, db, make_user, login):
    user = make_user("admin")
    login(user)
    assert client.get("/admin/reports").status_code == 200
    user.session_epoch += 1  # what disabling or a password change does
    db.add(user)
    db.commit()
    assert client.get("/admin/reports").status_code == 302


def test_sign_in_sets_last_login_and_a_new_session(app, client, make_user, login):
    user = make_user("staff")
    client.get("/?lang=en")
    before = client.get_cookie("session").value
    login(user)
    assert client.get_cookie("session").value != before
    assert _stored(app, user.id).last_login_at is not None
    assert _signed_in(client)
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)  # the language stays


def _failure_page(client, email: str) -> tuple[int, str]:
    """A failed sign-in with the CSRF token and the typed address blanked out."""
    response = _password_step(client, email, "wrong password 1")
    body = response.get_data(as_text=True).replace(email, "ADDRESS")
    return response.status_code, CSRF_RE.sub('name="csrf_token" value="TOKEN"', body)


def test_failed_sign_in_identical_for_known_unknown_and_two_step_addresses(app, make_user):
    staff, admin = make_user("staff"), make_user("admin")
    pages = {
        name: _failure_page(app.test_client(), email)
        for name, email in (
            ("unknown", "nobody-at-all@example.jp"),
            ("staff", staff.email),
            ("admin with two-step", admin.email),
        )
    }
    assert pages["unknown"][0] == 200
    assert pages["staff"] == pages["unknown"]
    assert pages["admin with two-step"] == pages["unknown"]  # no hint that a code would follow


def test_code_typed_in_full_width_digits_is_accepted(client, make_user):
    admin = make_user("admin")
    assert _password_step(client, admin.email).location.endswith("/login/code")
    code = totp.totp(admin.totp_secret)
    wide = code.translate(str.maketrans("0123456789", "０１２３４５６７８９"))  # IME left on
    response = _post_code(client, "/login/code", f"{wide[:3]} {wide[3:]}")
    assert response.status_code == 302
    assert client.get("/admin/reports").status_code == 200


def test_replacing_an_authenticator_needs_the_password_and_ends_other_sessions(
    app, client, make_user, login, code_clock
):
    staff = make_user("staff", totp=True)
    login(staff)
    elsewhere = app.test_client()
    login(staff, using=elsewhere)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "現在のパスワード" in page
    new_secret = SECRET_RE.search(page).group(1).replace(" ", "")
    # the two sign-ins used up the user's steps so far (codes never go back in time)
    code_clock.used[new_secret] = code_clock.used[staff.totp_secret]
    code = code_clock.code(new_secret)
    token = csrf_token(client, "/account/two-factor")
    refused = client.post(
        "/account/two-factor",
        data={"code": code, "password": "not my password", "csrf_token": token},
    )
    assert refused.status_code == 200
    assert "パスワードが正しくありません。" in refused.get_data(as_text=True)
    assert _stored(app, staff.id).totp_secret == staff.totp_secret
    done = client.post(
        "/account/two-factor",
        data={"code": code, "password": "correct horse", "csrf_token": token},
    )
    assert done.status_code == 302
    assert _stored(app, staff.id).totp_secret == new_secret
    assert _signed_in(client)  # this session carries on
    assert not _signed_in(elsewhere)  # any other (maybe stolen) session ends


def test_invited_user_without_a_password_costs_the_same_work_as_an_unknown_one(
    app, make_user, monkeypatch
):
    import search_app.auth as auth

    invited = make_user("staff")
    with Session(app.extensions["pmh_engine"]) as session:
        session.get(User, invited.id).password_hash = ""
        session.commit()
    checked: list[str] = []

    def spy(stored: str, password: str) -> bool:
        checked.append(stored)
        return password_matches(stored, password)

    monkeypatch.setattr(auth, "password_matches", spy)
    for email in (invited.email, "nobody-at-all@example.jp"):
        assert _password_step(app.test_client(), email, "").status_code == 200
        assert _password_step(app.test_client(), email, "anything").status_code == 200
    assert len(checked) == 2 and all(h.startswith("scrypt:") for h in checked)
