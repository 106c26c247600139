"""The office reads plain language: audit sentences with questionnaire labels, municipality
choice by region, invitation counts that agree with the CLI, rates with one decimal, the
two-step set-up's QR code."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import zxingcpp
from PIL import Image, ImageDraw
from sqlmodel import select

from surveys.campaigns import Progress
from surveys.models import Campaign
from surveys.operations import today_in_japan
from tests.conftest import csrf_token


def _enter(client, token: str):
    """Use an invitation as a clinic would."""
    url = f"/clinic/invite/{token}"
    return client.post(url, data={"csrf_token": csrf_token(client, url)})


def test_audit_log_reads_as_sentences_with_question_labels(
    app, client, admin, make_facility, make_invitation
):
    facility = make_facility(name="亀戸こころのクリニック")
    clinic = app.test_client()
    _enter(clinic, make_invitation(facility))
    url = f"/clinic/facilities/{facility.id}/survey"
    answers = {"pregnant": "no", "postpartum": "yes", "visibility": "public", "answered_by": "事務"}
    token = csrf_token(clinic, url)
    data = {**answers, "woman_doctor": "yes", "base_version": 0, "csrf_token": token}
    saved = clinic.post(url, data=data)
    assert saved.status_code == 302

    page = html.unescape(client.get("/admin/audit?action=survey.answer").get_data(as_text=True))
    assert "招待リンクで入った医療機関が亀戸こころのクリニックの調査回答を保存しました。" in page
    assert "女性医師の診察: （未回答） → あり・可" in page
    assert "woman_doctor: — → yes" not in page.split("<details", 1)[0]  # raw only on demand
    assert "woman_doctor" in page  # ... inside the details

    english = html.unescape(
        client.get("/admin/audit?action=survey.answer&lang=en").get_data(as_text=True)
    )
    assert "A woman doctor available: (no answer) → Yes" in english


def test_audit_log_names_sign_in_events(client, db, admin):
    page = html.unescape(client.get("/admin/audit?action=auth.login").get_data(as_text=True))
    assert f"{admin.email}がログインしました。" in page


def test_region_box_selects_every_municipality_of_the_region(client, db, admin):
    page = "/admin/campaigns/new"
    form = client.get(page).get_data(as_text=True)
    assert "23区をすべて選ぶ" in form and "島しょをすべて選ぶ" in form
    closes = (today_in_japan() + timedelta(days=10)).isoformat()
    response = client.post(
        page,
        data={
            "name": "島しょと江東区",
            "closes_on": closes,
            "regions": ["islands"],
            "municipalities": ["13108"],
            "csrf_token": csrf_token(client, page),
        },
    )
    assert response.status_code == 302
    scope = db.exec(select(Campaign)).one().scope
    assert scope["municipalities"] == [
        "13108", "13361", "13362", "13363", "13364", "13381", "13382", "13401", "13402", "13421",
    ]  # fmt: skip


def test_links_made_on_the_command_line_count_as_invited(app, client, db, admin, make_facility):
    make_facility(), make_facility()
    closes = today_in_japan() + timedelta(days=10)
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=["campaign", "create", "--name", "CLI招待", "--closes", closes.isoformat()]
    )
    assert created.exit_code == 0, created.output
    campaign = db.exec(select(Campaign)).one()
    invited = runner.invoke(args=["campaign", "invite", "--campaign", str(campaign.id)])
    assert invited.exit_code == 0, invited.output
    status = runner.invoke(args=["campaign", "status", str(campaign.id)]).output
    assert "invited: 2" in status
    page = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert re.search(r'id="stat-invited">2<', page)


def test_rates_keep_one_decimal():
    progress = Progress(600, 0, 600, 0, 0, 0, 1)
    assert progress.rate_percent == "0.2"
    assert Progress(0, 0, 0, 0, 0, 0, 0).rate_percent == "0.0"


def _svg_modules(svg: str) -> set[tuple[int, int]]:
    """Read the dark modules back from segno's SVG path (horizontal runs, relative moves)."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    dark, x, y = set(), 0.0, 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s+(-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for step in range(int(float(a))):
                dark.add((int(x) + step, int(y)))
            x += float(a)
    return dark


def test_two_step_set_up_shows_a_qr_code_of_the_key(client, make_user, login):
    user = make_user("staff")
    login(user)
    page = html.unescape(client.get("/account/two-factor").get_data(as_text=True))
    svg = re.search(r"<svg[^>]*class=\"qr\".*?</svg>", page, re.S).group(0)
    assert 'aria-label="認証アプリで読み取るQRコード"' in svg
    modules = _svg_modules(svg)
    size = max(max(x for x, _ in modules), max(y for _, y in modules)) + 5
    image = Image.new("L", (size * 8, size * 8), 255)
    draw = ImageDraw.Draw(image)
    for x, y in modules:
        draw.rectangle([x * 8, y * 8, x * 8 + 7, y * 8 + 7], fill=0)
    decoded = [r.text for r in zxingcpp.read_barcodes(image)]
    secret = re.search(r'class="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    assert len(decoded) == 1 and decoded[0].startswith("otpauth://totp/")
    assert f"secret={secret}" in decoded[0]
