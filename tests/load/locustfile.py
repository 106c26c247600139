"""Load test users: nurses search while clinics update their answers (run by tests.load.run).

The data file named by PMH_LOADTEST_DATA (written by tests.load.run) holds the places to search
near, the staff account, and one invitation per facility that a clinic user may update.
"""

from __future__ import annotations

import json
import os
import random
import re
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from locust.exception import StopUser

from tests.load.forms import find_form

DATA: dict = {}
CLINIC_POOL: list[dict] = []
STAFF_POOL: list[dict] = []
WAITS = ("0", "3", "7", "14", "21", "30", "45", "60", "90")
RADII = ("2", "5", "10", "20")
QUERIES = ("さくら", "こころ", "メンタル", "心療内科", "クリニック", "病院", "ヒダマリ", "青葉")
FACILITY_LINK = re.compile(r'href="/facilities/(\d+)"')


@events.init.add_listener
def _load_data(environment, **_kwargs) -> None:
    """Read the run's data file once per locust process."""
    path = os.environ.get("PMH_LOADTEST_DATA")
    if not path:
        raise SystemExit("PMH_LOADTEST_DATA is not set: start the load test with tests.load.run")
    with open(path, encoding="utf-8") as handle:
        DATA.update(json.load(handle))
    CLINIC_POOL[:] = list(DATA["clinics"])
    STAFF_POOL[:] = list(DATA["staff"])


def _check_search_page(response) -> list[int]:
    """Fail unless the page shows a result list; return the facility ids it links to."""
    if response.status_code != 200:
        response.failure(f"search page: HTTP {response.status_code}")
        return []
    if 'id="results-heading"' not in response.text or 'class="results"' not in response.text:
        response.failure("search page: no results markup")
        return []
    response.success()
    return [int(i) for i in FACILITY_LINK.findall(response.text)]


def _check_api(response) -> dict | None:
    """Fail unless the body has the search API's JSON shape; return it."""
    if response.status_code != 200:
        response.failure(f"api search: HTTP {response.status_code} {response.text[:200]}")
        return None
    try:
        body = response.json()
    except ValueError:
        response.failure("api search: body is not JSON")
        return None
    keys = {"total", "page", "per_page", "results"}
    if not keys <= body.keys() or not isinstance(body["results"], list):
        response.failure(f"api search: unexpected JSON keys {sorted(body)}")
        return None
    if any(not {"id", "name", "answers"} <= r.keys() for r in body["results"]):
        response.failure("api search: a result lacks id, name or answers")
        return None
    response.success()
    return body


class Nurse(HttpUser):
    """A public health nurse (every second one signed in as staff) searching for a clinic."""

    weight = 9
    wait_time = between(1.0, 3.0)
    signed_in_count = 0

    def on_start(self) -> None:
        """Sign every second nurse in; the others search as the public."""
        self.seen: list[int] = []
        Nurse.signed_in_count += 1
        if Nurse.signed_in_count % 2 == 0:
            self._sign_in()

    def _sign_in(self) -> None:
        """Sign in with a staff account of her own through the login form."""
        page = self.client.get("/login", name="nurse: sign-in form")
        form = find_form(page.text, method="post", action="")
        staff = STAFF_POOL.pop(0)
        with self.client.post(
            "/login",
            data={"csrf_token": form.value("csrf_token") if form else "", **staff},
            name="nurse: sign in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            target = urlsplit(response.headers.get("Location", "")).path
            if response.status_code != 302 or target != "/":
                response.failure(f"sign in: HTTP {response.status_code} to '{target}'")

    def _place(self) -> dict[str, str]:
        """Return where the mother is: a station, town, postal code, or (API) a municipality."""
        if random.random() < 0.1:
            return {"municipality": random.choice(DATA["municipalities"])}
        return {"near": random.choice(DATA["locations"])}

    def _situation(self) -> dict[str, str]:
        """Return the search form's answers about the mother's situation and needs."""
        params: dict[str, str] = {"situation": random.choice(("pregnant", "postpartum", ""))}
        if params["situation"] and random.random() < 0.4:
            params["needs_rx"] = "y"
            params["breastfeeding"] = "y" if params["situation"] == "postpartum" else ""
        if random.random() < 0.1:
            params["existing_patient"] = "y"
        if random.random() < 0.2:
            params["baby_ok"] = "y"
        if random.random() < 0.3:
            params["max_wait_days"] = random.choice(("14", "30", "60"))
        return params

    @task(5)
    def search_page(self) -> None:
        """Search on the HTML page, sometimes with a keyword; page on; open a result."""
        params = {
            "near": random.choice(DATA["locations"]),
            "radius_km": random.choice(RADII),
            **self._situation(),
        }
        if random.random() < 0.2:
            params["q"] = random.choice(QUERIES)
        if random.random() < 0.2:
            params["sort"] = random.choice(("distance", "wait", "relevance"))
        with self.client.get("/", params=params, name="search page", catch_response=True) as r:
            ids = _check_search_page(r)
        self.seen = (ids + self.seen)[:40]
        if "page=2" in r.text and random.random() < 0.3:
            with self.client.get(
                "/", params={**params, "page": "2"}, name="search page", catch_response=True
            ) as r2:
                self.seen = (_check_search_page(r2) + self.seen)[:40]
        if ids and random.random() < 0.5:
            self._open(random.choice(ids[:5]))

    @task(4)
    def api_search(self) -> None:
        """Search through the JSON API with filters; sometimes fetch the next page."""
        params = {**self._place(), "radius_km": random.choice(RADII), "per_page": "20"}
        params.update(random.choice(API_FILTERS))
        if random.random() < 0.15:
            params["q"] = random.choice(QUERIES)
        with self.client.get(
            "/api/v1/search", params=params, name="api search", catch_response=True
        ) as r:
            body = _check_api(r)
        if body is None:
            return
        self.seen = ([x["id"] for x in body["results"]] + self.seen)[:40]
        if body["total"] > 20 and random.random() < 0.3:
            with self.client.get(
                "/api/v1/search",
                params={**params, "page": "2"},
                name="api search",
                catch_response=True,
            ) as r2:
                _check_api(r2)

    @task(2)
    def facility_page(self) -> None:
        """Open a facility seen in an earlier result."""
        if self.seen:
            self._open(random.choice(self.seen))

    def _open(self, facility_id: int) -> None:
        """Open one facility page; it must show the facility."""
        with self.client.get(
            f"/facilities/{facility_id}", name="facility page", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"facility page: HTTP {response.status_code}")
            elif "<h1>" not in response.text:
                response.failure("facility page: no heading")


API_FILTERS = (
    {},
    {"pregnant": "yes,conditional"},
    {"pregnant": "yes,conditional", "pregnancy_rx": "yes,consult"},
    {"postpartum": "yes,conditional"},
    {"postpartum": "yes,conditional", "breastfeeding_rx": "yes,consult"},
    {"new_patients": "yes,limited", "max_wait_days": "30"},
    {"baby_ok": "yes,conditional", "sort": "wait"},
    {"sort": "distance"},
)


class Clinic(HttpUser):
    """A clinic that keeps its own facility's answers up to date (one facility per user)."""

    weight = 1
    wait_time = between(2.0, 5.0)

    def on_start(self) -> None:
        """Take a facility nobody else edits and sign in through its invitation link."""
        if not CLINIC_POOL:
            events.request.fire(
                request_type="SETUP",
                name="clinic: no facility left",
                response_time=0,
                response_length=0,
                exception=RuntimeError("more clinic users than prepared invitations"),
            )
            raise StopUser()
        invite = CLINIC_POOL.pop(0)
        self.facility_id = invite["facility_id"]
        url = f"/clinic/invite/{invite['token']}"
        page = self.client.get(url, name="clinic: invitation page")
        form = find_form(page.text, method="post", action="")
        with self.client.post(
            url,
            data={"csrf_token": form.value("csrf_token") if form else ""},
            name="clinic: sign in",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"invitation: HTTP {response.status_code}")
                raise StopUser()

    @task
    def update_answers(self) -> None:
        """Load the survey, change the wait and the intake answer, save with the version."""
        url = f"/clinic/facilities/{self.facility_id}/survey"
        with self.client.get(url, name="clinic: survey form", catch_response=True) as page:
            form = find_form(page.text, method="post", class_="survey")
            if page.status_code != 200 or form is None or form.value("base_version") is None:
                page.failure(f"survey form: HTTP {page.status_code} or no survey form")
                return
        _change_answers(form)
        with self.client.post(
            url, data=form.fields, name="clinic: save", allow_redirects=False, catch_response=True
        ) as response:
            _check_saved(response)


def _change_answers(form) -> None:
    """Change the wait for a first visit and whether new patients are taken."""
    current = form.value("wait_days")
    form.replace("wait_days", random.choice([w for w in WAITS if w != current]))
    form.replace("new_patients", random.choice(("yes", "limited", "no")))


def _check_saved(response) -> None:
    """A save redirects to the clinic's list; a conflict (409) is an error here."""
    if response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/clinic/":
        response.success()
    elif response.status_code == 409:
        response.failure("save: version conflict (409) although this user owns the facility")
    else:
        response.failure(f"save: HTTP {response.status_code}")
