"""The one choice between a Japanese and an English text."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def bilingual(lang: str, ja: T, en: T) -> T:
    """Return `en` for English, else `ja` (Japanese first: any other language gets it)."""
    return en if lang == "en" else ja
