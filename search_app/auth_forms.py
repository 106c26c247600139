"""Sign-in forms: address and password, a one-time code, and password plus code."""

from __future__ import annotations

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Regexp


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(
        lazy_gettext("メールアドレス"),
        validators=[
            DataRequired(),
            Length(max=254),
            # No control characters: PostgreSQL refuses NUL in a query (a 500, not a message).
            Regexp(
                r"^[^\x00-\x1f\x7f]*\Z",
                message=lazy_gettext("メールアドレスの形式が正しくありません。"),
            ),
        ],
    )
    password = PasswordField(
        lazy_gettext("パスワード"), validators=[DataRequired(), Length(max=200)]
    )


class CodeForm(FlaskForm):
    """A six-digit one-time code from the authenticator app."""

    code = StringField(
        lazy_gettext("確認コード(6桁)"),
        validators=[
            DataRequired(),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=lazy_gettext("6桁の数字を入力してください。")),
        ],
        render_kw={"inputmode": "numeric", "maxlength": 7},
    )


class PasswordCodeForm(CodeForm):
    """Adding or replacing an authenticator when signed in: the password, then the new code.

    Someone at an unattended signed-in browser cannot tie the account to their own phone.
    """

    password = PasswordField(
        lazy_gettext("現在のパスワード"), validators=[DataRequired(), Length(max=200)]
    )
