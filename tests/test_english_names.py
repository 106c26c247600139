"""English where it matters: romaji facility names from the master data, lists joined with
the language's own separator."""

from __future__ import annotations

import html
import re

from sqlmodel import select

from index.geo.gazetteer import municipalities
from surveys import audit, campaigns
from surveys.models import Facility
from surveys.operations import today_in_japan
from tests.test_import import CLINIC_HOURS, CLINICS, KAMEIDO, _edited, _import

KAMEIDO_ROW = (
    '"1311310000011","医療法人社団こころ会　亀戸こころのクリニック","カメイドココロノクリニック",'
    '"亀戸こころのクリニック","カメイドココロノクリニック",""'
)


def test_romaji_name_is_imported_and_shown_on_english_pages(app, client, db, tmp_path, answer):
    romaji = KAMEIDO_ROW[:-2] + '"Kameido Kokoro Clinic"'
    path = _edited(tmp_path, CLINICS, (KAMEIDO_ROW, romaji))
    result = _import(app, path, CLINIC_HOURS)
    assert result.exit_code == 0, result.output
    facility = db.exec(select(Facility).where(Facility.source_id == KAMEIDO)).one()
    assert facility.name_en == "Kameido Kokoro Clinic"
    answer(facility)

    english = client.get(f"/facilities/{facility.id}?lang=en").get_data(as_text=True)
    assert "<h1>Kameido Kokoro Clinic</h1>" in english
    assert (
        '<p class="muted" lang="ja">医療法人社団こころ会\u3000亀戸こころのクリニック</p>' in english
    )
    japanese = client.get(f"/facilities/{facility.id}?lang=ja").get_data(as_text=True)
    assert "<h1>医療法人社団こころ会\u3000亀戸こころのクリニック</h1>" in japanese
    assert "Kameido Kokoro Clinic" not in japanese


def test_lists_use_the_languages_separator(client, db, admin, questionnaire):
    scope = campaigns.make_scope("13", ["13107", "13108"], areas=municipalities("13"))
    campaign = campaigns.create_campaign(
        db, questionnaire, "墨田・江東", today_in_japan(), audit.CLI_ACTOR, scope
    )
    db.commit()
    english = html.unescape(
        client.get(f"/admin/campaigns/{campaign.id}?lang=en").get_data(as_text=True)
    )
    assert re.search(r"墨田区, 江東区", english)
    japanese = html.unescape(
        client.get(f"/admin/campaigns/{campaign.id}?lang=ja").get_data(as_text=True)
    )
    assert "墨田区、江東区" in japanese
