"""Signing in and out, and who may open the clinic portal."""

from __future__ import annotations

from sqlmodel import select

from surveys.models import AuditEvent
from tests.conftest import csrf_token


def test_login_with_correct_password(client, make_user, login, make_facility):
    user = make_user("clinic", facilities=[make_facility()])
    response = login(user)
    assert response.status_code == 302
    assert response.location.endswith("/clinic/")


def test_each_role_lands_on_its_own_page_after_signing_in(app, make_user, login):
    for role, page in (("staff", "/"), ("admin", "/admin/")):
        response = login(make_user(role), using=app.test_client())
        assert response.status_code == 302
        assert response.location.removeprefix("http://localhost") == page, role


def test_login_wrong_password_and_unknown_email_get_same_message(client, make_user, login, db):
    user = make_user("staff")
    wrong = login(user, password="nope").get_data(as_text=True)
    user.email = "nobody@example.jp"
    unknown = login(user).get_data(as_text=True)
    message = "メールアドレスまたはパスワードが正しくありません。"
    assert message in wrong and message in unknown
    actions = [e.action for e in db.exec(select(AuditEvent))]
    assert actions.count("auth.login_failed") == 2


def test_disabled_user_cannot_sign_in_and_loses_session(client, db, make_user, login):
    user = make_user("staff")
    login(user)
    user.is_active = False
    db.add(user)
    db.commit()
    assert "ログイン" in client.get("/").get_data(as_text=True)
    assert login(user).status_code == 200  # form shown again with the error


def test_public_visitor_sent_to_login_from_clinic_portal(client):
    response = client.get("/clinic/")
    assert response.status_code == 302
    assert response.location.endswith("/login")


def test_staff_user_gets_403_in_clinic_portal(client, make_user, login, make_facility):
    facility = make_facility()
    login(make_user("staff"))
    assert client.get("/clinic/").status_code == 403
    assert client.get(f"/clinic/facilities/{facility.id}/survey").status_code == 403


def test_logout_needs_post_and_ends_the_session(client, make_user, login, make_facility):
    login(make_user("clinic", facilities=[make_facility()]))
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={"csrf_token": csrf_token(client, "/clinic/")})
    assert client.get("/clinic/").status_code == 302


def test_error_pages_have_no_technical_detail(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    body = page.get_data(as_text=True)
    assert "ページが見つかりません。" in body and "Traceback" not in body
    assert "Page not found." in client.get("/no/such/page?lang=en").get_data(as_text=True)


def test_security_headers_present(client):
    headers = client.get("/").headers
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_admin_login_asks_for_a_code_after_the_password(client, make_user, login):
    admin = make_user("admin")
    token = csrf_token(client, "/login")
    step = client.post(
        "/login", data={"email": admin.email, "password": "correct horse", "csrf_token": token}
    )
    assert step.status_code == 302 and step.location.endswith("/login/code")
    assert "確認コード" in client.get("/login/code").get_data(as_text=True)
    assert login(admin).status_code == 302  # the fixture completes the code step
    assert client.get("/admin/reports").status_code == 200


def test_account_page_for_signed_in_users_only(client, make_user, login):
    assert client.get("/account/security").location.endswith("/login")
    user = make_user("staff")
    login(user)
    page = client.get("/account/security").get_data(as_text=True)
    assert user.email in page and "2段階認証" in page


def test_invitation_session_has_no_account_page(client, make_facility, make_invitation):
    token = make_invitation(make_facility())
    client.post(
        f"/clinic/invite/{token}",
        data={"csrf_token": csrf_token(client, f"/clinic/invite/{token}")},
    )
    assert client.get("/account/security").status_code == 403


def test_logout_is_audited(client, db, make_user, login):
    login(make_user("staff"))
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    actions = [e.action for e in db.exec(select(AuditEvent))]
    assert actions.count("auth.login") == 1 and actions.count("auth.logout") == 1
