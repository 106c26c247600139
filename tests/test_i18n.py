"""Languages: the English catalogue, English pages, the remembered switch, dates."""

from __future__ import annotations

import io
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import render_template_string

from index.geo.gazetteer import municipalities
from search_app.i18n import format_date
from surveys.operations import today_in_japan
from tests.conftest import csrf_token, open_user_session

ROOT = Path(__file__).resolve().parent.parent
PO_PATH = ROOT / "search_app" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]+")
# Not UI text: sample places in the place field's placeholder, and official names the
# questionnaire's English gives in Japanese on purpose.
ALLOWED = ("亀戸", "錦糸町駅", "自立支援医療")
SKIP_TAGS = {"script", "style"}
VOID_TAGS = {"input", "br", "img", "meta", "link", "hr", "source"}
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}


class _VisibleText(HTMLParser):
    """Collect text and labelling attributes, skipping scripts and anything marked lang="ja"."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        hidden = (
            bool(self.stack and self.stack[-1]) or tag in SKIP_TAGS or attrs.get("lang") == "ja"
        )
        if not hidden:
            self.parts += [
                attrs[a] or "" for a in ("placeholder", "aria-label", "title") if a in attrs
            ]
        if tag not in VOID_TAGS:
            self.stack.append(hidden)

    def handle_endtag(self, tag) -> None:
        if tag not in VOID_TAGS and self.stack:
            self.stack.pop()

    def handle_data(self, data) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def _japanese_left(html: str, data: tuple[str, ...] = ()) -> list[str]:
    """Return the Japanese runs left in a page's visible text once data is taken out."""
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(parser.parts)
    for value in (*data, *ALLOWED):
        text = text.replace(value, " ")
    return JAPANESE.findall(text)


def load_catalog(path: Path = PO_PATH) -> Catalog:
    """Read the English catalogue."""
    with path.open("rb") as f:
        return read_po(f, locale="en")


def compile_po(path: Path = PO_PATH) -> bytes:
    """Return the .mo bytes for a .po file, as `pybabel compile` writes them."""
    out = io.BytesIO()
    write_mo(out, load_catalog(path))
    return out.getvalue()


# --- the catalogue ----------------------------------------------------------------------------


def test_catalogue_every_msgid_has_english():
    catalog = load_catalog()
    messages = [m for m in catalog if m.id]
    assert len(messages) > 50
    assert [m.id for m in messages if not m.string or m.fuzzy] == []
    assert not catalog.fuzzy
    assert [(m.id, errors) for m, errors in catalog.check()] == []


def test_catalogue_covers_every_marked_text():
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {
        (context, msgid if isinstance(msgid, str) else msgid[0])
        for _file, _line, msgid, _comments, context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS
        )
    }
    translated = {(m.context, m.id) for m in load_catalog() if m.id and m.string}
    assert len(found) > 50
    assert sorted(found - translated, key=str) == []


def test_catalogue_mo_is_compiled_from_po():
    assert PO_PATH.with_suffix(".mo").read_bytes() == compile_po(PO_PATH), (
        "messages.mo is stale: run `make translations` (or pybabel compile) and commit it"
    )


def test_catalogue_texts_need_no_html_escaping():
    # Jinja's gettext marks the translation safe: it must not carry markup characters.
    risky = [m.id for m in load_catalog() if m.id and re.search(r'[<>&"]', m.id + m.string)]
    assert risky == []


# --- pages ------------------------------------------------------------------------------------


def test_search_form_in_english_has_no_japanese_chrome(client):
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Place (address, station, postal code, municipality)" in page
    assert "Search" in page and "More conditions" in page
    assert _japanese_left(page) == []


def test_search_form_in_japanese(client):
    page = client.get("/").get_data(as_text=True)
    assert "場所（住所・駅名・郵便番号・区市町村）" in page and "検索する" in page
    assert "More conditions" not in page


def test_clinic_survey_in_english_has_no_japanese_chrome(client, make_facility, make_invitation):
    facility = make_facility()
    _enter(client, make_invitation(facility))
    page = client.get(f"/clinic/facilities/{facility.id}/survey?lang=en").get_data(as_text=True)
    assert "Save answers" in page and "required" in page
    assert _japanese_left(page, (facility.name, facility.address)) == []


def test_office_pages_in_english_have_no_japanese_chrome(app, client, make_user, town):
    admin = make_user("admin")
    with client.session_transaction() as session:
        open_user_session(session, admin)
    client.get("/?lang=en")
    # Place names (also in the chart's tooltips), facility names without a romaji name (the
    # audit log names them), a clinic's answer (who answered) shown as given, and the name of
    # the national open-data service stay Japanese.
    places = sorted((m.name for m in municipalities("13")), key=len, reverse=True)
    places += [p.split("郡", 1)[1] for p in places if "郡" in p]  # the chart's short names
    names = tuple(f.name for f in town.values())
    data = (*names, *places, "東京都", "事務", "医療情報ネット")
    pages = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/admin", "/account/")) and "GET" in rule.methods
        and not rule.arguments and not rule.rule.endswith(".csv")
    ]  # fmt: skip
    assert len(pages) >= 10
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        assert _japanese_left(response.get_data(as_text=True), data) == [], url


def test_login_page_labels_follow_the_language(client):
    english = client.get("/login?lang=en").get_data(as_text=True)
    assert ">E-mail</label>" in english and ">Password</label>" in english
    assert _japanese_left(english) == []
    japanese = client.get("/login?lang=ja").get_data(as_text=True)
    assert ">メールアドレス</label>" in japanese and ">パスワード</label>" in japanese


def test_language_switch_is_remembered(client):
    assert "Search" in client.get("/?lang=en").get_data(as_text=True)
    later = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in later and "Search" in later
    assert client.get("/no/such/page").get_data(as_text=True).count("Page not found.") == 1
    client.get("/?lang=ja")
    again = client.get("/").get_data(as_text=True)
    assert '<html lang="ja">' in again and "検索する" in again


def test_flash_message_in_the_chosen_language(client, make_user):
    make_user("staff", email="staff@example.jp")
    client.get("/?lang=en")
    csrf = csrf_token(client, "/login")
    data = {"email": "staff@example.jp", "password": "wrong", "csrf_token": csrf}
    page = client.post("/login", data=data).get_data(as_text=True)
    assert "The e-mail address or password is not correct." in page


def test_placeholders_format_in_each_language(app):
    source = '{{ _("%(total)d件見つかりました", total=n) }} {{ _("100%%安心") }}'
    with app.test_request_context("/?lang=en"):
        assert render_template_string(source, n=3) == "3 found 100%安心"
    with app.test_request_context("/?lang=ja"):
        assert render_template_string(source, n=3) == "3件見つかりました 100%安心"


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "text"), [("ja", "2026年11月8日"), ("en", "8 Nov 2026")])
def test_dates_in_each_language_style(app, lang, text):
    with app.test_request_context(f"/?lang={lang}"):
        assert format_date(date(2026, 11, 8)) == text
        assert format_date(None) == ""


def test_clinic_page_shows_japanese_date(client, make_facility, make_invitation, answer):
    facility = make_facility()
    answer(facility)
    _enter(client, make_invitation(facility))
    day = today_in_japan()
    page = client.get("/clinic/").get_data(as_text=True)
    assert f"最終確認日: <strong>{day.year}年{day.month}月{day.day}日</strong>" in page
    history = client.get(f"/clinic/facilities/{facility.id}/history?lang=en")
    assert f"{day.day} {day.strftime('%b')} {day.year}" in history.get_data(as_text=True)


def _enter(client, token: str) -> None:
    """Use an invitation as a clinic would."""
    csrf = csrf_token(client, f"/clinic/invite/{token}")
    client.post(f"/clinic/invite/{token}", data={"csrf_token": csrf})
