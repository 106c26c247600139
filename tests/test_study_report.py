"""The study group's report (検討会資料): its figures match the answers stored in the database
(computed here from the SurveyResponse rows, not by the report's code), as a page and as a PDF
read back; the staff version shows professional-only answers, the public one does not."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from datetime import timedelta

import pypdfium2
import pytest
from sqlmodel import select

from surveys import audit, campaigns
from surveys.models import Campaign, Facility, SurveyResponse, utcnow
from surveys.operations import submit_answers, today_in_japan
from surveys.questionnaire import load_version
from surveys.study_report import bins, summarise

REFERRER_NOTE = "産科からの紹介は火曜午後に受け付けます"
PUBLIC_NOTE = "駐車場があります"
CONDITION = "妊娠20週までの方"


def _answer(db, questionnaire, facility, base=0, now=None, **answers):
    """Store a version of a facility's answers on top of `base`."""
    values = {"postpartum": "yes", "visibility": "public", "answered_by": "事務 山田"}
    submit_answers(db, facility, questionnaire, values | answers, audit.CLI_ACTOR, base, now=now)
    db.commit()


@pytest.fixture
def survey(db, questionnaire, make_facility):
    """A campaign over seven facilities in two wards: five answered since it opened (one of
    them twice), one answered only before it opened, one never."""
    f = {
        "a": make_facility(name="亀戸こころクリニック", municipality_code="13108"),
        "b": make_facility(name="江東中央病院", kind="hospital", municipality_code="13108"),
        "c": make_facility(
            name="錦糸町メンタルクリニック", municipality_code="13107", lat=35.69, lng=139.81
        ),
        "d": make_facility(
            name="墨田ひかりクリニック", municipality_code="13107", lat=None, lng=None
        ),
        "e": make_facility(
            name="両国こころの診療所", municipality_code="13107", lat=35.70, lng=139.79
        ),
        "old": make_facility(name="本所むかしクリニック", municipality_code="13107"),
        "pro": make_facility(name="関係機関限定クリニック", municipality_code="13108"),
    }
    earlier = utcnow() - timedelta(days=3)
    _answer(db, questionnaire, f["old"], now=earlier, pregnant="yes", wait_days="1")
    closes = today_in_japan() + timedelta(days=30)
    campaign = campaigns.create_campaign(
        db,
        questionnaire,
        "2026年度 受入れ調査",
        closes,
        audit.CLI_ACTOR,
        campaigns.make_scope("13"),
    )
    db.commit()
    _answer(
        db, questionnaire, f["a"], pregnant="yes", wait_days="3", note_for_referrers=REFERRER_NOTE,
        note_public=PUBLIC_NOTE, conditions=["anxiety", "postpartum_depression"],
        pregnant_trimester=["first", "second"],
    )  # fmt: skip
    _answer(
        db, questionnaire, f["b"], pregnant="conditional", pregnant_conditions=CONDITION,
        wait_days="10", conditions=["anxiety"],
    )  # fmt: skip
    _answer(db, questionnaire, f["c"], pregnant="no", postpartum="no", wait_days="14")
    _answer(db, questionnaire, f["e"], pregnant="no", wait_days="30")
    _answer(db, questionnaire, f["e"], base=1, pregnant="yes", wait_days="7")  # the current one
    _answer(
        db, questionnaire, f["pro"], pregnant="yes", visibility="professionals",
        note_public="関係機関限定の施設のお知らせ",
    )  # fmt: skip
    return campaign, f


def _current_answers(db, campaign: Campaign) -> dict[int, dict]:
    """The current answers of in-scope facilities that answered since the campaign opened."""
    rows = db.exec(select(SurveyResponse)).all()
    latest: dict[int, SurveyResponse] = {}
    for row in rows:
        if row.facility_id not in latest or row.version_no > latest[row.facility_id].version_no:
            latest[row.facility_id] = row
    since = {r.facility_id for r in rows if r.submitted_at >= campaign.created_at}
    scope = {f.id for f in db.exec(select(Facility).where(Facility.prefecture_code == "13"))}
    return {i: r.answers for i, r in latest.items() if i in since and i in scope}


def _article(page: str, key: str) -> str:
    """The part of the page about one question."""
    return re.search(rf'<article[^>]*id="item-{key}".*?</article>', page, re.S).group(0)


def _counts(page: str, key: str) -> dict[str, tuple[int, str]]:
    """Value -> (count, share) as the page's table of a choice item shows them."""
    rows = re.findall(
        r'data-value="([^"]+)"><th[^>]*>.*?</th><td class="count">(\d+)</td>'
        r'<td class="share">([\d.]+)%</td>',
        _article(page, key),
    )
    return {value: (int(count), share) for value, count, share in rows}


def _stat(page: str, name: str) -> int:
    """A headline figure of the page."""
    return int(re.search(rf'id="stat-{name}">(\d+)<', page).group(1))


def _pdf_text(data: bytes) -> str:
    """The text of every page of a PDF."""
    document = pypdfium2.PdfDocument(data)
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    document.close()
    return text


def test_page_figures_match_the_stored_answers(client, db, admin, survey, questionnaire):
    campaign, _f = survey
    current = _current_answers(db, campaign)
    response = client.get(f"/admin/campaigns/{campaign.id}/study-report")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    in_scope = len(db.exec(select(Facility).where(Facility.prefecture_code == "13")).all())
    assert _stat(page, "in-scope") == in_scope == 7
    assert _stat(page, "respondents") == len(current) == 5
    assert _stat(page, "non-respondents") == in_scope - len(current)

    for key in ("pregnant", "postpartum"):
        expected = Counter(a[key] for a in current.values() if a.get(key))
        shown = _counts(page, key)
        answered = sum(expected.values())
        for choice in questionnaire.item(key).choices:
            count = expected.get(choice.value, 0)
            assert shown[choice.value] == (count, f"{100 * count / answered:.1f}"), key
    # a multiple choice counts each value chosen
    chosen = Counter(v for a in current.values() for v in a.get("conditions") or [])
    assert _counts(page, "conditions")["anxiety"][0] == chosen["anxiety"] == 2
    assert _counts(page, "conditions")["postpartum_depression"][0] == 1

    waits = sorted(a["wait_days"] for a in current.values() if a.get("wait_days") is not None)
    summary = _article(page, "wait_days")
    assert f'<dd class="n">{len(waits)}</dd>' in summary
    assert f'<dd class="min">{waits[0]}</dd>' in summary
    assert f'<dd class="max">{waits[-1]}</dd>' in summary
    middle = waits[len(waits) // 2] if len(waits) % 2 else (waits[1] + waits[2]) / 2
    assert f'<dd class="median">{middle:g}</dd>' in summary

    # by municipality: 江東区 has a, b and pro (all answered); 墨田区 c, d, e, old
    koto = re.search(r'<tr data-key="13108">.*?</tr>', page, re.S).group(0)
    assert '<td class="in-scope">3</td>' in koto and '<td class="respondents">3</td>' in koto
    sumida = re.search(r'<tr data-key="13107">.*?</tr>', page, re.S).group(0)
    assert '<td class="in-scope">4</td>' in sumida and '<td class="respondents">2</td>' in sumida
    # by kind: one hospital, six clinics
    hospital = re.search(r'<tr data-key="hospital">.*?</tr>', page, re.S).group(0)
    assert (
        '<td class="in-scope">1</td>' in hospital and '<td class="respondents">1</td>' in hospital
    )

    # the charts are drawn on the server, with their numbers on them
    assert page.count("<svg") >= 5
    pregnant_chart = re.search(r'<svg[^>]*id="chart-pregnant".*?</svg>', page, re.S).group(0)
    yes = sum(1 for a in current.values() if a["pregnant"] == "yes")
    assert f"{yes}件（{100 * yes / len(current):.1f}%）" in pregnant_chart
    assert re.search(r'<svg[^>]*id="map-1"', page) and re.search(r'<svg[^>]*id="map-2"', page)
    # the map marks each status by shape: circle (accepting), polygon (conditional), rect
    acceptance_map = re.search(r'<svg[^>]*id="map-1".*?</svg>', page, re.S).group(0)
    assert "<circle" in acceptance_map and "<polygon" in acceptance_map
    assert "位置が不明で表示していない施設: 1件" in page


def test_staff_version_lists_professional_answers_and_public_one_does_not(
    client, db, admin, survey
):
    campaign, _f = survey
    url = f"/admin/campaigns/{campaign.id}/study-report"
    staff = client.get(url).get_data(as_text=True)
    assert "関係機関・事務局用" in staff
    assert REFERRER_NOTE in staff and "亀戸こころクリニック" in staff
    assert CONDITION in staff and PUBLIC_NOTE in staff

    public = client.get(url, query_string={"audience": "public"}).get_data(as_text=True)
    assert "公開用" in public
    assert REFERRER_NOTE not in public and 'id="item-note_for_referrers"' not in public
    assert "事務 山田" not in public  # answered_by is professional-only
    assert PUBLIC_NOTE in public and "亀戸こころクリニック" not in public
    # a facility listed for professionals only is counted, its text is not shown
    assert "関係機関限定の施設のお知らせ" not in public
    assert "関係機関限定の施設のお知らせ" in staff
    assert _stat(public, "respondents") == _stat(staff, "respondents") == 5
    # ... and its answer (pregnant: yes) is left out of the public tallies, which say so
    assert _counts(public, "pregnant")["yes"][0] == _counts(staff, "pregnant")["yes"][0] - 1
    assert "関係機関のみに掲載している施設（1件）の回答は" in public
    assert 'id="withheld"' not in staff

    assert client.get(url, query_string={"audience": "everyone"}).status_code == 400


def test_pdf_reads_back_with_the_title_counts_and_audience(client, db, admin, survey):
    campaign, _f = survey
    current = _current_answers(db, campaign)
    response = client.get(f"/admin/campaigns/{campaign.id}/study-report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = _pdf_text(response.data)
    assert "検討会資料" in text and "2026年度 受入れ調査" in text
    assert "関係機関・事務局用" in text
    yes = sum(1 for a in current.values() if a["pregnant"] == "yes")
    assert f"{yes}件（{100 * yes / len(current):.1f}%）" in text  # the pregnant chart's bar
    assert REFERRER_NOTE in text and "亀戸こころクリニック" in text
    assert "江東区" in text and "3/3" in text  # 江東区: 3 of 3 answered

    public = client.get(
        f"/admin/campaigns/{campaign.id}/study-report.pdf", query_string={"audience": "public"}
    )
    public_text = _pdf_text(public.data)
    assert "公開用" in public_text and "検討会資料" in public_text
    assert REFERRER_NOTE not in public_text and "亀戸こころクリニック" not in public_text


def test_pdf_charts_are_vector_drawings_not_images(client, admin, survey):
    campaign, _f = survey
    data = client.get(f"/admin/campaigns/{campaign.id}/study-report.pdf").data
    document = pypdfium2.PdfDocument(data)
    kinds = Counter()
    for page in document:
        for obj in page.get_objects():
            kinds[obj.type] += 1
    document.close()
    assert kinds[pypdfium2.raw.FPDF_PAGEOBJ_IMAGE] == 0
    assert kinds[pypdfium2.raw.FPDF_PAGEOBJ_PATH] > 20  # bars, hatching and map marks


def test_campaign_without_answers_says_so(client, db, admin, make_facility, questionnaire):
    make_facility(name="まだ回答のないクリニック")
    closes = today_in_japan() + timedelta(days=30)
    campaign = campaigns.create_campaign(
        db, questionnaire, "回答なし調査", closes, audit.CLI_ACTOR, campaigns.make_scope("13")
    )
    db.commit()
    page = client.get(f"/admin/campaigns/{campaign.id}/study-report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "まだ回答がありません" in html and _stat(html, "respondents") == 0
    assert _stat(html, "non-respondents") == 1
    pdf = client.get(f"/admin/campaigns/{campaign.id}/study-report.pdf")
    assert pdf.status_code == 200 and "まだ回答がありません" in _pdf_text(pdf.data)


def test_unknown_campaign_or_hearing_is_404(client, admin):
    assert client.get("/admin/campaigns/9999/study-report").status_code == 404
    assert client.get("/admin/campaigns/9999/study-report.pdf").status_code == 404
    assert client.get("/admin/hearings/nosuch-2026.1/study-report").status_code == 404
    assert client.get("/admin/hearings/..%2Fv2026.1/study-report.pdf").status_code == 404


def test_hearing_report_counts_its_respondent_category_only(
    client, db, admin, make_facility, answer
):
    hearing = load_version("obstetric-2026.1")
    units = [
        make_facility(name=f"産科{n}レディースクリニック", category="obstetric") for n in range(3)
    ]
    answer(make_facility(name="精神科のクリニック"))  # another category: not in this report
    values = {"answered_by": "助産師 佐藤"}
    submit_answers(db, units[0], hearing, values | {"epds_use": "all"}, audit.CLI_ACTOR, 0)
    submit_answers(db, units[1], hearing, values | {"epds_use": "some"}, audit.CLI_ACTOR, 0)
    db.commit()
    page = client.get("/admin/hearings/obstetric-2026.1/study-report").get_data(as_text=True)
    assert _stat(page, "in-scope") == 3 and _stat(page, "respondents") == 2
    assert _counts(page, "epds_use") == {
        "all": (1, "50.0"),
        "some": (1, "50.0"),
        "no": (0, "0.0"),
    }
    assert "助産師 佐藤" in page  # staff version: the professional-only respondent is listed
    # without an acceptance question, the map tells respondents from the others
    assert "回答状況の地図" in page
    index = client.get("/admin/study-reports").get_data(as_text=True)
    assert 'data-version="obstetric-2026.1"' in index


def test_integer_summary_and_bins():
    assert summarise([]) is None
    one = summarise([5])
    assert (one.n, one.minimum, one.median, one.maximum) == (1, 5, 5, 5)
    values = [0, 3, 7, 10, 14, 30, 60]
    summary = summarise(values)
    assert summary.median == statistics.median(values) == 10
    assert sum(b.count for b in summary.bins) == len(values) and len(summary.bins) <= 8
    assert [b.label for b in bins([1, 2, 3])] == ["1", "2", "3"]
    assert bins([0, 95])[0].low == 0 and bins([0, 95])[-1].high >= 95


def test_campaign_page_dashboard_and_menu_link_to_the_report(client, admin, survey):
    campaign, _f = survey
    detail = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert f"/admin/campaigns/{campaign.id}/study-report.pdf?audience=public" in detail
    dashboard = client.get("/admin/").get_data(as_text=True)
    assert 'id="study-reports-link"' in dashboard and "/admin/study-reports" in dashboard
    index = client.get("/admin/study-reports").get_data(as_text=True)
    assert f'data-campaign="{campaign.id}"' in index and "2026年度 受入れ調査" in index


def test_english_report_page_and_pdf(client, admin, survey):
    campaign, _f = survey
    page = client.get(f"/admin/campaigns/{campaign.id}/study-report?lang=en")
    html = page.get_data(as_text=True)
    assert "Study group report" in html and "Do you see pregnant patients?" in html
    pdf = client.get(f"/admin/campaigns/{campaign.id}/study-report.pdf")
    assert "Study group report" in _pdf_text(pdf.data)


def test_hearing_campaign_report_covers_its_category(client, db, admin, make_facility, answer):
    hearing = load_version("obstetric-2026.1")
    units = [make_facility(name=f"産科{n}クリニック", category="obstetric") for n in range(2)]
    answer(make_facility(name="精神科クリニック"))
    closes = today_in_japan() + timedelta(days=30)
    campaign = campaigns.create_campaign(
        db, hearing, "産科ヒアリング2026", closes, audit.CLI_ACTOR, campaigns.make_scope("13")
    )
    db.commit()
    values = {"answered_by": "助産師 佐藤", "epds_use": "no", "barriers_note": "紹介先が遠い"}
    submit_answers(db, units[0], hearing, values, audit.CLI_ACTOR, 0)
    db.commit()
    page = client.get(f"/admin/campaigns/{campaign.id}/study-report").get_data(as_text=True)
    assert _stat(page, "in-scope") == 2 and _stat(page, "respondents") == 1
    assert _counts(page, "epds_use")["no"] == (1, "100.0")
    assert "紹介先が遠い" in page and "産科0クリニック" in page
    assert "audience=public" not in page
    for url in (
        f"/admin/campaigns/{campaign.id}/study-report",
        f"/admin/campaigns/{campaign.id}/study-report.pdf",
    ):
        public = client.get(url, query_string={"audience": "public"})
        assert public.status_code == 400
        html = public.get_data(as_text=True)
        assert "ヒアリングの回答は公開しません" in html and "紹介先が遠い" not in html
    detail = client.get(f"/admin/campaigns/{campaign.id}").get_data(as_text=True)
    assert 'id="study-report-links"' in detail and "audience=public" not in detail
    index = client.get("/admin/study-reports").get_data(as_text=True)
    entry = re.search(rf'<li data-campaign="{campaign.id}">.*?</li>', index, re.S).group(0)
    assert "audience=public" not in entry


def test_partner_links_are_counted_per_facility_not_shown_as_raw_data(
    client, db, admin, make_facility, answer
):
    units = [
        make_facility(name="亀戸レディースクリニック", category="obstetric"),
        make_facility(name="江東さくら産院", category="obstetric"),
    ]
    clinics = [make_facility(name=f"連携テストクリニック{n}") for n in range(3)]
    answer(clinics[0], partner_facilities=[str(units[0].id), str(units[1].id)])
    answer(clinics[1], partner_facilities=[str(units[0].id)])
    answer(clinics[2])  # names no partner
    page = client.get("/admin/hearings/2026.2/study-report").get_data(as_text=True)
    shown = _counts(page, "partner_facilities")
    # shares of the two facilities that named a partner
    assert shown == {str(units[0].id): (2, "100.0"), str(units[1].id): (1, "50.0")}
    item = _article(page, "partner_facilities")
    assert "亀戸レディースクリニック" in item and "江東さくら産院" in item
    assert "回答 2件、無回答・対象外 1件" in item
    assert "{'id'" not in page and "&#39;id&#39;" not in page and "'name'" not in page
    assert re.search(r'<svg[^>]*id="chart-partner_facilities"', item)

    text = _pdf_text(client.get("/admin/hearings/2026.2/study-report.pdf").data)
    assert "亀戸レディースクリニック" in text and "2件（100.0%）" in text
    assert "1件（50.0%）" in text and "'id'" not in text and "{" not in text


def test_hearing_reports_have_no_public_version(client, db, admin, make_facility):
    hearing = load_version("municipal-2026.1")
    town = make_facility(name="江東区こども家庭センター", category="municipal", kind="")
    values = {"contact_unit": "family_center", "answered_by": "保健師 田中"}
    values["needs_note"] = "江東区の独自の取り組み"
    submit_answers(db, town, hearing, values, audit.CLI_ACTOR, 0)
    db.commit()
    for url in (
        "/admin/hearings/municipal-2026.1/study-report",
        "/admin/hearings/municipal-2026.1/study-report.pdf",
    ):
        refused = client.get(url, query_string={"audience": "public", "lang": "ja"})
        assert refused.status_code == 400
        html = refused.get_data(as_text=True)
        assert "ヒアリングの回答は公開しません" in html and "江東区の独自の取り組み" not in html
        english = client.get(url, query_string={"audience": "public", "lang": "en"})
        assert "Hearing answers are not public" in english.get_data(as_text=True)
        assert english.status_code == 400
    staff = client.get("/admin/hearings/municipal-2026.1/study-report").get_data(as_text=True)
    assert "江東区の独自の取り組み" in staff and "audience=public" not in staff
    index = client.get("/admin/study-reports").get_data(as_text=True)
    entry = re.search(r'<li data-version="municipal-2026.1">.*?</li>', index, re.S).group(0)
    assert "audience=public" not in entry and "study-report.pdf" in entry
    psychiatric = re.search(r'<li data-version="2026.1">.*?</li>', index, re.S).group(0)
    assert "audience=public" in psychiatric


def test_hearing_report_counts_the_prefecture_only(client, db, admin, make_facility):
    make_facility(name="都内の産科", category="obstetric")
    make_facility(
        name="県外の産科", category="obstetric", prefecture_code="14", municipality_code="14101"
    )
    page = client.get("/admin/hearings/obstetric-2026.1/study-report").get_data(as_text=True)
    assert _stat(page, "in-scope") == 1


def test_many_partner_bars_stay_on_the_pdf_pages(client, db, admin, make_facility, answer):
    units = [make_facility(name=f"産科連携{n:02d}医院", category="obstetric") for n in range(60)]
    ids = [str(u.id) for u in units]
    answer(make_facility(name="連携の多いクリニック"), partner_facilities=ids[:30])
    answer(make_facility(name="もう一つのクリニック"), partner_facilities=ids[30:])
    data = client.get("/admin/hearings/2026.2/study-report.pdf").data
    document = pypdfium2.PdfDocument(data)
    for page in document:
        height = page.get_height()
        for obj in page.get_objects():
            _left, bottom, _right, top = obj.get_bounds()
            assert bottom >= 0 and top <= height  # nothing drawn past the foot of a page
    document.close()
    text = _pdf_text(data)
    assert all(f"産科連携{n:02d}医院" in text for n in range(60))


def test_map_of_respondents_far_apart_draws_the_nearest_group_and_counts_the_rest(
    client, db, admin, questionnaire, make_facility
):
    # Their midpoint lies at sea: no facility is near it.
    mainland = make_facility(name="亀戸こころクリニック", municipality_code="13108")
    island = make_facility(
        name="八丈島こころの診療所", municipality_code="13401", lat=33.11, lng=139.79
    )
    closes = today_in_japan() + timedelta(days=30)
    campaign = campaigns.create_campaign(
        db, questionnaire, "島しょ部を含む調査", closes, audit.CLI_ACTOR, campaigns.make_scope("13")
    )
    db.commit()
    _answer(db, questionnaire, mainland, pregnant="yes")
    _answer(db, questionnaire, island, pregnant="no")
    page = client.get(f"/admin/campaigns/{campaign.id}/study-report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _stat(html, "respondents") == 2
    assert "地図の範囲外（島しょ部など）: 1件。" in html  # 八丈島, counted beside the map
    pdf = client.get(f"/admin/campaigns/{campaign.id}/study-report.pdf")
    assert pdf.status_code == 200
