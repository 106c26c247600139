"""Hostile form posts: login, the clinic survey (every questionnaire item), shortlist notes and
the access report. Never a 500; invalid posts change nothing that is stored."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from search_app.facilities.shortlist import SESSION_KEY
from surveys.forms import form_data_from_answers
from surveys.models import AccessReport
from surveys.operations import current_response
from tests.conftest import csrf_token, open_user_session
from tests.test_fuzz_api import MARK, NUMBERS, SYNTAX

BOUNDED = settings(max_examples=50, deadline=None, derandomize=True)
THOROUGH = settings(max_examples=100, deadline=None, derandomize=True)  # one item per example
NO_SURROGATES = st.characters(exclude_categories=["Cs"])


def hostile_text():
    """Form values that have broken handlers elsewhere (no lone surrogates: see raw_form)."""
    return st.one_of(
        st.sampled_from(SYNTAX + NUMBERS + [MARK, "javascript:alert(1)", "//evil.example/"]),
        st.text(alphabet=NO_SURROGATES, max_size=30),
        st.integers().map(str),
        st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),
        st.just("a" * 5000),
        st.just("あ" * 201),
        st.just("\x00"),
        st.builds(lambda s: f"{s}\x00{MARK}", st.text(alphabet=NO_SURROGATES, max_size=5)),
    )


def raw_form(fields: dict[str, str | list[str]], hostile: tuple[str, bytes] | None = None):
    """Return an urlencoded body; `hostile` appends a field of raw (maybe invalid UTF-8) bytes."""
    parts = []
    for name, value in fields.items():
        for one in value if isinstance(value, list) else [value]:
            parts.append(f"{quote(name)}={quote(str(one))}")
    if hostile:
        name, value = hostile
        parts.append(f"{quote(name)}=" + "".join(f"%{b:02X}" for b in value))
    return "&".join(parts).encode("ascii")


def invalid_utf8():
    """Bytes no browser would send as UTF-8."""
    lone = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF).map(
        lambda c: c.encode("utf-8", "surrogatepass")
    )
    return st.one_of(lone, st.binary(min_size=1, max_size=10), st.just(b"\xc3\x28"))


def sign_in(client, user) -> None:
    """Open the session of a signed-in user (the sign-in itself is tested elsewhere)."""
    with client.session_transaction() as session:
        open_user_session(session, user)


def post(client, url: str, body: bytes):
    """Post an urlencoded body as a browser would."""
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


@pytest.fixture
def quiet_app(make_app):
    """The app without rate limits (the fuzzer signs in far more often than people do)."""
    return make_app("fuzz", RATELIMIT_ENABLED=False)


def test_login_form_survives_hostile_input(quiet_app):
    client = quiet_app.test_client()
    token = csrf_token(client, "/login")

    @BOUNDED
    @given(hostile_text(), hostile_text(), st.none() | invalid_utf8())
    def run(email, password, junk):
        fields = {"email": email, "password": password, "csrf_token": token}
        response = post(client, "/login", raw_form(fields, ("email", junk) if junk else None))
        assert response.status_code in (200, 400), response.status_code
        assert "<x-fuzz" not in response.get_data(as_text=True)
        with client.session_transaction() as session:
            assert "user_id" not in session

    run()


def stored(app, facility_id: int):
    """Return (version, answers) of a facility as stored now."""
    with Session(app.extensions["pmh_engine"]) as session:
        latest = current_response(session, facility_id)
        return (latest.version_no, dict(latest.answers)) if latest else (0, {})


def survey_post(questionnaire, version: int, answers: dict, token: str) -> dict:
    """Return the form fields a browser would post for these answers."""
    data = form_data_from_answers(questionnaire, answers)
    fields = {"csrf_token": token, "base_version": str(version)}
    for key, value in data.items():
        if value is None or value == "":
            continue
        fields[key] = [str(v) for v in value] if isinstance(value, list) else str(value)
    return fields


def test_survey_form_survives_hostile_input_and_keeps_answers(
    app, make_facility, make_user, answer, questionnaire
):
    facility = make_facility()
    answer(facility, wait_days=14, languages=["en"])
    client = app.test_client()
    sign_in(client, make_user("clinic", facilities=[facility]))
    url = f"/clinic/facilities/{facility.id}/survey"
    token = csrf_token(client, url)
    keys = [item.key for item in questionnaire.items] + ["base_version"]

    @THOROUGH
    @given(st.sampled_from(keys), hostile_text(), st.none() | invalid_utf8(), st.booleans())
    def run(key, value, junk, as_list):
        version, before = stored(app, facility.id)
        fields = survey_post(questionnaire, version, before, token)
        fields[key] = [value, value] if as_list else value
        response = post(client, url, raw_form(fields, (key, junk) if junk else None))
        assert response.status_code in (302, 400, 409, 422), (key, value, response.status_code)
        assert "<x-fuzz" not in response.get_data(as_text=True)
        if response.status_code != 302:
            assert stored(app, facility.id) == (version, before), (key, value)
        else:  # accepted: whatever was stored shows escaped on the facility page
            page = client.get(f"/facilities/{facility.id}").get_data(as_text=True)
            assert "<x-fuzz" not in page

    run()


def test_shortlist_note_and_add_survive_hostile_input(app, make_facility, make_user, answer):
    facility = make_facility()
    answer(facility)
    client = app.test_client()
    sign_in(client, make_user("staff"))
    token = csrf_token(client, f"/facilities/{facility.id}")
    client.post("/shortlist/add", data={"facility_id": facility.id, "csrf_token": token})

    def note_now() -> str:
        with client.session_transaction() as session:
            return repr(session.get(SESSION_KEY))

    @BOUNDED
    @given(hostile_text(), hostile_text(), hostile_text(), st.none() | invalid_utf8())
    def run(note, facility_id, next_url, junk):
        before = note_now()
        fields = {"facility_id": facility_id, "note": note, "csrf_token": token}
        response = post(
            client, "/shortlist/note", raw_form(fields, ("note", junk) if junk else None)
        )
        assert response.status_code in (302, 400), response.status_code
        valid = len(note.strip()) <= 200 and not any(
            ord(c) < 32 and c not in "\n\t\r" for c in note
        )
        if not valid or junk is not None:
            assert note_now() == before, note
        fields = {"facility_id": facility_id, "next": next_url, "csrf_token": token}
        response = post(client, "/shortlist/add", raw_form(fields))
        assert response.status_code in (302, 400, 404), response.status_code
        if response.status_code == 302:
            target = urlsplit(response.location)
            assert target.netloc in ("", "localhost"), response.location
        assert "<x-fuzz" not in client.get("/shortlist/").get_data(as_text=True)

    run()


def test_access_report_survives_hostile_input(app, db, make_facility, make_user, answer):
    facility = make_facility()
    answer(facility)
    client = app.test_client()
    sign_in(client, make_user("staff"))
    url = f"/facilities/{facility.id}/report"
    token = csrf_token(client, f"/facilities/{facility.id}")

    def reports() -> int:
        db.expire_all()
        return db.exec(select(func.count()).select_from(AccessReport)).one()

    @BOUNDED
    @given(hostile_text(), hostile_text(), st.none() | invalid_utf8())
    def run(reason, comment, junk):
        before = reports()
        fields = {"reason": reason, "comment": comment, "csrf_token": token}
        response = post(client, url, raw_form(fields, ("comment", junk) if junk else None))
        assert response.status_code in (302, 400, 422), response.status_code
        assert "<x-fuzz" not in response.get_data(as_text=True)
        if response.status_code != 302:
            assert reports() == before

    run()


@pytest.mark.parametrize("huge", ["9" * 25, str(2**63), str(-(2**63) - 1), str(2**31)])
def test_huge_facility_ids_in_forms_are_refused_not_crashes(
    app, db, make_user, make_facility, huge
):
    staff = app.test_client()
    sign_in(staff, make_user("staff"))
    token = csrf_token(staff, "/shortlist/")
    for url in ("/shortlist/add", "/shortlist/remove"):
        response = staff.post(url, data={"facility_id": huge, "csrf_token": token})
        assert response.status_code == 400, (url, response.status_code)

    admin_user = make_user("admin")
    clinic_user = make_user("clinic", facilities=[make_facility()])
    admin = app.test_client()
    sign_in(admin, admin_user)
    token = csrf_token(admin, "/admin/users/new")
    linked = admin.post(
        f"/admin/users/{clinic_user.id}/facilities", data={"facility_id": huge, "csrf_token": token}
    )
    assert linked.status_code == 400
    created = admin.post(
        "/admin/users/new",
        data={
            "email": "new@example.jp",
            "role": "clinic",
            "facility_ids": huge,
            "csrf_token": token,
        },
    )
    assert created.status_code in (200, 400, 422)
    assert "数字をカンマで区切って入力してください。" in created.get_data(as_text=True)


def test_nul_characters_are_refused_before_any_query(app, make_user, make_facility, make_campaign):
    """PostgreSQL cannot compare text with NUL: every such input must be a 400, never a 500."""
    client = app.test_client()
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": "\x00", "password": "x", "csrf_token": token})
    assert response.status_code == 400
    assert "入力内容を確認してください。" in response.get_data(as_text=True)

    clinic = make_user("clinic", facilities=[make_facility()])
    admin = app.test_client()
    sign_in(admin, make_user("admin"))
    token = csrf_token(admin, "/admin/users/new")
    for method, url, data in [
        ("GET", "/admin/audit?actor=%00&action=x", None),
        ("GET", "/admin/audit.csv?actor=%00", None),
        ("POST", f"/admin/users/{clinic.id}/organisation", {"organisation": "\x00"}),
        ("POST", "/admin/campaigns/new", {"name": "x\x00", "closes_on": "2030-01-01"}),
        ("POST", "/admin/users/new", {"email": "a\x00@example.jp", "role": "staff"}),
    ]:
        if data is not None:
            data["csrf_token"] = token
        response = admin.open(url, method=method, data=data)
        assert response.status_code == 400, (url, response.status_code)


class _Forms(HTMLParser):
    """Collect the forms of a page: method, action and the fields with their first value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("method", "get").lower(), a.get("action", ""), {}))
        elif tag in ("input", "select", "textarea") and self.forms and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                self.forms[-1][2].setdefault(a["name"], a.get("value", "y"))
            else:
                self.forms[-1][2][a["name"]] = a.get("value", "")


def office_forms(client, app) -> list[tuple[str, str, dict[str, str]]]:
    """Every form (filters too) on the admin and account pages that take no URL argument."""
    found = {}
    for rule in app.url_map.iter_rules():
        if rule.arguments or "GET" not in rule.methods:
            continue
        if not rule.rule.startswith(("/admin", "/account")):
            continue
        parser = _Forms()
        parser.feed(client.get(rule.rule).get_data(as_text=True))
        for method, action, fields in parser.forms:
            action = urlsplit(action).path or rule.rule
            if action != "/logout" and fields.keys() - {"csrf_token"}:
                found[(method, action, tuple(sorted(fields)))] = (method, action, fields)
    return list(found.values())


def test_every_office_form_survives_hostile_input(app, make_user, make_facility, answer, db):
    answer(make_facility())
    admin = make_user("admin")
    client = app.test_client()
    sign_in(client, admin)
    forms = office_forms(client, app)
    assert len(forms) >= 7, [form[:2] for form in forms]  # the walk found the office forms

    @THOROUGH
    @given(st.data(), hostile_text(), st.none() | invalid_utf8())
    def run(data, value, junk):
        method, action, defaults = data.draw(st.sampled_from(forms))
        name = data.draw(st.sampled_from(sorted(set(defaults) - {"csrf_token"})))
        sign_in(client, admin)
        body = raw_form({**defaults, name: value}, (name, junk) if junk else None)
        if method == "post":
            response = post(client, action, body)
        else:
            response = client.get(f"{action}?{body.decode('ascii')}")
        assert response.status_code < 500, (action, name, value, response.status_code)
        assert "<x-fuzz" not in response.get_data(as_text=True)

    run()
