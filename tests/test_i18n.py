"""Languages: the English catalogue, English pages, the remembered switch, dates, the converter."""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from flask import render_template_string

from index.geo.gazetteer import municipalities
from search_app.i18n import format_date
from search_app.i18n_convert import main as convert_main
from search_app.i18n_convert.catalogue import PO_PATH, compile_po, load_catalog
from search_app.i18n_convert.python_source import convert_python
from search_app.i18n_convert.templates import convert_template
from surveys.operations import today_in_japan
from tests.conftest import csrf_token, open_user_session

ROOT = Path(__file__).resolve().parent.parent
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


# --- the converter ----------------------------------------------------------------------------


def test_convert_template_pairs_quotes_and_lines():
    src = """<h1>{{ t("ログイン", 'Sign in') }}</h1>
<p>{{ t('地図',
        "Map") }} {{ x.t(1) }} {{ answer_text(item, v) }}</p>{# t("a", "b") #}"""
    result = convert_template(src, "a.html", {})
    assert (
        result.text
        == """<h1>{{ _("ログイン") }}</h1>
<p>{{ _('地図') }} {{ x.t(1) }} {{ answer_text(item, v) }}</p>{# t("a", "b") #}"""
    )
    assert [(p.msgid, p.msgstr, p.line) for p in result.pairs] == [
        ("ログイン", "Sign in", 1),
        ("地図", "Map", 2),
    ]
    assert result.problems == []


def test_convert_template_format_becomes_named_placeholders():
    src = (
        '{{ t("%d件見つかりました"|format(result.total), "%d found"|format(result.total)) }}'
        '{{ t("報告（%d件）"|format(reports|length), "Reports (%d)"|format(reports|length)) }}'
        '{{ t("%s と %s" % (a, b), "%s and %s" % (a, b)) }}{{ t("100%安心", "100% safe") }}'
    )
    result = convert_template(src, "a.html", {})
    assert result.text == (
        '{{ _("%(total)d件見つかりました", total=result.total) }}'
        '{{ _("報告（%(count)d件）", count=reports|length) }}'
        '{{ _("%(a)s と %(b)s", a=a, b=b) }}{{ _("100%%安心") }}'
    )
    assert [p.msgstr for p in result.pairs] == [
        "%(total)d found",
        "Reports (%(count)d)",
        "%(a)s and %(b)s",
        "100%% safe",
    ]


def test_convert_template_refuses_and_reports():
    src = (
        '{{ t(item.ja, item.en) }}{{ t("版", "Version") }}{{ t("版", "version") }}'
        '{{ t("%d件"|format(n), "%d items"|format(m)) }}{% set tr = t %}'
    )
    result = convert_template(src, "a.html", {})
    assert result.text == (
        '{{ t(item.ja, item.en) }}{{ _("版") }}{{ t("版", "version") }}'
        '{{ t("%d件"|format(n), "%d items"|format(m)) }}{% set tr = t %}'
    )
    reasons = [p.split(": ", 1)[1] for p in result.problems]
    assert [p.split(":", 1)[0] for p in result.problems] == ["a.html"] * 4
    assert reasons[0] == "not a literal text: item.ja"
    assert reasons[1].startswith("conflict: 「版」 is “Version” in the catalogue, here “version”")
    assert reasons[2] == "the English uses a value the Japanese does not: m"
    assert reasons[3] == "t used without a call"


def test_convert_template_context_becomes_pgettext():
    result = convert_template('{{ t("回答", "Survey", context="title") }}', "a.html", {})
    assert result.text == '{{ pgettext("title", "回答") }}'
    assert (result.pairs[0].context, result.pairs[0].msgstr) == ("title", "Survey")


PY_SOURCE = '''"""Sample."""

from wtforms import StringField

from search_app.i18n import current_lang, translate as t

LABEL = StringField(t("メール", "E-mail"))


def view(w, items, limit):
    """View."""
    a = t(
        "メールアドレスまたはパスワードが正しくありません。",
        "The e-mail address or password is not correct.",
    )
    b = t(f"{w}日以内", f"{w} days or less")
    c = t("%d件" % len(items), "%d items" % len(items))
    d = t("{}件と{}件".format(w, limit), "{1} and {0}".format(limit, w))
    e = t(f"{limit:.1f}km", f"{limit:.1f} km")
    return a, b, c, d, e, current_lang()
'''


def test_convert_python_literals_fstrings_and_imports():
    result = convert_python(PY_SOURCE, "a.py", {})
    assert result.problems == []
    assert "from flask_babel import gettext as _, lazy_gettext\n" in result.text
    assert "from search_app.i18n import current_lang\n" in result.text
    assert 'LABEL = StringField(lazy_gettext("メール"))' in result.text
    assert (
        '    a = _(\n        "メールアドレスまたはパスワードが正しくありません。"\n    )'
        in result.text
    )
    assert 'b = _("%(w)s日以内", w=w)' in result.text
    assert 'c = _("%(count)d件", count=len(items))' in result.text
    assert 'd = _("%(w)s件と%(limit)s件", w=w, limit=limit)' in result.text
    assert 'e = _("%(limit).1fkm", limit=limit)' in result.text
    pairs = {p.msgid: p.msgstr for p in result.pairs}
    assert pairs["%(w)s件と%(limit)s件"] == "%(w)s and %(limit)s"
    assert pairs["%(limit).1fkm"] == "%(limit).1f km"
    assert convert_python(result.text, "a.py", {}).pairs == []  # re-runnable


def test_convert_python_refuses_and_keeps_the_import():
    src = (
        "from search_app.i18n import translate as t\n\n\ndef f(w, _):\n"
        '    return t(f"{w!r}", f"{w!r}"), t("はい", "Yes"), t(w, w)\n'
    )
    result = convert_python(src, "a.py", {})
    assert result.text == (
        "from flask_babel import gettext\n"
        "from search_app.i18n import translate as t\n\n\ndef f(w, _):\n"
        '    return t(f"{w!r}", f"{w!r}"), gettext("はい"), t(w, w)\n'
    )
    assert [p.split(": ", 1)[1] for p in result.problems] == [
        "an f-string value with !r or !a",
        "not a literal text: w",
    ]


def test_convert_command_writes_files_and_catalogue(tmp_path, capsys):
    page = tmp_path / "page.html"
    page.write_text('{{ t("検索する", "Search") }}{{ t(x, y) }}', encoding="utf-8")
    po = tmp_path / "en" / "messages.po"
    assert convert_main([str(tmp_path), "--po", str(po), "--no-ruff"]) == 1
    assert page.read_text(encoding="utf-8") == '{{ _("検索する") }}{{ t(x, y) }}'
    assert 'msgid "検索する"\nmsgstr "Search"' in po.read_text(encoding="utf-8")
    assert po.with_suffix(".mo").read_bytes() == compile_po(po)
    assert "NOT CONVERTED" in capsys.readouterr().err
    page.write_text('{{ t("検索する", "Find") }}', encoding="utf-8")
    assert convert_main([str(page), "--po", str(po), "--dry-run"]) == 1
    assert 'msgstr "Search"' in po.read_text(encoding="utf-8")
