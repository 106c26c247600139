"""Password rules for new passwords (set-up links, changes)."""

from __future__ import annotations

from surveys.errors import UserFacingError

MIN_LENGTH = 12
MAX_LENGTH = 200


class WeakPasswordError(UserFacingError):
    """A new password breaks a rule; the message says which."""


def validate_new_password(password: str, email: str = "") -> None:
    """Raise WeakPasswordError unless the password is long enough and not the address."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(
            f"パスワードは{MIN_LENGTH}文字以上にしてください。",
            f"Use at least {MIN_LENGTH} characters.",
        )
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(
            f"パスワードは{MAX_LENGTH}文字以内にしてください。",
            f"Use at most {MAX_LENGTH} characters.",
        )
    if email and password.strip().lower() == email.strip().lower():
        raise WeakPasswordError(
            "メールアドレスをパスワードにしないでください。",
            "Do not use your e-mail address as the password.",
        )
