"""The survey form, built from a questionnaire definition (no code per question)."""

from __future__ import annotations

from typing import Any

from wtforms import (
    Form,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import StopValidation
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from surveys.network import stored_links
from surveys.questionnaire import Directory, Item, Questionnaire, clean_value


class QuestionnaireRule:
    """Validate one answer with the questionnaire's own rules; skip questions not asked."""

    def __init__(self, questionnaire: Questionnaire, item: Item, lang: str):
        self.questionnaire, self.item, self.lang = questionnaire, item, lang

    def __call__(self, form: SurveyFormMixin, field) -> None:
        """Raise StopValidation with a message when the answer breaks a rule."""
        if not self.questionnaire.is_shown(self.item, form.raw_answers()):
            field.errors[:] = []
            raise StopValidation()
        _value, error = clean_value(self.item, field.data, self.lang, form.directory)
        if error:
            raise StopValidation(error)


class SurveyFormMixin:
    """Behaviour shared by every generated survey form."""

    questionnaire: Questionnaire
    directory: Directory | None = None  # what `facility_links` items may choose

    def raw_answers(self) -> dict[str, Any]:
        """Return the submitted values keyed by item."""
        return {item.key: self[item.key].data for item in self.questionnaire.items}

    def answers(self) -> dict[str, Any]:
        """Return the cleaned answers (questions not asked are None or empty)."""
        cleaned, _errors = self.questionnaire.clean(self.raw_answers(), directory=self.directory)
        return cleaned

    def question_fields(self):
        """Yield (section, [(item, field), ...]) in questionnaire order."""
        for section in self.questionnaire.sections:
            yield section, [(item, self[item.key]) for item in section.items]


def build_form_class(
    questionnaire: Questionnaire,
    lang: str = "ja",
    base: type = Form,
    directory: Directory | None = None,
) -> type:
    """Return a form class with one field per questionnaire item plus `base_version`.

    `directory` lists what each `facility_links` item may choose (surveys/network.py).
    """
    attrs: dict[str, Any] = {
        "questionnaire": questionnaire,
        "directory": directory,
        "base_version": HiddenField(),
    }
    for item in questionnaire.items:
        attrs[item.key] = _field(questionnaire, item, lang, directory)
    return type("SurveyForm", (SurveyFormMixin, base), attrs)


def _field(questionnaire: Questionnaire, item: Item, lang: str, directory: Directory | None):
    """Build the WTForms field for one item."""
    rules = [QuestionnaireRule(questionnaire, item, lang)]
    label, desc = item.label(lang), item.help(lang)
    choices = [SelectChoice(c.value, c.label(lang)) for c in item.choices]
    if item.type == "facility_links":  # the page groups the check boxes (search_app)
        offered = (directory or {}).get(item.category, {})
        choices = [SelectChoice(str(i), name) for i, name in offered.items()]
    if item.type == "choice":
        return RadioField(
            label, choices=choices, validators=rules, description=desc, validate_choice=False
        )
    if item.type in ("multi", "facility_links"):
        return SelectMultipleField(
            label,
            choices=choices,
            validators=rules,
            description=desc,
            validate_choice=False,
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
        )
    if item.type == "integer":
        widget = NumberInput(min=item.min if item.min is not None else 0, max=item.max)
        return StringField(
            label,
            validators=rules,
            description=desc,
            widget=widget,
            render_kw={"inputmode": "numeric"},
        )
    field_class = TextAreaField if item.multiline else StringField
    return field_class(
        label, validators=rules, description=desc, render_kw={"maxlength": item.max_length}
    )


def form_data_from_answers(questionnaire: Questionnaire, answers: dict[str, Any]) -> dict:
    """Turn stored answers into form `data` (integers become text; chosen facilities their
    ids, also those no longer offered: they stay until the respondent unticks them)."""
    data = {}
    for item in questionnaire.items:
        value = answers.get(item.key)
        if item.type == "facility_links":
            value = [str(link["id"]) for link in stored_links(value)]
        data[item.key] = str(value) if item.type == "integer" and value is not None else value
    return data
