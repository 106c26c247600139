"""Hostile search parameters (JSON API and the search page): never a 500, errors name the
field, reflected input is escaped. Raw query strings carry bytes a browser never would."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from index.filters import filter_items
from surveys.questionnaire import load_version
from tests.conftest import QUESTIONNAIRE, open_user_session

BOUNDED = settings(max_examples=60, deadline=None, derandomize=True)
MARK = "<x-fuzz onload=alert(1)>"  # never appears unescaped in a page
FIXED = [
    "q",
    "near",
    "lat",
    "lng",
    "radius_km",
    "sort",
    "page",
    "per_page",
    "municipality",
    "situation",
    "months_postpartum",
    "breastfeeding",
    "needs_rx",
    "new_patient",
    "include_declined",
]
PAGE = [
    "near",
    "q",
    "lat",
    "lng",
    "radius_km",
    "situation",
    "trimester",
    "needs_rx",
    "months_postpartum",
    "breastfeeding",
    "existing_patient",
    "include_declined",
    "max_wait_days",
    "baby_ok",
    "sort",
    "page",
    "lang",
]
SYNTAX = [
    "AND",
    "OR",
    "NOT",
    "*",
    "?",
    "~",
    "^",
    ":",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    '"',
    "'",
    "name:*",
    "a AND (b OR",
    "[a TO]",
    "{x TO y}",
    "kana:ア*",
    "~2",
    "^3",
    "\\",
    "a OR b NOT c",
    "' OR 1=1 --",
    "1; DROP TABLE facility;--",
    "%",
    "_",
    "%_%",
]
NUMBERS = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e309",
    "-1e309",
    "0",
    "-1",
    "-0",
    "1e-400",
    "99999999999999999999999999",
    "-99999999999999999999",
    "0x10",
    "1_000",
    "١٢",
    "１２",
    " 5 ",
    "5.",
    ".5",
    "1e2",
    "",
]


def hostile_text():
    """Strings that have broken parsers elsewhere."""
    return st.one_of(
        st.sampled_from(SYNTAX + NUMBERS + [MARK, "</script><script>alert(1)</script>"]),
        st.text(max_size=30),
        st.integers().map(str),
        st.floats().map(str),
        st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=20),  # control characters
        st.just("a" * 5000),
        st.just("亀戸" * 400),
        st.builds(lambda s: f"{s}\x00{MARK}", st.text(max_size=5)),
    )


def raw_bytes():
    """Percent-encoded bytes that are not valid UTF-8 (lone surrogates, stray continuations)."""
    lone = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF).map(
        lambda c: c.encode("utf-8", "surrogatepass")
    )
    junk = st.binary(min_size=1, max_size=12)
    return st.one_of(lone, junk, st.just(b"\xff\xfe"), st.just(b"\xc3\x28")).map(
        lambda b: "".join(f"%{x:02X}" for x in b)
    )


def query(pairs: list[tuple[str, str]], raw: list[tuple[str, str]] = ()) -> str:
    """Build a raw query string: encoded pairs, plus already percent-encoded ones."""
    parts = [f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in pairs]
    parts += [f"{k}={v}" for k, v in raw]
    return "&".join(parts)


def api_names() -> list[str]:
    """Every parameter the search API reads."""
    questionnaire = load_version(QUESTIONNAIRE)
    return FIXED + [item.search_param for item in filter_items(questionnaire)]


def check_api(client, qs: str, names: list[str]) -> None:
    """The API answers 200, or 400 with JSON naming a field it knows."""
    response = client.get(f"/api/v1/search?{qs}")
    assert response.status_code in (200, 400), (qs, response.status_code)
    body = json.loads(response.get_data(as_text=True))
    if response.status_code == 400:
        assert body["error"]["field"] in names, (qs, body)
        assert body["error"]["message"]
    assert response.mimetype == "application/json"  # never sniffed as HTML


def check_page(client, qs: str) -> None:
    """The search page answers 200 or 400 (with a message) and escapes what it shows back."""
    response = client.get(f"/?{qs}")
    assert response.status_code in (200, 400), (qs, response.status_code)
    html = response.get_data(as_text=True)
    assert "<x-fuzz" not in html
    if response.status_code == 400:
        # the validation message next to the form, or (a NUL anywhere) the error page
        assert 'id="search-error"' in html or "入力内容を確認してください。" in html


def test_api_parameters_never_break_the_search(app, town, reindex):
    reindex()
    client, names = app.test_client(), api_names()

    @BOUNDED
    @given(st.lists(st.tuples(st.sampled_from(names), hostile_text()), min_size=1, max_size=4))
    def run(pairs):
        check_api(client, query(pairs), names)

    run()


def test_api_survives_invalid_utf8_and_repeats(app, town, reindex):
    reindex()
    client, names = app.test_client(), api_names()

    @BOUNDED
    @given(st.sampled_from(names), raw_bytes(), st.integers(min_value=2, max_value=30))
    def run(name, encoded, repeats):
        check_api(client, query([], [(name, encoded)] * repeats), names)
        check_api(client, query([], [(encoded, "1"), (name, encoded)]), names)

    run()


def test_coordinates_and_radius_out_of_range_name_the_field(app, town, reindex):
    reindex()
    client = app.test_client()
    for lat, lng, radius, field in [
        ("nan", "139.8", "5", "lat"),
        ("35.6", "inf", "5", "lng"),
        ("91", "139.8", "5", "lat"),
        ("35.6", "-181", "5", "lng"),
        ("35.6", "139.8", "nan", "radius_km"),
        ("35.6", "139.8", "-1", "radius_km"),
        ("35.6", "139.8", "1e309", "radius_km"),
        ("35.6", "", "5", "lng"),
    ]:
        response = client.get(f"/api/v1/search?lat={lat}&lng={lng}&radius_km={radius}")
        assert response.status_code == 400, (lat, lng, radius)
        assert response.get_json()["error"]["field"] == field, (lat, lng, radius)


def test_search_page_parameters_never_break_the_page(app, town, reindex):
    reindex()
    client = app.test_client()
    names = PAGE + [item.search_param for item in filter_items(load_version(QUESTIONNAIRE))]

    @BOUNDED
    @given(st.lists(st.tuples(st.sampled_from(names), hostile_text()), min_size=1, max_size=4))
    def run(pairs):
        check_page(client, query(pairs))

    run()


def test_search_page_survives_invalid_utf8(app, town, reindex):
    reindex()
    client = app.test_client()

    @BOUNDED
    @given(st.sampled_from(PAGE), raw_bytes(), st.integers(min_value=1, max_value=20))
    def run(name, encoded, repeats):
        check_page(client, query([], [(name, encoded)] * repeats))

    run()


def test_search_page_escapes_what_it_shows_back(app, town, reindex):
    reindex()
    client = app.test_client()
    response = client.get("/?" + query([("near", MARK), ("q", MARK)]))
    assert response.status_code in (200, 400)
    html = response.get_data(as_text=True)
    assert "<x-fuzz" not in html
    assert "&lt;x-fuzz" in html


def test_huge_ids_in_urls_are_not_found(app, town, make_user):
    admin = make_user("admin")
    for role_user in (None, admin):
        client = app.test_client()
        if role_user is not None:
            with client.session_transaction() as session:
                open_user_session(session, role_user)
        for rule in app.url_map.iter_rules():
            if "<int:" not in rule.rule:
                continue
            for huge in ("9" * 25, str(2**63), str(2**31)):
                url = re.sub(r"<int:[^>]+>", huge, rule.rule)
                url = re.sub(r"<[^>]+>", "x", url)
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    response = client.open(url, method=method)
                    assert response.status_code < 500, (method, url, response.status_code)
                    if method == "GET":
                        assert response.status_code in (302, 404), (url, response.status_code)


def test_nul_in_a_parameter_is_a_400_naming_it(app, town, reindex):
    reindex()
    response = app.test_client().get("/api/v1/search?q=a%00b")
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "q"
