"""Whole numbers typed by users are bounded by their length before Python converts them: a
value of 4,301 digits (past Python's int conversion limit) is a 400 naming the field, never a
500, in the API, on the search page and in every form with a number."""

from __future__ import annotations

import pytest
from sqlmodel import select

from surveys.models import SurveyResponse
from surveys.numbers import whole_number
from tests.conftest import csrf_token

NINES = "9" * 4301  # one digit past Python's default int conversion limit
LONG = "9" * 30  # converts, but overflows a database integer


@pytest.mark.parametrize("value", [NINES, LONG, "0" * 5000 + "7" + "0" * 10])
@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("max_wait_days", {}),
        ("page", {}),
        ("per_page", {}),
        ("radius_km", {"lat": "35.69", "lng": "139.81"}),
        ("lat", {"lng": "139.81"}),
    ],
)
def test_api_refuses_huge_numbers_naming_the_field(client, name, extra, value):
    response = client.get("/api/v1/search", query_string={name: value, **extra})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == name
    assert "整数" in error["message"] or "数値" in error["message"]


def test_api_message_in_english_names_the_range(client):
    response = client.get("/api/v1/search", query_string={"max_wait_days": NINES, "lang": "en"})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "max_wait_days"
    assert "from 0 to 100000" in response.get_data(as_text=True)


@pytest.mark.parametrize("name", ["max_wait_days", "page"])
def test_search_page_shows_the_problem_inline(client, name):
    response = client.get("/", query_string={"q": "こころ", name: NINES})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="search-error"' in page
    assert f"「{name}」" in page
    assert "Traceback" not in page


def test_leading_zeros_still_read_as_the_number(client, reindex):
    reindex()
    response = client.get("/api/v1/search", query_string={"max_wait_days": "0" * 5000 + "7"})
    assert response.status_code == 200


def test_whole_number_bounds_by_length_first():
    assert whole_number(NINES, 100) is None
    assert whole_number("0" * 4400 + "42", 100) == 42
    assert whole_number(" 7 ", 10, 1) == 7
    assert [whole_number(v, 10, 1) for v in ("0", "11", "-1", "+1", "１", "", "1e3")] == [None] * 7


def test_admin_audit_page_number(client, admin):
    response = client.get("/admin/audit", query_string={"page": NINES})
    assert response.status_code == 400
    assert "1〜2147483647の整数で入力してください。" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", [NINES, LONG])
def test_shortlist_add_refuses_huge_facility_id(client, login, make_user, value):
    login(make_user("staff"))
    token = csrf_token(client, "/shortlist/")
    response = client.post("/shortlist/add", data={"facility_id": value, "csrf_token": token})
    assert response.status_code == 400


def test_user_link_form_refuses_huge_facility_id(client, db, admin, make_user):
    clinic = make_user("clinic")
    url = f"/admin/users/{clinic.id}"
    token = csrf_token(client, url)
    response = client.post(f"{url}/facilities", data={"facility_id": NINES, "csrf_token": token})
    assert response.status_code == 400  # the form's refusal page, not a 500


def test_clinic_survey_refuses_huge_numbers(client, db, make_facility, make_invitation):
    facility = make_facility()
    token = make_invitation(facility)
    client.post(
        f"/clinic/invite/{token}",
        data={"csrf_token": csrf_token(client, f"/clinic/invite/{token}")},
    )
    url = f"/clinic/facilities/{facility.id}/survey"
    answers = {"pregnant": "yes", "postpartum": "yes", "breastfeeding_rx": "consult",
               "visibility": "public", "answered_by": "院長"}  # fmt: skip
    huge_answer = client.post(
        url,
        data={**answers, "wait_days": NINES, "base_version": "0",
              "csrf_token": csrf_token(client, url)},
    )  # fmt: skip
    assert huge_answer.status_code == 422
    huge_version = client.post(
        url,
        data={**answers, "wait_days": "7", "base_version": NINES,
              "csrf_token": csrf_token(client, url)},
    )  # fmt: skip
    assert huge_version.status_code == 400  # nothing saved yet: no conflict page to show
    db.expire_all()
    assert db.exec(select(SurveyResponse)).all() == []


@pytest.mark.parametrize("prefix", ["/facilities/", "/api/v1/facilities/", "/admin/users/"])
def test_ids_in_urls_are_bounded(client, prefix):
    for number in (NINES, LONG, "2147483648"):
        assert client.get(prefix + number).status_code == 404
