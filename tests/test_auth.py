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
