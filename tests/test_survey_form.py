"""The WTForms form built from the questionnaire."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from surveys.forms import build_form_class, form_data_from_answers

VALID = {
    "pregnant": "yes",
    "postpartum": "conditional",
    "visibility": "public",
    "answered_by": "看護師 佐藤",
}


def _form(questionnaire, data, lang="ja"):
    return build_form_class(questionnaire, lang)(MultiDict(data))


def test_survey_form_has_a_field_per_item(questionnaire):
    form = _form(questionnaire, {})
    for item in questionnaire.items:
        assert item.key in form, item.key
    assert form.pregnant.type == "RadioField"
    assert form.languages.type == "SelectMultipleField"
    assert form.note_for_referrers.type == "TextAreaField"


def test_survey_form_valid_answers(questionnaire):
    form = _form(
        questionnaire,
        [*VALID.items(), ("pregnant_trimester", "second"), ("pregnant_trimester", "third")],
    )
    assert form.validate(), form.errors
    assert form.answers()["pregnant_trimester"] == ["second", "third"]


def test_survey_form_required_and_range_errors_in_japanese(questionnaire):
    form = _form(questionnaire, {"pregnant": "yes", "wait_days": "abc"})
    assert not form.validate()
    assert form.errors["postpartum"] == ["回答してください。"]
    assert form.errors["wait_days"] == ["半角数字で入力してください。"]


def test_survey_form_errors_in_english(questionnaire):
    form = _form(questionnaire, {}, lang="en")
    assert not form.validate()
    assert form.errors["pregnant"] == ["Please answer this question."]
    assert form.pregnant.label.text == "Do you see pregnant patients?"


def test_survey_form_conditional_question_ignored_when_not_asked(questionnaire):
    data = dict(VALID, pregnant="no", pregnant_trimester="first", pregnant_conditions="x" * 900)
    form = _form(questionnaire, data)
    assert form.validate(), form.errors
    assert form.answers()["pregnant_trimester"] == []
    assert form.answers()["pregnant_conditions"] is None


def test_survey_form_conditional_question_checked_when_asked(questionnaire):
    form = _form(questionnaire, dict(VALID, pregnant="conditional", pregnant_conditions="x" * 900))
    assert not form.validate()
    assert form.errors["pregnant_conditions"] == ["500文字以内で入力してください。"]


def test_survey_form_prefill_from_stored_answers(questionnaire):
    stored, _ = questionnaire.clean(dict(VALID, wait_days=21, languages=["en"]))
    form = build_form_class(questionnaire)(data=form_data_from_answers(questionnaire, stored))
    assert form.wait_days.data == "21"
    assert form.languages.data == ["en"]
    assert form.pregnant.data == "yes"
