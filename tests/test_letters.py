"""Invitations by post: the campaign's letters as one PDF, read back as a person would (page
count, Japanese text, the QR code decoded), and the printed code typed at /invite."""

from __future__ import annotations

import re
import unicodedata

import pypdfium2
import pytest
import zxingcpp
from sqlmodel import select

from surveys import audit, campaigns
from surveys.models import Invitation
from surveys.operations import today_in_japan
from tests.conftest import csrf_token

CODE_RE = re.compile(r"コード\s*([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


@pytest.fixture
def letter_campaign(db, questionnaire, make_facility):
    """A campaign over two facilities without an e-mail address and one with."""
    make_facility(name="亀戸こころのクリニック", postal_code="136-0071")
    make_facility(name="八王子ひかり病院", kind="hospital", address="東京都八王子市旭町1-1")
    make_facility(name="錦糸町メールクリニック", email="desk@kinshicho.example.jp")
    closes = today_in_japan().replace(day=1).replace(year=today_in_japan().year + 1)
    campaign = campaigns.create_campaign(
        db, questionnaire, "2026年度 受入れ調査", closes, audit.CLI_ACTOR,
        campaigns.make_scope("13"),
    )  # fmt: skip
    db.commit()
    return campaign


def _print(client, campaign_id: int, **fields):
    """Press 'make the letters' on the campaign page."""
    url = f"/admin/campaigns/{campaign_id}"
    data = {"audience": "without_email", "csrf_token": csrf_token(client, url), **fields}
    return client.post(f"{url}/letters", data=data)


def _pages(pdf: bytes) -> list[tuple[str, list[str]]]:
    """Return (text, decoded QR codes) of each page, rendered at 150 dpi."""
    document = pypdfium2.PdfDocument(pdf)
    pages = []
    for page in document:
        text = page.get_textpage().get_text_range()
        image = page.render(scale=150 / 72).to_pil()
        pages.append((text, [r.text for r in zxingcpp.read_barcodes(image)]))
    document.close()
    return pages


def _full_width(text: str) -> str:
    """Type a code as with a Japanese input method: full-width, lower case, spaced."""
    spaced = " ".join(text.lower())
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in spaced)


def test_letters_pdf_reads_back_and_its_qr_code_signs_in_once(
    app, client, db, admin, letter_campaign
):
    response = _print(client, letter_campaign.id)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    pages = _pages(response.data)
    assert len(pages) == 2  # the facility with an e-mail address gets mail, not a letter
    text, codes = pages[0]
    assert "亀戸こころのクリニック" in text and "〒136-0071" in text
    assert "調査へのご協力のお願い" in text and "回答期限" in text
    assert "八王子ひかり病院" in pages[1][0]
    assert len(codes) == 1
    link = codes[0]
    assert link.startswith("http://127.0.0.1:5000/invite/")
    printed = CODE_RE.search(unicodedata.normalize("NFKC", text)).group(1)
    assert link.endswith(printed.replace("-", ""))

    path = link.removeprefix("http://127.0.0.1:5000")
    clinic = app.test_client()
    shown = clinic.get(path)
    assert shown.status_code == 200 and "亀戸こころのクリニック" in shown.get_data(as_text=True)
    entered = clinic.post(path, data={"csrf_token": csrf_token(clinic, path)})
    assert entered.status_code == 302 and "/survey" in entered.location
    assert clinic.get(entered.location).status_code == 200
    assert app.test_client().get(path).status_code == 410  # once only

    stored = db.exec(select(Invitation).where(Invitation.channel == "letter")).all()
    assert len(stored) == 2 and all(printed.replace("-", "") not in i.token_hash for i in stored)
    detail = client.get(f"/admin/campaigns/{letter_campaign.id}").get_data(as_text=True)
    assert re.search(r'id="stat-letters">2<', detail)
    assert re.search(r'id="stat-opened">1<', detail)
    assert re.search(r'id="stat-invited">2<', detail)


def test_code_typed_full_width_with_spaces_signs_in_once(app, client, admin, letter_campaign):
    text, _codes = _pages(_print(client, letter_campaign.id).data)[1]
    printed = CODE_RE.search(unicodedata.normalize("NFKC", text)).group(1)
    clinic = app.test_client()
    typed = _full_width(printed)
    entered = clinic.post(
        "/invite", data={"code": typed, "csrf_token": csrf_token(clinic, "/invite")}
    )
    assert entered.status_code == 302 and "/survey" in entered.location
    page = clinic.get(entered.location).get_data(as_text=True)
    assert "八王子ひかり病院" in page

    other = app.test_client()
    again = other.post(
        "/invite", data={"code": printed, "csrf_token": csrf_token(other, "/invite")}
    )
    assert again.status_code == 422
    assert "既に使用されています" in again.get_data(as_text=True)


def test_malformed_or_unknown_code_gets_a_message(app):
    clinic = app.test_client()
    short = clinic.post(
        "/invite", data={"code": "ABC-123", "csrf_token": csrf_token(clinic, "/invite")}
    )
    assert short.status_code == 422
    assert "英数字12文字" in short.get_data(as_text=True)
    unknown = clinic.post(
        "/invite", data={"code": "7K3M-Q9XZ-2B4P", "csrf_token": csrf_token(clinic, "/invite")}
    )
    assert unknown.status_code == 422
    assert "無効です" in unknown.get_data(as_text=True)


def test_reminder_letters_skip_facilities_that_answered(client, db, admin, letter_campaign, answer):
    from surveys.models import Facility

    answered = db.exec(select(Facility).where(Facility.name == "亀戸こころのクリニック")).one()
    answer(answered)
    pages = _pages(_print(client, letter_campaign.id, reminder="y").data)
    assert len(pages) == 1
    assert "八王子ひかり病院" in pages[0][0] and "（再送）" in pages[0][0]


def test_missing_font_is_named_and_nothing_is_stored(
    make_app, make_user, login, db, letter_campaign
):
    app = make_app("nofont", LETTER_FONT="/nonexistent/font.ttf")
    web = app.test_client()
    login(make_user("admin"), using=web)
    response = _print(web, letter_campaign.id)
    assert response.status_code == 302
    page = web.get(response.location).get_data(as_text=True)
    assert "日本語フォントが見つかりません" in page
    assert db.exec(select(Invitation)).all() == []


def test_cli_writes_the_letters(app, db, letter_campaign, tmp_path):
    out = tmp_path / "letters.pdf"
    result = app.test_cli_runner().invoke(
        args=["campaign", "letters", str(letter_campaign.id), "-o", str(out), "--all"]
    )
    assert result.exit_code == 0, result.output
    assert len(_pages(out.read_bytes())) == 3
    status = app.test_cli_runner().invoke(args=["campaign", "status", str(letter_campaign.id)])
    assert "letters: 3" in status.output and "answered: 0 (0.0%)" in status.output
