"""Invitation letters by post: one A4 page per facility in one PDF, for a window envelope.

Each letter carries a fresh invitation whose token is a short code (surveys.letter_codes):
printed as a QR code of the link and as text to type at /invite. Codes are stored only as
hashes, so the PDF is the one copy of them: print it, do not keep it.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF
from sqlmodel import Session

from surveys import audit, letter_codes
from surveys.campaign_mail import closing_date
from surveys.campaigns import answered_ids, campaign_category, check_open, in_scope
from surveys.errors import SurveyError
from surveys.invitations import create_invitation
from surveys.models import Campaign, Facility
from surveys.office import OfficeContact
from surveys.operations import TOKYO, today_in_japan

# Debian's Noto CJK (fonts-noto-cjk) and IPA fonts, tried in this order when none is configured.
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


class LetterFontMissing(SurveyError):
    """No font with Japanese glyphs was found to print letters with."""

    status = 500
    message_ja = (
        "案内状の作成に必要な日本語フォントが見つかりません。"
        "システム管理者に fonts-noto-cjk のインストール（または PMH_LETTER_FONT の設定）を"
        "依頼してください。"
    )
    message_en = (
        "No Japanese font is installed for the letters. Ask the system administrator to "
        "install fonts-noto-cjk (or set PMH_LETTER_FONT)."
    )


class NoLetters(SurveyError):
    """No facility needs a letter for the chosen audience."""

    status = 409
    message_ja = "案内状を送る対象の医療機関がありません。"
    message_en = "No facility needs a letter for this choice."


@dataclass(frozen=True)
class LetterRun:
    """What to print: every facility in scope or only those without an e-mail address, and
    whether it is a reminder (then only facilities that have not answered yet)."""

    all_facilities: bool = False
    reminder: bool = False


def find_font(configured: str = "") -> str:
    """Return the font file to embed, or raise LetterFontMissing."""
    for candidate in (configured,) if configured else FONT_CANDIDATES:
        if candidate and Path(candidate).is_file():
            return candidate
    raise LetterFontMissing()


def targets(session: Session, campaign: Campaign, run: LetterRun) -> list[Facility]:
    """Return the facilities that get a letter, in id order."""
    facilities = list(session.exec(in_scope(campaign)))
    if not run.all_facilities:
        facilities = [f for f in facilities if not f.email]
    if run.reminder:
        answered = answered_ids(session, campaign)
        facilities = [f for f in facilities if f.id not in answered]
    return facilities


def make_letters(
    session: Session,
    campaign: Campaign,
    actor: audit.Actor,
    base_url: str,
    office: OfficeContact,
    run: LetterRun,
    font: str,
) -> bytes:
    """Create one letter invitation per target and return the letters as one PDF."""
    check_open(campaign)
    chosen = targets(session, campaign, run)
    if not chosen:
        raise NoLetters()
    pdf = _document(font)
    for facility in chosen:
        code = letter_codes.new_code()
        create_invitation(session, facility, campaign, actor, channel="letter", token=code)
        _page(pdf, facility, campaign, code, letter_url(base_url, code), office, run.reminder)
    audit.record(
        session, actor, "campaign.letters", campaign, letters=len(chosen), reminder=run.reminder
    )
    return bytes(pdf.output())


def letter_url(base_url: str, code: str) -> str:
    """Return the address the QR code holds."""
    return f"{base_url.rstrip('/')}/invite/{code}"


def _document(font: str) -> FPDF:
    """Start an A4 document with the Japanese font embedded (subset)."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(25, 20, 20)
    pdf.add_font("jp", fname=font)
    pdf.set_title("調査へのご協力のお願い")
    return pdf


def _qr_png(url: str) -> io.BytesIO:
    """Return the link as a QR code image (error correction M, quiet zone of 4 modules)."""
    buffer = io.BytesIO()
    segno.make(url, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    buffer.seek(0)
    return buffer


def _page(pdf: FPDF, facility, campaign, code: str, url: str, office, reminder: bool) -> None:
    """Lay out one letter: address block for the window, text, QR code and code, contact."""
    pdf.add_page()
    _address_block(pdf, facility)
    pdf.set_font("jp", size=10)
    pdf.set_xy(120, 20)
    today = today_in_japan()
    pdf.cell(65, 6, f"{today.year}年{today.month}月{today.day}日", align="R")
    pdf.set_xy(25, 95)
    pdf.set_font("jp", size=15)
    title = "調査へのご協力のお願い" + ("（再送）" if reminder else "")
    pdf.cell(160, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("jp", size=10.5)
    pdf.multi_cell(160, 6.5, _body(campaign, reminder), new_x="LMARGIN", new_y="NEXT")
    _code_box(pdf, code, url)
    _contact(pdf, office)


def _address_block(pdf: FPDF, facility) -> None:
    """Postal code, address and name where a window envelope (長形3号) shows them."""
    pdf.set_font("jp", size=11)
    pdf.set_xy(25, 45)
    postal = f"〒{facility.postal_code}" if facility.postal_code else ""
    lines = [line for line in (postal, facility.address) if line]
    pdf.multi_cell(95, 6, "\n".join(lines), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("jp", size=13)
    pdf.set_x(25)
    pdf.multi_cell(95, 8, f"{facility.name}\n調査ご担当者様", new_x="LMARGIN", new_y="NEXT")


def _body(campaign: Campaign, reminder: bool) -> str:
    """The letter's text."""
    closes = closing_date(campaign.closes_at.astimezone(TOKYO).date(), "ja")
    first = (
        "先日ご案内した調査について、まだご回答を確認できておりません。"
        "お忙しいところ恐れ入りますが、ご回答をお願いいたします。\n"
        if reminder
        else ""
    )
    if campaign_category(campaign) != "psychiatric":
        return f"{first}{_hearing_body(closes)}"
    return (
        f"{first}東京都の妊産婦メンタルヘルス対策事業では、妊娠中・産後の方の受け入れ状況について、"
        "都内の精神科・心療内科の医療機関に調査をお願いしています。ご回答は、区市町村の保健師や"
        "産科医療機関が紹介先を探す際に利用します。\n"
        "下のQRコードをスマートフォン等で読み取るか、パソコンでアドレスを開いてコードを入力して"
        "ご回答ください（ログインは不要です）。\n"
        f"回答期限: {closes}\n"
        "コードは貴院専用で、1回限り有効です。回答期限を過ぎると使えなくなります。"
        "回答後に内容を変更するときは、ウェブサイトの「医療機関の方へ」ページから、"
        "登録のメールアドレスにログイン用リンクを送ることができます。"
    )


def _hearing_body(closes: str) -> str:
    """The text of a hearing's letter (obstetric institutions, municipalities)."""
    return (
        "東京都の妊産婦メンタルヘルス対策事業では、妊産婦のこころの支援について関係機関が連携する"
        "体制づくりのため、都内の産科医療機関と区市町村にヒアリングをお願いしています。"
        "ご回答は事務局と関係機関合同の検討会で利用し、一般には公開しません。\n"
        "下のQRコードをスマートフォン等で読み取るか、パソコンでアドレスを開いてコードを入力して"
        "ご回答ください（ログインは不要です）。\n"
        f"回答期限: {closes}\n"
        "コードは貴機関専用で、1回限り有効です。回答期限を過ぎると使えなくなります。"
    )


def _code_box(pdf: FPDF, code: str, url: str) -> None:
    """The QR code beside the short address and the code in large, grouped letters."""
    top = pdf.get_y() + 6
    pdf.rect(25, top, 160, 52)
    pdf.image(_qr_png(url), x=30, y=top + 6, w=40, h=40)
    invite_page = url.rsplit("/", 1)[0]
    pdf.set_xy(78, top + 8)
    pdf.set_font("jp", size=10)
    pdf.cell(
        100, 6, "パソコンから回答する場合は、次のアドレスを開いて", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_x(78)
    pdf.cell(100, 6, "コードを入力してください。", new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(78, top + 22)
    pdf.set_font("jp", size=12)
    pdf.cell(100, 7, invite_page, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(78, top + 32)
    pdf.set_font("jp", size=10)
    pdf.cell(18, 10, "コード")
    pdf.set_font("Courier", style="B", size=20)
    pdf.cell(80, 10, letter_codes.grouped(code))


def _contact(pdf: FPDF, office: OfficeContact) -> None:
    """The office's contact at the foot of the page."""
    pdf.set_font("jp", size=10)
    pdf.set_xy(25, 250)
    pdf.multi_cell(160, 5.5, "お問い合わせ先\n" + office.text("ja"), new_x="LMARGIN", new_y="NEXT")
