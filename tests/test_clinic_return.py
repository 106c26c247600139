"""Clinics come back without the office: sign-in links by e-mail, dead ends that say what to do,
the contact address confirmed while answering."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from surveys import campaign_mail
from surveys.models import AuditEvent, Facility, SignInLink, User, utcnow
from surveys.office import OfficeContact
from tests.conftest import csrf_token
from tests.test_campaign_mail import smtp  # noqa: F401  (the real SMTP server fixture)

OFFICE = {
    "OFFICE_NAME": "妊産婦メンタルヘルス事務局",
    "OFFICE_PHONE": "03-5320-0000",
    "OFFICE_EMAIL": "navi-office@example.jp",
    "OFFICE_HOURS": "平日 9:00〜17:00",
}
SIGNIN_RE = re.compile(r"http://127\.0\.0\.1:5000(/clinics/signin/[A-Za-z0-9_\-]+)")
SENT = "登録されているメールアドレスであれば、ログイン用リンクを送信しました。"


@pytest.fixture
def app(make_app, smtp):  # noqa: F811
    """The app mailing through the loopback SMTP server, with the office's contact set."""
    return make_app(MAIL_BACKEND="smtp", MAIL_SMTP_PORT=smtp.port, MAIL_SMTP_TIMEOUT=10, **OFFICE)


def _ask(client, address: str):
    """Ask for a sign-in link on the 'for clinics' page."""
    token = csrf_token(client, "/clinics")
    return client.post("/clinics", data={"email": address, "csrf_token": token})


def _link(message) -> str:
    """Return the path of the sign-in link in a mail."""
    return SIGNIN_RE.search(message.get_content()).group(1)


def test_signin_link_goes_only_to_the_registered_address(client, db, make_facility, smtp):  # noqa: F811
    facility = make_facility(name="亀戸こころのクリニック", email="Desk@Kameido-Clinic.example.jp")
    known = _ask(client, " desk@kameido-clinic.example.jp ")
    unknown = _ask(client, "someone@else.example.jp")
    assert known.status_code == unknown.status_code == 302
    assert SENT in client.get("/clinics").get_data(as_text=True)
    assert smtp.to() == ["Desk@Kameido-Clinic.example.jp"]
    body = smtp.messages[0].get_content()
    assert "亀戸こころのクリニック" in body
    assert "03-5320-0000" in body and "navi-office@example.jp" in body
    assert db.exec(select(SignInLink)).one().facility_id == facility.id


def test_second_request_within_a_minute_is_refused_with_a_message(client, make_facility, smtp):  # noqa: F811
    make_facility(email="desk@example.jp")
    assert _ask(client, "desk@example.jp").status_code == 302
    again = _ask(client, "DESK@example.jp")
    assert again.status_code == 429
    assert "1分ほど待って" in again.get_data(as_text=True)
    assert len(smtp.messages) == 1
    # An unknown address is answered the same way: nothing tells which addresses exist.
    assert _ask(client, "nobody@example.jp").status_code == 302
    assert _ask(client, "nobody@example.jp").status_code == 429


def test_malformed_address_gets_a_message(client, smtp):  # noqa: F811
    page = _ask(client, "not an address")
    assert page.status_code == 422
    assert "メールアドレスの形式が正しくありません" in page.get_data(as_text=True)
    assert smtp.messages == []


def test_signin_link_signs_in_once(client, db, make_facility, smtp):  # noqa: F811
    facility = make_facility(name="押上さくら心療内科", email="desk@oshiage.example.jp")
    _ask(client, "desk@oshiage.example.jp")
    path = _link(smtp.messages[0])
    shown = client.get(path)
    assert shown.status_code == 200 and "押上さくら心療内科" in shown.get_data(as_text=True)
    assert client.get("/clinic/").status_code == 302  # a GET (a mail scanner) signs nobody in
    used = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert used.status_code == 302 and used.location.endswith("/clinic/")
    assert client.get(f"/clinic/facilities/{facility.id}/survey").status_code == 200
    db.expire_all()
    assert db.exec(select(SignInLink)).one().used_at is not None
    actions = [e.action for e in db.exec(select(AuditEvent))]
    assert "clinic.signin_link_sent" in actions and "clinic.signin_link_used" in actions

    other = client.application.test_client()
    again = other.get(path)
    assert again.status_code == 410
    text = again.get_data(as_text=True)
    assert "既に使用されています" in text
    assert "/clinics" in text and "03-5320-0000" in text and "平日 9:00〜17:00" in text


def test_expired_signin_link_says_how_to_get_back_in(client, db, make_facility, smtp):  # noqa: F811
    make_facility(email="desk@example.jp")
    _ask(client, "desk@example.jp")
    path = _link(smtp.messages[0])
    link = db.exec(select(SignInLink)).one()
    link.expires_at = utcnow() - timedelta(minutes=1)
    db.add(link)
    db.commit()
    page = client.get(path)
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "有効期限が切れています" in text and "navi-office@example.jp" in text


def test_used_invitation_page_says_how_to_get_back_in(client, make_facility, make_invitation):
    token = make_invitation(make_facility())
    client.post(
        f"/clinic/invite/{token}",
        data={"csrf_token": csrf_token(client, f"/clinic/invite/{token}")},
    )
    page = client.application.test_client().get(f"/clinic/invite/{token}")
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "医療機関の方へ" in text and "03-5320-0000" in text


def test_clinic_confirms_its_contact_address_while_answering(
    client, db, make_facility, make_invitation
):
    facility = make_facility(email="")
    token = make_invitation(facility)
    client.post(
        f"/clinic/invite/{token}",
        data={"csrf_token": csrf_token(client, f"/clinic/invite/{token}")},
    )
    url = f"/clinic/facilities/{facility.id}/survey"
    answers = {"pregnant": "no", "postpartum": "yes", "visibility": "public", "answered_by": "事務"}
    bad = client.post(
        url,
        data={
            **answers,
            "contact_email": "desk@",
            "base_version": 0,
            "csrf_token": csrf_token(client, url),
        },
    )
    assert bad.status_code == 422
    assert "メールアドレスの形式が正しくありません" in bad.get_data(as_text=True)
    saved = client.post(
        url,
        data={**answers, "contact_email": "Desk@Clinic.example.jp", "base_version": 0,
              "csrf_token": csrf_token(client, url)},
    )  # fmt: skip
    assert saved.status_code == 302
    db.expire_all()
    assert db.get(Facility, facility.id).email == "desk@clinic.example.jp"
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "facility.contact_email")).one()
    assert event.detail["after"] == "desk@clinic.example.jp"


def test_invitation_mail_says_how_to_come_back_and_whom_to_call(db, make_facility, make_campaign):
    facility = make_facility(name="錦糸町こころのクリニック")
    _subject, body = campaign_mail.render(
        "invitation",
        "ja",
        facility,
        make_campaign(),
        "http://127.0.0.1:5000/clinic/invite/abc",
        OfficeContact(**{k.removeprefix("OFFICE_").lower(): v for k, v in OFFICE.items()}),
    )
    assert "http://127.0.0.1:5000/clinics" in body
    assert "電話: 03-5320-0000" in body and "受付時間: 平日 9:00〜17:00" in body


SETUP_RE = re.compile(r"http://127\.0\.0\.1:5000(/account/setup/\S+)")
NEW_PASSWORD = "kameido-kokoro-2026"


def test_clinic_sets_a_password_and_two_step_sign_in(
    app,
    client,
    db,
    make_facility,
    make_invitation,
    smtp,  # noqa: F811
    login,
):
    facility = make_facility(name="亀戸こころのクリニック", email="desk@kameido.example.jp")
    token = make_invitation(facility)
    url = f"/clinic/invite/{token}"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    portal = client.get("/clinic/").get_data(as_text=True)
    assert "パスワード設定用のリンクを受け取る" in portal
    sent = client.post(
        f"/clinic/facilities/{facility.id}/account",
        data={"csrf_token": csrf_token(client, "/clinic/")},
    )
    assert sent.status_code == 302
    assert smtp.to() == ["desk@kameido.example.jp"]  # only the registered address
    assert "03-5320-0000" in smtp.messages[0].get_content()  # whom to call, in every mail
    path = SETUP_RE.search(smtp.messages[0].get_content()).group(1)

    owner = app.test_client()
    token = csrf_token(owner, path)
    data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
    assert owner.post(path, data=data).status_code == 302
    user = db.exec(select(User).where(User.email == "desk@kameido.example.jp")).one()
    assert user.role == "clinic"

    signed_in = app.test_client()
    login(user, NEW_PASSWORD, using=signed_in)
    assert "亀戸こころのクリニック" in signed_in.get("/clinic/").get_data(as_text=True)
    setup = signed_in.get("/account/two-factor")
    assert setup.status_code == 200 and 'class="qr"' in setup.get_data(as_text=True)


def test_account_needs_a_registered_address(client, make_facility, make_invitation, smtp):  # noqa: F811
    facility = make_facility(email="")
    url = f"/clinic/invite/{make_invitation(facility)}"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    response = client.post(
        f"/clinic/facilities/{facility.id}/account",
        data={"csrf_token": csrf_token(client, "/clinic/")},
    )
    assert "連絡先メールアドレスが登録されていません" in client.get(response.location).get_data(
        as_text=True
    )
    assert smtp.messages == []


def test_login_page_points_clinics_to_their_sign_in_link(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/clinics"' in page and "医療機関の方へ" in page
