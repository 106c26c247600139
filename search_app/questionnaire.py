"""The questionnaire editions this app asks, one per respondent category."""

from __future__ import annotations

from flask import current_app

from surveys.questionnaire import Questionnaire, load_version

# The setting that names the edition each facility category answers.
EDITION_SETTINGS = {
    "psychiatric": "QUESTIONNAIRE_VERSION",
    "obstetric": "OBSTETRIC_HEARING_VERSION",
    "municipal": "MUNICIPAL_HEARING_VERSION",
}


def current_questionnaire(category: str = "psychiatric") -> Questionnaire:
    """Return the edition the current app asks facilities of this category."""
    return load_version(current_app.config[EDITION_SETTINGS[category]])


def current_questionnaires() -> dict[str, Questionnaire]:
    """Return the current edition of every category, psychiatric first."""
    return {category: current_questionnaire(category) for category in EDITION_SETTINGS}
