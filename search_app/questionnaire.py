"""The questionnaire edition this app asks (QUESTIONNAIRE_VERSION)."""

from __future__ import annotations

from flask import current_app

from surveys.questionnaire import Questionnaire, load_version


def current_questionnaire() -> Questionnaire:
    """Return the edition named by the current app's QUESTIONNAIRE_VERSION."""
    return load_version(current_app.config["QUESTIONNAIRE_VERSION"])
