"""The questionnaire editions this app asks, one per respondent category."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext

from surveys.questionnaire import Questionnaire, load_version

# The setting that names the edition each facility category answers.
EDITION_SETTINGS = {
    "psychiatric": "QUESTIONNAIRE_VERSION",
    "obstetric": "OBSTETRIC_HEARING_VERSION",
    "municipal": "MUNICIPAL_HEARING_VERSION",
}

# What each edition is called on admin pages (campaigns, exports), by who answers it.
EDITION_LABELS = {
    "psychiatric": lazy_gettext("精神科医療機関の受け入れ調査"),
    "obstetric": lazy_gettext("産科医療機関ヒアリング"),
    "municipal": lazy_gettext("市区町村ヒアリング"),
}


def current_questionnaire(category: str = "psychiatric") -> Questionnaire:
    """Return the edition the current app asks facilities of this category."""
    return load_version(current_app.config[EDITION_SETTINGS[category]])


def current_questionnaires() -> dict[str, Questionnaire]:
    """Return the current edition of every category, psychiatric first."""
    return {category: current_questionnaire(category) for category in EDITION_SETTINGS}
