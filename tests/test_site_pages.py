"""Scope said out loud: the home page's sentence, the footer's help, contact and privacy pages."""

from __future__ import annotations

import pytest

from surveys.operations import today_in_japan
from tests.test_i18n import _japanese_left


def test_home_page_says_what_the_directory_holds(client, town, make_facility):
    make_facility(name="未回答クリニック")
    page = client.get("/").get_data(as_text=True)
    # town: six facilities that answered (today), plus one that has not
    today = today_in_japan()
    assert "東京都内の精神科・心療内科7か所を掲載しています。" in page
    assert "うち6か所が妊産婦の受け入れ調査に回答しています" in page
    assert f"（最新の回答: {today.year}年{today.month}月{today.day}日）" in page
    english = client.get("/?lang=en").get_data(as_text=True)
    assert "lists 7 psychiatric and psychosomatic facilities in Tokyo; 6 of them" in english


def test_empty_directory_says_so_without_a_date(client):
    page = client.get("/").get_data(as_text=True)
    assert "0か所を掲載しています" in page and "最新の回答: —" in page


@pytest.mark.parametrize("path", ["/", "/help", "/privacy", "/contact", "/login"])
def test_every_page_links_help_contact_and_privacy(client, path):
    page = client.get(path).get_data(as_text=True)
    for href, text in (
        ("/help", "使い方"),
        ("/contact", "事務局への問い合わせ"),
        ("/privacy", "プライバシーについて"),
    ):
        assert f'<a href="{href}">{text}</a>' in page


def test_contact_page_shows_the_configured_office(make_app):
    app = make_app(
        OFFICE_NAME="テスト事務局",
        OFFICE_PHONE="03-1234-5678",
        OFFICE_EMAIL="desk@example.jp",
        OFFICE_HOURS="平日 10:00〜16:00",
    )
    page = app.test_client().get("/contact").get_data(as_text=True)
    assert "テスト事務局" in page and 'href="tel:0312345678"' in page
    assert 'href="mailto:desk@example.jp"' in page and "平日 10:00〜16:00" in page


def test_privacy_page_says_what_is_and_is_not_stored(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert "保存しないもの" in page and "保存するもの" in page
    assert "アクセスの記録からも取り除いています" in page
    assert "紹介の記録で保存する情報" in page  # referrals: what is kept, never the mother's data


@pytest.mark.parametrize("path", ["/help", "/privacy", "/contact"])
def test_site_pages_in_english(client, path):
    page = client.get(path, query_string={"lang": "en"}).get_data(as_text=True)
    assert _japanese_left(page, ("亀戸8-5-1",)) == []
