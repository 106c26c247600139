"""The questionnaire definition: loading, validation with clear errors, cleaning answers."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from surveys.errors import QuestionnaireError
from surveys.forms import form_data_from_answers
from surveys.questionnaire import (
    QUESTIONNAIRE_DIR,
    available_versions,
    load_file,
    load_version,
    parse,
    stored_edition,
)

BUNDLED = QUESTIONNAIRE_DIR / "v2026.2.toml"

# Every item DESIGN.md section 4 asks for, by key.
DESIGN_ITEMS = {
    "pregnant",
    "pregnant_trimester",
    "pregnant_patients",
    "postpartum",
    "postpartum_patients",
    "pregnancy_rx",
    "breastfeeding_rx",
    "severity",
    "tier",
    "conditions",
    "referral_letter",
    "wait_days",
    "new_patients",
    "inpatient",
    "mother_baby_admission",
    "emergency",
    "psychotherapy",
    "cbt",
    "psw",
    "baby_ok",
    "child_space",
    "nursing_room",
    "wheelchair",
    "parking",
    "woman_doctor",
    "online",
    "languages",
    "partner_obstetrics",
    "high_risk_fee2",
    "contact_name",
    "contact_phone",
    "contact_fax",
    "jiritsu_shien",
    "note_for_referrers",
    "visibility",
    "answered_by",
}


def test_questionnaire_bundled_edition_has_every_design_item(questionnaire):
    keys = {item.key for item in questionnaire.items}
    assert keys >= DESIGN_ITEMS
    assert "2026.1" in available_versions()
    conditions = {c.value for c in questionnaire.item("conditions").choices}
    assert {"postpartum_psychosis", "tokophobia", "perinatal_loss", "ocd"} <= conditions


def test_questionnaire_items_have_both_languages_and_flags(questionnaire):
    for item in questionnaire.items:
        assert item.label_ja and item.label_en, item.key
        for choice in item.choices:
            assert choice.ja and choice.en, (item.key, choice.value)
    assert questionnaire.item("contact_fax").professional_only
    assert not questionnaire.item("pregnant").professional_only
    assert questionnaire.item("breastfeeding_rx").filter
    assert questionnaire.item("wait_days").search_param == "max_wait_days"
    assert "contact_fax" not in questionnaire.public_keys()


def _broken(tmp_path: Path, edit) -> str:
    """Apply `edit` to a copy of the bundled file's data, load it, return the error text."""
    data = tomllib.loads(BUNDLED.read_text(encoding="utf-8"))
    edit(data)
    with pytest.raises(QuestionnaireError) as info:
        parse(data, name="broken.toml")
    return info.value.message("en") + " | " + info.value.message("ja")


def _item(data, key):
    return next(i for s in data["sections"] for i in s["items"] if i["key"] == key)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda d: _item(d, "severity").update(type="slider"), "item 'severity'"),
        (
            lambda d: _item(d, "pregnant_trimester").update(
                show_if={"item": "pregnent", "values": ["yes"]}
            ),
            "item 'pregnant_trimester'",
        ),
        (
            lambda d: _item(d, "pregnant_trimester").update(
                show_if={"item": "pregnant", "values": ["maybe"]}
            ),
            "['maybe']",
        ),
        (lambda d: _item(d, "online").pop("label_en"), "item 'online'): 'label_en' is missing"),
        (lambda d: _item(d, "cbt").update(choices="nonexistent"), "unknown choice set"),
        (lambda d: _item(d, "cbt").update(key="online"), "item 'online'): the key is used twice"),
        (lambda d: _item(d, "parking").update(colour="red"), "item 'parking'): unknown field"),
        (lambda d: _item(d, "wait_days").update(choices="yes_no"), "item 'wait_days'"),
        (lambda d: d.pop("version"), "'version' is missing"),
        (lambda d: d["sections"][1].update(short_ja="x"), "section postpartum'): unknown field"),
    ],
)
def test_questionnaire_broken_definition_names_the_item(tmp_path, edit, expected):
    message = _broken(tmp_path, edit)
    assert expected in message
    assert "broken.toml" in message
    assert "質問票の定義に誤りがあります" in message


def test_questionnaire_unreadable_file_names_the_file(tmp_path):
    path = tmp_path / "v9.toml"
    path.write_text('version = "9"\n[[sections]\n', encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"v9\.toml"):
        load_file(path)


def test_questionnaire_clean_drops_answers_to_questions_not_asked(questionnaire):
    cleaned, errors = questionnaire.clean(
        {
            "pregnant": "no",
            "pregnant_trimester": ["first"],
            "postpartum": "yes",
            "visibility": "public",
            "answered_by": "事務 山田",
        }
    )
    assert errors == {}
    assert cleaned["pregnant_trimester"] == []
    assert cleaned["pregnant_patients"] is None


def test_questionnaire_clean_reports_each_problem(questionnaire):
    _cleaned, errors = questionnaire.clean(
        {
            "pregnant": "perhaps",
            "postpartum": "yes",
            "wait_days": "400",
            "answered_by": "  ",
            "languages": ["en", "xx"],
            "contact_name": "a\x00b",
        }
    )
    assert set(errors) == {
        "pregnant",
        "wait_days",
        "visibility",
        "answered_by",
        "languages",
        "contact_name",
    }
    assert errors["wait_days"] == "0〜365の範囲で入力してください。"
    assert errors["visibility"] == "回答してください。"


def test_questionnaire_clean_keeps_choice_order_and_numbers(questionnaire):
    cleaned, errors = questionnaire.clean(
        {
            "pregnant": "yes",
            "pregnant_trimester": ["third", "first"],
            "postpartum": "no",
            "wait_days": " 14 ",
            "visibility": "public",
            "answered_by": "x",
        }
    )
    assert errors == {}
    assert cleaned["pregnant_trimester"] == ["first", "third"]
    assert cleaned["wait_days"] == 14


def test_questionnaire_new_item_in_file_needs_no_code(tmp_path, questionnaire):
    from werkzeug.datastructures import MultiDict

    from surveys.forms import build_form_class

    data = tomllib.loads(BUNDLED.read_text(encoding="utf-8"))
    data["sections"][0]["items"].append(
        {
            "key": "doula_support",
            "type": "choice",
            "choices": "yes_no",
            "filter": True,
            "label_ja": "産後ドゥーラとの連携",
            "label_en": "Works with postpartum doulas",
        }
    )
    extended = parse(data, name="extended.toml")
    form = build_form_class(extended)(MultiDict({"doula_support": "yes"}))
    assert "産後ドゥーラとの連携" in form.doula_support.label.text
    assert form.answers()["doula_support"] == "yes"
    assert "doula_support" in {i.key for i in extended.items if i.filter}


@pytest.mark.parametrize(
    ("version", "respondent", "keys"),
    [
        ("obstetric-2026.1", "obstetric", {"epds_use", "epds_timing", "refer_to", "barriers"}),
        ("municipal-2026.1", "municipal", {"contact_unit", "follow_up", "needs"}),
    ],
)
def test_questionnaire_hearings_load_in_both_languages(version, respondent, keys):
    hearing = load_version(version)
    assert hearing.version == version and hearing.respondent == respondent
    assert version in available_versions()
    assert keys <= {item.key for item in hearing.items}
    assert hearing.title("ja") != hearing.title("en")
    for item in hearing.items:
        assert item.label_ja and item.label_en, item.key
        assert all(c.ja and c.en for c in item.choices), item.key
    assert hearing.clean({}, "en")[1]["answered_by"] == "Please answer this question."


def test_questionnaire_without_respondent_is_answered_by_psychiatric_facilities():
    source = dict(load_version("2026.2").source)
    source.pop("respondent", None)
    assert parse(source).respondent == "psychiatric"
    source["respondent"] = "obstetric"
    assert parse(source).respondent == "obstetric"


def test_questionnaire_2026_2_adds_partner_units_and_starts_from_2026_1_answers():
    first, second = load_version("2026.1"), load_version("2026.2")
    first_keys, second_keys = {i.key for i in first.items}, {i.key for i in second.items}
    assert second_keys - first_keys == {"partner_facilities"}
    assert {"2026.1", "2026.2"} <= set(available_versions())
    cleaned, _errors = first.clean({"pregnant": "yes", "partner_obstetrics": "森産院"})
    data = form_data_from_answers(second, cleaned)
    assert data["pregnant"] == "yes" and data["partner_obstetrics"] == "森産院"
    assert data["partner_facilities"] == []


def test_questionnaire_broken_hearing_file_is_refused_with_a_clear_message(tmp_path):
    source = QUESTIONNAIRE_DIR / "obstetric-2026.1.toml"
    text = source.read_text(encoding="utf-8")
    path = tmp_path / "obstetric-2027.1.toml"
    path.write_text(text.replace('respondent = "obstetric"', 'respondent = "midwife"'), "utf-8")
    with pytest.raises(QuestionnaireError) as info:
        load_file(path)
    assert "obstetric-2027.1.toml" in info.value.message("ja")
    assert "'respondent' must be one of" in info.value.message("en")
    path.write_text(text.replace('type = "multi"', 'type = "many"', 1), "utf-8")
    with pytest.raises(QuestionnaireError, match="item 'epds_timing'"):
        load_file(path)


def test_questionnaire_unknown_edition_is_refused():
    with pytest.raises(QuestionnaireError, match="no such questionnaire edition"):
        load_version("dentist-2026.1")


def test_an_edition_no_longer_bundled_is_read_from_its_stored_copy():
    source = dict(load_version("2026.1").source) | {"version": "2025.9"}
    with pytest.raises(QuestionnaireError):
        load_version("2025.9")
    edition = stored_edition("2025.9", source)
    assert edition.version == "2025.9" and edition.item("pregnant").label("ja")
    assert stored_edition("2026.2", {}).version == "2026.2"  # the bundled file first
