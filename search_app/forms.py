"""Form pieces shared by several pages: a trimming filter, a bare button, check boxes."""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from surveys.numbers import DATABASE_INT_MAX, whole_number
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


class BoundedIntegerField(IntegerField):
    """A whole number in [low, high], its length checked before conversion (a 4,301-digit
    value is a form error, not a 500)."""

    def __init__(
        self, label=None, validators=None, low: int = 1, high: int = DATABASE_INT_MAX, **kw
    ):
        super().__init__(label, validators, **kw)
        self.low, self.high = low, high

    def process_formdata(self, valuelist) -> None:
        """Read the number, refusing anything that is not one in range."""
        if not valuelist:
            return
        self.data = whole_number(valuelist[0], self.high, self.low)
        if self.data is None:
            raise ValueError(
                gettext("%(low)d〜%(high)dの整数で入力してください。", low=self.low, high=self.high)
            )
