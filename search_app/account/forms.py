"""The set-password form: the password twice, checked against the password rules."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from search_app.i18n import current_lang
from surveys.passwords import WeakPasswordError, validate_new_password


class SetupPasswordForm(FlaskForm):
    """A new password and its repetition; `account_email` is the address it may not equal."""

    password = PasswordField(lazy_gettext("新しいパスワード"), validators=[DataRequired()])
    confirm = PasswordField(
        lazy_gettext("新しいパスワード（確認）"),
        validators=[
            DataRequired(),
            EqualTo("password", message=lazy_gettext("2つのパスワードが一致しません。")),
        ],
    )

    def __init__(self, *args, account_email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.account_email = account_email

    def validate_password(self, field) -> None:
        """Apply the password rules, in the page's language."""
        try:
            validate_new_password(field.data or "", self.account_email)
        except WeakPasswordError as exc:
            raise ValidationError(exc.message(current_lang())) from exc
