"""Whole numbers typed by users, bounded by their length before Python converts them."""

from __future__ import annotations

DATABASE_INT_MAX = 2**31 - 1  # the largest id or count a 32-bit INTEGER column holds


def whole_number(raw: str, high: int, low: int = 0) -> int | None:
    """Return the whole number in [low, high] that `raw` spells in ASCII digits, else None.

    The length is checked before converting: Python refuses (ValueError) to convert more than
    4,300 digits, and a number longer than `high` is out of range anyway.
    """
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(high)):
        return None
    value = int(digits)
    return value if low <= value <= high else None
