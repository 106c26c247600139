"""Form pieces shared by several pages: a trimming filter, a bare button, check boxes."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from surveys.users import EMAIL_RE


def strip(value):
    """Trim surrounding white space from submitted text."""
    return value.strip() if isinstance(value, str) else value


def language_choices() -> list[SelectChoice]:
    """Return the mail language options (each named in its own language)."""
    return [SelectChoice("ja", "日本語"), SelectChoice("en", "English")]


def email_format() -> Regexp:
    """Validator: an address of the form the user accounts accept."""
    return Regexp(EMAIL_RE, message=lazy_gettext("メールアドレスの形式が正しくありません。"))


class ActionForm(FlaskForm):
    """A CSRF-protected button with no fields."""


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
