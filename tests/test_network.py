"""The network: partner links chosen from the directory, both facilities' pages, the partner_of
preference in the search, and the contact point of the municipality searched."""

from __future__ import annotations

import logging
import re
import threading
from contextlib import contextmanager
from datetime import date
from urllib.parse import quote, quote_plus, urlencode
from urllib.request import urlopen

import numpy as np
import pytest
from sqlmodel import select
from werkzeug.serving import make_server

from index.ranking import WEIGHTS, Candidates, penalty, reasons_for
from surveys import audit
from surveys.demo import add_partner_links
from surveys.errors import AnswerError, QuestionnaireError
from surveys.exports import ExportOptions, export_facilities
from surveys.models import Facility, SurveyResponse
from surveys.operations import current_response, submit_answers
from surveys.questionnaire import parse
from tests.conftest import BASE
from tests.test_clinic_portal import ANSWERS, _enter, _post_survey, _versions
from tests.test_exports import csv_rows

KAMEIDO = (35.6975, 139.8262)  # 東京都江東区亀戸八丁目 (the test facilities' default point)


@pytest.fixture
def unit(make_facility):
    """An obstetric unit in 江東区."""
    return make_facility(
        name="亀戸さくら産婦人科",
        kana="カメイドサクラサンフジンカ",
        category="obstetric",
        departments="産婦人科",
        lat=35.6990,
        lng=139.8300,
    )


def _links(facility_id: int, name: str) -> list[dict]:
    return [{"id": facility_id, "name": name}]


# --- the questionnaire item ------------------------------------------------------------------


def _definition(**item) -> dict:
    row = {"key": "partners", "type": "facility_links", "label_ja": "連携", "label_en": "P"}
    section = {"key": "s", "title_ja": "節", "title_en": "S", "items": [{**row, **item}]}
    return {"version": "t", "title_ja": "題", "title_en": "T", "sections": [section]}


def test_facility_links_item_needs_a_category_and_is_no_filter():
    assert parse(_definition(category="obstetric")).item("partners").category == "obstetric"
    with pytest.raises(QuestionnaireError, match="category"):
        parse(_definition())
    with pytest.raises(QuestionnaireError, match="filter"):
        parse(_definition(category="obstetric", filter=True))
    text = {"key": "x", "type": "text", "label_ja": "x", "label_en": "x", "category": "obstetric"}
    with pytest.raises(QuestionnaireError, match="only a facility_links item"):
        parse(_definition(category="obstetric") | {"sections": [{**_section(text)}]})


def _section(item: dict) -> dict:
    return {"key": "s", "title_ja": "節", "title_en": "S", "items": [item]}


def test_facility_links_clean_keeps_ids_and_names_and_refuses_others(questionnaire):
    directory = {"obstetric": {3: "A産婦人科", 4: "B産院"}}
    cleaned, errors = questionnaire.clean(
        {**BASE, "pregnant": "no", "partner_facilities": ["4", "3", "4"]}, directory=directory
    )
    assert not errors
    assert cleaned["partner_facilities"] == [
        {"id": 4, "name": "B産院"},
        {"id": 3, "name": "A産婦人科"},
    ]
    for forged in (["5"], ["3", "abc"], ["-3"], [{"id": True, "name": "x"}]):
        _cleaned, errors = questionnaire.clean(
            {**BASE, "pregnant": "no", "partner_facilities": forged}, "en", directory
        )
        assert errors["partner_facilities"].startswith("One of the facilities cannot be chosen")


# --- the clinic form --------------------------------------------------------------------------


def test_clinic_picks_partner_without_javascript_and_a_forged_id_is_refused(
    client, db, make_facility, make_invitation, unit
):
    clinic = make_facility(name="亀戸こころのクリニック")
    general = make_facility(name="江東総合病院", departments="精神科,産婦人科", kind="hospital")
    other_psychiatric = make_facility(name="隣のメンタルクリニック")
    _enter(client, make_invitation(clinic))
    page = client.get(f"/clinic/facilities/{clinic.id}/survey").get_data(as_text=True)
    # Check boxes grouped by municipality: obstetric units and hospitals with obstetrics only.
    assert re.search(rf'type="checkbox" name="partner_facilities" [^>]*value="{unit.id}"', page)
    assert re.search(rf'name="partner_facilities" [^>]*value="{general.id}"', page)
    assert f'value="{other_psychiatric.id}"' not in page
    assert "<summary>江東区（2）</summary>" in page

    forged = _post_survey(
        client, clinic.id, {**ANSWERS, "partner_facilities": other_psychiatric.id}
    )
    assert forged.status_code == 422
    assert "選べない医療機関が含まれています" in forged.get_data(as_text=True)
    assert _versions(db, clinic.id) == []  # nothing stored half-way

    saved = _post_survey(client, clinic.id, {**ANSWERS, "partner_facilities": [unit.id]})
    assert saved.status_code == 302
    stored = _versions(db, clinic.id)[-1].answers["partner_facilities"]
    assert stored == _links(unit.id, "亀戸さくら産婦人科")
    again = client.get(f"/clinic/facilities/{clinic.id}/survey").get_data(as_text=True)
    chosen = again.split('class="choices links-chosen"')[1].split("</ul>")[0]
    assert f'value="{unit.id}" checked' in chosen and "亀戸さくら産婦人科" in chosen


def test_submit_answers_refuses_a_facility_not_offered(db, make_facility, questionnaire, unit):
    clinic = make_facility()
    with pytest.raises(Exception) as refused:
        submit_answers(
            db,
            clinic,
            questionnaire,
            {**BASE, "pregnant": "no", "partner_facilities": [clinic.id]},
            audit.CLI_ACTOR,
            0,
        )
    assert "partner_facilities" in refused.value.errors
    db.rollback()
    assert current_response(db, clinic.id) is None


def test_a_link_no_longer_offered_is_kept_only_by_the_facility_that_named_it(
    db, make_facility, answer, questionnaire, unit
):
    named, other = make_facility(), make_facility()
    answer(named, partner_facilities=[unit.id])
    row = db.get(Facility, unit.id)
    row.category, row.departments = "psychiatric", "精神科"  # no longer a partner kind
    db.add(row)
    db.commit()
    again = {**BASE, "pregnant": "no", "partner_facilities": [unit.id], "answered_by": "y"}
    kept = submit_answers(db, named, questionnaire, again, audit.CLI_ACTOR, 1)
    assert [link["id"] for link in kept.answers["partner_facilities"]] == [unit.id]
    db.commit()
    with pytest.raises(AnswerError) as refused:
        submit_answers(db, other, questionnaire, again, audit.CLI_ACTOR, 0)
    assert "partner_facilities" in refused.value.errors
    db.rollback()
    assert current_response(db, other.id) is None


# --- the pages --------------------------------------------------------------------------------


def test_partner_link_shows_on_both_pages_current_answers_only(
    client, db, login, make_user, make_facility, answer, unit
):
    clinic = make_facility(name="亀戸こころのクリニック")
    answer(clinic, partner_facilities=[unit.id])
    login(make_user("staff"))
    psychiatric = client.get(f"/facilities/{clinic.id}").get_data(as_text=True)
    assert "連携している産科医療機関（一覧から選ぶ）" in psychiatric
    assert f'<a href="/facilities/{unit.id}">亀戸さくら産婦人科</a>' in psychiatric

    obstetric = client.get(f"/facilities/{unit.id}").get_data(as_text=True)
    assert "この産科と連携している医療機関" in obstetric
    assert f'<a href="/facilities/{clinic.id}">亀戸こころのクリニック</a>' in obstetric
    button = re.search(r'href="([^"]+)">この産科と連携する医療機関を近くで探す', obstetric)
    assert f"partner_of={unit.id}" in button.group(1).replace("&amp;", "&")

    answer(clinic, base=1, partner_facilities=[])  # the clinic no longer names it
    obstetric = client.get(f"/facilities/{unit.id}").get_data(as_text=True)
    assert "亀戸こころのクリニック" not in obstetric
    assert "連携先として選んでいる医療機関はまだありません" in obstetric


def test_public_sees_the_link_both_ways_but_no_professionals_only_listing(
    client, make_facility, answer, unit
):
    public = make_facility(name="亀戸こころのクリニック")
    private = make_facility(name="関係者限定クリニック")
    answer(public, partner_facilities=[unit.id])
    answer(private, partner_facilities=[unit.id], visibility="professionals")
    html = client.get(f"/facilities/{public.id}").get_data(as_text=True)
    assert f'<a href="/facilities/{unit.id}">亀戸さくら産婦人科</a>' in html
    obstetric = client.get(f"/facilities/{unit.id}").get_data(as_text=True)
    assert "亀戸こころのクリニック" in obstetric
    assert "関係者限定クリニック" not in obstetric


def test_removed_partner_keeps_its_name_and_says_so(
    client, db, login, make_user, make_facility, answer, unit, questionnaire
):
    clinic = make_facility()
    answer(clinic, partner_facilities=[unit.id])
    db.delete(db.get(Facility, unit.id))
    db.commit()
    login(make_user("staff"))
    html = client.get(f"/facilities/{clinic.id}").get_data(as_text=True)
    assert "亀戸さくら産婦人科（掲載終了）" in html
    assert f'href="/facilities/{unit.id}"' not in html
    assert current_response(db, clinic.id).answers["partner_facilities"][0]["name"] == (
        "亀戸さくら産婦人科"
    )


def test_partner_that_no_longer_qualifies_is_named_as_such(
    client, db, login, make_user, make_facility, answer, unit
):
    clinic = make_facility()
    answer(clinic, partner_facilities=[unit.id])
    row = db.get(Facility, unit.id)
    row.category, row.departments = "psychiatric", "精神科"  # still listed, no obstetrics
    db.add(row)
    db.commit()
    login(make_user("staff"))
    html = client.get(f"/facilities/{clinic.id}").get_data(as_text=True)
    assert "亀戸さくら産婦人科（連携先の対象外）" in html and "（掲載終了）" not in html
    english = client.get(f"/facilities/{clinic.id}?lang=en").get_data(as_text=True)
    assert "(no longer a partner kind)" in english


def test_removed_partner_is_explained_on_the_clinic_form(
    client, db, make_facility, make_invitation, answer, unit
):
    clinic = make_facility()
    answer(clinic, partner_facilities=[unit.id])
    db.delete(db.get(Facility, unit.id))
    db.commit()
    _enter(client, make_invitation(clinic))
    page = client.get(f"/clinic/facilities/{clinic.id}/survey").get_data(as_text=True)
    assert "掲載が終了した、または連携先として選べなくなった医療機関: 亀戸さくら産婦人科" in page
    assert "保存しても回答に残り" in page
    chosen = page.split('class="choices links-chosen"')[1].split("</ul>")[0]
    assert f'value="{unit.id}" checked' in chosen and "（掲載終了）" in chosen
    # Re-saving keeps the link with its stored name (the box stays ticked) ...
    kept = _post_survey(client, clinic.id, {**ANSWERS, "partner_facilities": [unit.id]})
    assert kept.status_code == 302
    assert _versions(db, clinic.id)[-1].answers["partner_facilities"] == _links(
        unit.id, "亀戸さくら産婦人科"
    )
    # ... an id never stored is still refused, nothing stored half-way ...
    forged = _post_survey(client, clinic.id, {**ANSWERS, "partner_facilities": [unit.id + 99]})
    assert forged.status_code == 422 and len(_versions(db, clinic.id)) == 2
    # ... and unticking it removes it.
    saved = _post_survey(client, clinic.id, ANSWERS)
    assert saved.status_code == 302
    assert _versions(db, clinic.id)[-1].answers["partner_facilities"] == []


def test_export_and_audit_render_partner_names(
    client, db, make_facility, answer, unit, questionnaire, admin
):
    clinic = make_facility(name="亀戸こころのクリニック")
    answer(clinic, partner_facilities=[unit.id])
    export = export_facilities(db, questionnaire, ExportOptions(format="csv"), audit.CLI_ACTOR)
    db.commit()
    rows = csv_rows(export.content)
    column = rows[0].index("連携している産科医療機関（一覧から選ぶ）")
    row = next(r for r in rows if "亀戸こころのクリニック" in r)
    assert row[column] == f"亀戸さくら産婦人科 (ID {unit.id})"
    text = client.get("/admin/audit?action=survey.answer").get_data(as_text=True)
    assert f"亀戸さくら産婦人科 (ID {unit.id})" in text


# --- the search -------------------------------------------------------------------------------


@pytest.fixture
def twins(make_facility, answer, unit):
    """Two clinics with equal answers at equal distance from 亀戸; only the second names the
    obstetric unit (and would come second by name)."""
    lat, lng = KAMEIDO
    first = make_facility(name="あおばメンタルクリニック", kana="アオバ", lat=lat + 0.01, lng=lng)
    second = make_facility(name="わかばメンタルクリニック", kana="ワカバ", lat=lat - 0.01, lng=lng)
    for clinic in (first, second):
        answer(clinic, wait_days=7, partner_facilities=[unit.id] if clinic is second else [])
    return first, second


def _search(client, **params):
    response = client.get("/api/v1/search", query_string=params)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_partner_of_moves_a_partner_ahead_of_an_equal_non_partner(client, twins, unit, reindex):
    reindex()
    lat, lng = KAMEIDO
    plain = _search(client, lat=lat, lng=lng)
    assert [r["name"] for r in plain["results"]] == [twins[0].name, twins[1].name]
    preferred = _search(client, lat=lat, lng=lng, partner_of=unit.id)
    assert [r["name"] for r in preferred["results"]] == [twins[1].name, twins[0].name]
    reasons = preferred["results"][0]["rank_reasons"]
    assert reasons[0] == {"kind": "partner", "value": None, "text": "紹介元の産科と連携あり"}
    assert all(r["kind"] != "partner" for r in preferred["results"][1]["rank_reasons"])
    english = _search(client, lat=lat, lng=lng, partner_of=unit.id, lang="en")
    assert english["results"][0]["rank_reasons"][0]["text"] == (
        "works with the referring obstetric unit"
    )


def test_search_page_from_the_obstetric_unit_prefers_its_partners(
    client, twins, unit, reindex, login, make_user
):
    reindex()
    login(make_user("staff"))
    obstetric = client.get(f"/facilities/{unit.id}").get_data(as_text=True)
    url = re.search(r'href="([^"]+)">この産科と連携する医療機関を近くで探す', obstetric).group(1)
    page = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
    assert "「亀戸さくら産婦人科」と連携している医療機関を優先して表示しています" in page
    assert page.index(twins[1].name) < page.index(twins[0].name)
    assert "紹介元の産科と連携あり" in page
    assert f'name="partner_of" type="hidden" value="{unit.id}"' in page  # kept when refined


@pytest.mark.parametrize("value", ["abc", "0", "-1", "1.5", "99999999999"])
def test_malformed_partner_of_gets_the_api_400_body(client, twins, reindex, value):
    reindex()
    response = client.get("/api/v1/search", query_string={"partner_of": value})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == ("invalid_parameter", "partner_of")
    assert "partner_of" in error["message"]
    page = client.get("/", query_string={"near": "亀戸", "partner_of": value})
    assert page.status_code == 400
    assert "連携先の産科（partner_of）は医療機関の番号" in page.get_data(as_text=True)


def test_partner_of_naming_no_obstetric_unit_prefers_nothing_and_says_so(
    client, db, twins, unit, reindex
):
    reindex()
    lat, lng = KAMEIDO
    for ident in (twins[0].id, 987654):  # a psychiatric clinic; no facility at all
        body = _search(client, lat=lat, lng=lng, partner_of=ident)
        assert [r["name"] for r in body["results"]] == [twins[0].name, twins[1].name]
        assert body["notice"]["code"] == "unknown_partner"
    page = client.get("/", query_string={"lat": lat, "lng": lng, "partner_of": 987654})
    assert "指定された産科医療機関（partner_of）は掲載されていないため" in page.get_data(
        as_text=True
    )
    # A bookmarked search for a unit removed since still works, without the preference.
    db.delete(db.get(Facility, unit.id))
    db.commit()
    body = _search(client, lat=lat, lng=lng, partner_of=unit.id)
    assert body["notice"]["code"] == "unknown_partner"
    assert all(r["kind"] != "partner" for x in body["results"] for r in x["rank_reasons"])


# --- the contact point of the municipality searched -------------------------------------------


@pytest.fixture
def contact(make_facility):
    """江東区's こども家庭センター (a municipal contact point)."""
    return make_facility(
        name="江東区こども家庭センター",
        kana="コウトウクコドモカテイセンター",
        category="municipal",
        kind="family_center",
        municipality_code="131083",
        phone="03-3647-0000",
        hours="平日 8:30〜17:15",
    )


def test_contact_point_shows_for_a_search_in_its_municipality_only(client, contact, twins, reindex):
    reindex()
    page = client.get("/", query_string={"near": "東京都江東区亀戸八丁目"}).get_data(as_text=True)
    assert "お住まいの地域の相談窓口" in page
    section = page.split('class="card local-contacts"')[1].split("</section>")[0]
    assert "江東区こども家庭センター" in section and "江東区" in section
    assert 'href="tel:0336470000"' in section and "平日 8:30〜17:15" in section
    body = _search(client, near="東京都江東区亀戸八丁目")
    assert body["local_contacts"] == {
        "municipality_code": "13108",
        "municipality": "江東区",
        "contact_points": [
            {
                "id": contact.id,
                "name": "江東区こども家庭センター",
                "kind": "family_center",
                "phone": "03-3647-0000",
                "hours": "平日 8:30〜17:15",
                "address": contact.address,
            }
        ],
    }
    assert _search(client, lat=KAMEIDO[0], lng=KAMEIDO[1])["local_contacts"]["municipality"] == (
        "江東区"
    )
    # 錦糸町駅 is in 墨田区, which has no contact point listed: nothing shown.
    other = client.get("/", query_string={"near": "錦糸町駅"}).get_data(as_text=True)
    assert "お住まいの地域の相談窓口" not in other
    assert _search(client, near="錦糸町駅")["local_contacts"] is None
    assert _search(client)["local_contacts"] is None


class _Lines(logging.Handler):
    """Keep every formatted log line (what a log file would hold)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record as a log file would print it."""
        self.lines.append(self.format(record))


@contextmanager
def _served_logs(app):
    """Serve the app on a localhost port (werkzeug's server, request lines logged) and yield
    (base URL, the lines logged by the root, werkzeug and app loggers)."""
    handler = _Lines()
    loggers = [logging.getLogger(), logging.getLogger("werkzeug"), app.logger]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    app.extensions["pmh_engine"].dispose()
    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", handler.lines
    finally:
        server.shutdown()
        thread.join()
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def test_searched_address_is_not_in_the_served_apps_logs(app, contact, twins, reindex):
    reindex()
    place = "東京都江東区亀戸八丁目"
    with _served_logs(app) as (base, lines):
        for path in ("/", "/api/v1/search"):
            url = f"{base}{path}?{urlencode({'near': place, 'lat': '', 'lng': ''})}"
            with urlopen(url, timeout=30) as response:  # localhost only
                assert response.status == 200
                assert "江東区こども家庭センター" in response.read().decode()
    logged = "\n".join(lines)
    assert "GET /?[redacted]" in logged  # the request lines were captured
    for secret in (place, quote(place), quote_plus(place), "near=", "亀戸"):
        assert secret not in logged


def test_english_results_page_names_the_contact_point_section(client, contact, twins, reindex):
    reindex()
    page = client.get("/", query_string={"near": "江東区", "lang": "en"}).get_data(as_text=True)
    assert "Contact points where you live" in page


# --- demo -------------------------------------------------------------------------------------


def test_demo_partner_links_name_nearby_obstetric_units(db, make_facility, answer, questionnaire):
    unit = make_facility(name="デモ産婦人科", category="obstetric", departments="産婦人科")
    far = make_facility(name="遠くの産院", category="obstetric", lat=35.66, lng=139.30)
    clinics = [make_facility() for _ in range(12)]
    for clinic in clinics:
        answer(clinic)
    named = add_partner_links(db, questionnaire, seed=7)
    db.commit()
    assert 0 < named < len(clinics)
    stored = [r.answers["partner_facilities"] for r in db.exec(select(SurveyResponse))]
    assert sum(1 for links in stored if links) == named
    assert all(link["id"] == unit.id for links in stored for link in links)
    assert all(link["id"] != far.id for links in stored for link in links)


def test_seed_demo_command_links_clinics_to_its_obstetric_units(app, db, client, login, make_user):
    result = app.test_cli_runner().invoke(args=["seed-demo", "--clinics", "40", "--seed", "3"])
    assert result.exit_code == 0, result.output
    named = int(re.search(r"Partner links: (\d+) answers", result.output).group(1))
    assert named > 0
    units = {f.id for f in db.exec(select(Facility).where(Facility.category == "obstetric"))}
    linked = [
        link
        for r in db.exec(select(SurveyResponse))
        for link in r.answers.get("partner_facilities") or []
    ]
    assert linked and {link["id"] for link in linked} <= units
    login(make_user("staff"))
    page = client.get(f"/facilities/{linked[0]['id']}").get_data(as_text=True)
    assert "この産科と連携している医療機関" in page and "連携先として選んでいる" not in page


def test_partner_term_moves_a_partner_up_by_its_documented_weight():
    same = {
        "distance_km": np.array([2.0, 2.0]),
        "strength": np.array([2, 2]),
        "age_days": np.array([30.0, 30.0]),
        "wait_days": np.array([7.0, 7.0]),
        "open_reports": np.array([0, 0]),
        "accepts": np.array([True, True]),
    }
    scores = penalty(Candidates(**same, partner=np.array([False, True])))
    assert scores[0] - scores[1] == pytest.approx(WEIGHTS.partner_km)
    assert list(penalty(Candidates(**same))) == [scores[0], scores[0]]
    reasons = reasons_for(True, 2, 2.0, 7, None, 0, date.today(), partner=True)
    assert [r.kind for r in reasons][:2] == ["partner", "distance"]


# --- a partner listed for professionals only --------------------------------------------------


def test_professionals_only_partner_never_reaches_the_public(
    client, make_facility, answer, reindex, login, make_user
):
    clinic = make_facility(name="亀戸こころのクリニック")
    general = make_facility(name="江東総合病院", departments="精神科,産婦人科", kind="hospital")
    answer(general, visibility="professionals")
    answer(clinic, partner_facilities=[general.id])
    reindex()
    page = client.get(f"/facilities/{clinic.id}").get_data(as_text=True)
    assert "江東総合病院" not in page
    detail = client.get(f"/api/v1/facilities/{clinic.id}").get_json()
    assert detail["answers"]["partner_facilities"] == []
    assert "江東総合病院" not in str(_search(client, lat=KAMEIDO[0], lng=KAMEIDO[1]))
    assert _search(client, q="江東総合病院")["results"] == []
    login(make_user("staff"))
    page = client.get(f"/facilities/{clinic.id}").get_data(as_text=True)
    assert f'<a href="/facilities/{general.id}">江東総合病院</a>' in page
    found = _search(client, q="江東総合病院")["results"]
    assert clinic.name in [r["name"] for r in found]
    assert client.get(f"/api/v1/facilities/{clinic.id}").get_json()["answers"][
        "partner_facilities"
    ] == [{"id": general.id, "name": "江東総合病院"}]


def test_partner_note_shows_only_in_the_recommended_order(client, twins, unit, reindex):
    reindex()
    lat, lng = KAMEIDO
    note = "「亀戸さくら産婦人科」と連携している医療機関を優先して表示しています"
    params = {"lat": lat, "lng": lng, "partner_of": unit.id}
    assert note in client.get("/", query_string=params).get_data(as_text=True)
    for sort in ("name", "distance"):
        page = client.get("/", query_string={**params, "sort": sort}).get_data(as_text=True)
        assert note not in page


def test_other_contact_point_gets_its_kind_label(client, make_facility, twins, reindex):
    make_facility(
        name="江東区子育て相談室",
        category="municipal",
        kind="other_contact",
        municipality_code="131083",
        phone="03-3647-1111",
    )
    reindex()
    for lang, label in (("ja", "その他の相談窓口"), ("en", "Other contact point")):
        query = {"near": "東京都江東区亀戸八丁目", "lang": lang}
        page = client.get("/", query_string=query).get_data(as_text=True)
        section = page.split('class="card local-contacts"')[1].split("</section>")[0]
        assert f'<span class="muted">{label}</span>' in section


# --- which municipality's contact points ------------------------------------------------------

# Half-way between the nearest town points of 江東区 (森下) and 墨田区 (菊川) in the bundled data.
BORDER = (35.688645, 139.800396)


@pytest.fixture
def sumida_contact(make_facility):
    """墨田区's 保健センター."""
    return make_facility(
        name="墨田区保健センター",
        category="municipal",
        kind="health_center",
        municipality_code="131075",
        phone="03-5608-0000",
    )


def test_a_point_on_a_border_names_no_municipality_unless_the_caller_knows_it(
    client, contact, sumida_contact, twins, reindex
):
    reindex()
    lat, lng = BORDER
    assert _search(client, lat=lat, lng=lng)["local_contacts"] is None
    known = _search(client, lat=lat, lng=lng, place_municipality="131083")["local_contacts"]
    assert [p["name"] for p in known["contact_points"]] == ["江東区こども家庭センター"]
    known = _search(client, lat=lat, lng=lng, place_municipality="13107")["local_contacts"]
    assert [p["name"] for p in known["contact_points"]] == ["墨田区保健センター"]
    # Clearly inside one municipality, the point alone still names it.
    inside = _search(client, lat=KAMEIDO[0], lng=KAMEIDO[1])["local_contacts"]
    assert inside["municipality"] == "江東区"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("99999", "unknown_municipality"),
        ("131084", "unknown_municipality"),  # a wrong check digit
        ("1310", "invalid_parameter"),
        ("江東区", "invalid_parameter"),
    ],
)
def test_bad_place_municipality_gets_a_clear_400(client, twins, reindex, value, code):
    reindex()
    query = {"lat": BORDER[0], "lng": BORDER[1], "place_municipality": value}
    error = client.get("/api/v1/search", query_string=query).get_json()["error"]
    assert (error["code"], error["field"]) == (code, "place_municipality")
    page = client.get("/", query_string=query)
    assert page.status_code == 400
    assert "市区町村コード" in page.get_data(as_text=True)


def test_obstetric_units_search_shows_its_own_municipalitys_contact_point(
    client, make_facility, contact, sumida_contact, twins, reindex
):
    border_unit = make_facility(
        name="森下産婦人科",
        category="obstetric",
        departments="産婦人科",
        municipality_code="131083",
        lat=BORDER[0],
        lng=BORDER[1],
    )
    reindex()
    obstetric = client.get(f"/facilities/{border_unit.id}").get_data(as_text=True)
    url = re.search(r'href="([^"]+)">この産科と連携する医療機関を近くで探す', obstetric).group(1)
    page = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
    section = page.split('class="card local-contacts"')[1].split("</section>")[0]
    assert "江東区こども家庭センター" in section and "墨田区保健センター" not in section
    assert 'name="place_municipality" type="hidden" value="131083"' in page  # kept when refined
