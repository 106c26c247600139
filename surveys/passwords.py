"""Password rules for new passwords (set-up links, changes)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from surveys.errors import UserFacingError

MIN_LENGTH = 12
MAX_LENGTH = 200
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common_passwords.txt"
# Words of the site's own name: a password built from them is the first thing an attacker tries.
SITE_WORDS = (
    "妊産婦こころの医療機関ナビ",
    "こころの医療機関ナビ",
    "医療機関ナビ",
    "こころナビ",
    "妊産婦",
    "kokoronavi",
    "kokoro",
    "ninsanpu",
    "perinatal",
    "mentalhealth",
    "pmhnavi",
    "pmh",
    "navi",
)
# What is left of a password once its address or site-name parts are removed must be this long.
MIN_OWN_PART = 6
_LOOKALIKES = str.maketrans({"@": "a", "4": "a", "0": "o", "3": "e", "$": "s", "5": "s",
                             "1": "i", "!": "i", "7": "t", "+": "t"})  # fmt: skip
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_FILLER = re.compile(r"[\W\d_]+")


class WeakPasswordError(UserFacingError):
    """A new password breaks a rule; the message says which."""


def validate_new_password(password: str, email: str = "") -> None:
    """Raise WeakPasswordError unless the password is long, uncommon and not built on names."""
    _check_length(password)
    if email and password.strip().lower() == email.strip().lower():
        raise WeakPasswordError(
            "メールアドレスをパスワードにしないでください。",
            "Do not use your e-mail address as the password.",
        )
    if is_common(password):
        raise WeakPasswordError(
            "よく使われるパスワード(流出したパスワードによくある形)です。"
            "推測されにくい別のパスワードにしてください。",
            "This password is too common (or follows a pattern common in leaked passwords). "
            "Choose one that is harder to guess.",
        )
    if email and _built_from(password, _address_words(email)):
        raise WeakPasswordError(
            "メールアドレス(@より前の部分)をもとにしたパスワードは使えません。",
            "Do not build the password from your e-mail address.",
        )
    if _built_from(password, SITE_WORDS):
        raise WeakPasswordError(
            "サイト名をもとにしたパスワードは使えません。",
            "Do not build the password from the name of this site.",
        )


def _check_length(password: str) -> None:
    """Refuse passwords that are too short or too long."""
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


def is_common(password: str) -> bool:
    """Tell whether a password, or it with look-alikes folded and edge digits cut, is listed."""
    lowered = _normal(password)
    stripped = _EDGES.sub("", lowered)
    candidates = {lowered, stripped, lowered.translate(_LOOKALIKES)}
    candidates.add(_EDGES.sub("", stripped).translate(_LOOKALIKES))
    return any(c and c in common_passwords() for c in candidates)


@cache
def common_passwords() -> frozenset[str]:
    """Load the bundled list (lower case; lines starting with # are comments)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line and not line.startswith("#"))


def _normal(text: str) -> str:
    """Fold width and case (ｐａｓｓ and PASS are pass)."""
    return unicodedata.normalize("NFKC", text).lower()


def _address_words(email: str) -> tuple[str, ...]:
    """Return the local part of an address and its pieces of three or more characters."""
    local = _normal(email.strip()).rsplit("@", 1)[0]
    pieces = [p for p in re.split(r"[._+\-]+", local) if len(p) >= 3]
    return tuple(sorted({local, *pieces}, key=len, reverse=True))


def _built_from(password: str, words: tuple[str, ...]) -> bool:
    """Tell whether the password is mostly these words plus digits and symbols."""
    text = _normal(password)
    rest = text
    for word in words:
        rest = rest.replace(_normal(word), "")
    if rest == text:
        return False
    return len(_FILLER.sub("", rest)) < MIN_OWN_PART
