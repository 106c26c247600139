"""Normalise Japanese place names and addresses for matching (not for display)."""

from __future__ import annotations

import re
import unicodedata

# Old or variant kanji that people and registries use interchangeably in place names.
_VARIANTS = str.maketrans(
    {
        "舊": "旧",
        "澤": "沢",
        "邊": "辺",
        "邉": "辺",
        "濱": "浜",
        "嶋": "島",
        "嶌": "島",
        "齋": "斉",
        "齊": "斉",
        "斎": "斉",
        "廣": "広",
        "榮": "栄",
        "藏": "蔵",
        "櫻": "桜",
        "檜": "桧",
        "﨑": "崎",
        "嵜": "崎",
        "髙": "高",
        "德": "徳",
        "惠": "恵",
        "國": "国",
        "縣": "県",
        "會": "会",
        "峯": "峰",
        "冨": "富",
        "淵": "渕",
        "曾": "曽",
        "鶯": "鴬",
        "竈": "竃",
        "萬": "万",
        "溪": "渓",
        "戶": "戸",
        "瀨": "瀬",
        "龍": "竜",
        "遙": "遥",
        "驛": "駅",
        "ヶ": "ケ",
        "ヵ": "ケ",
        "ガ": "ケ",
        "之": "ノ",
        "ッ": "ツ",
        "ヱ": "エ",
        "ヰ": "イ",
    }
)
_DASHES = "-‐‑‒–—―−─━ｰ－﹣"
_DASH_RE = re.compile(f"[{re.escape(_DASHES)}]")
# A long-vowel mark between digits is a mistyped dash (８ー５ー１).
_CHOONPU_RE = re.compile(r"(?<=\d)ー(?=\d)")
_SPACE_RE = re.compile(r"\s+")
_KANJI_DIGITS = {
    "〇": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_UNITS = {"十": 10, "百": 100, "千": 1000}
_KANJI_NUM = "〇一二三四五六七八九十百千"
# Kanji numerals are converted only where they count something in an address (丁目, 条, 番...),
# so names such as 九段 or 八王子 keep their characters.
_COUNTED_RE = re.compile(f"([{_KANJI_NUM}]+)(?=丁目|丁|条|線|番町|番地|番|号|地割|区)")
_POSTAL_RE = re.compile(r"^(?:〒|郵便番号)?\s*(\d{3})-?(\d{4})(?!\d)")


def kanji_to_int(text: str) -> int | None:
    """Convert a kanji numeral such as 二十四 or 一〇 to an int; None if it is not one."""
    if not text or any(ch not in _KANJI_DIGITS and ch not in _KANJI_UNITS for ch in text):
        return None
    if all(ch in _KANJI_DIGITS for ch in text):
        return int("".join(str(_KANJI_DIGITS[ch]) for ch in text))
    total, digit = 0, None
    for ch in text:
        if ch in _KANJI_DIGITS:
            digit = _KANJI_DIGITS[ch]
        else:
            total += (1 if digit is None else digit) * _KANJI_UNITS[ch]
            digit = None
    return total + (digit or 0)


def _counted_to_arabic(text: str) -> str:
    """Replace kanji numerals that count 丁目, 条, 番 etc. with arabic digits."""

    def repl(match: re.Match[str]) -> str:
        value = kanji_to_int(match.group(1))
        return match.group(1) if value is None else str(value)

    return _COUNTED_RE.sub(repl, text)


def hira_to_kata(text: str) -> str:
    """Convert hiragana to katakana."""
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)


def clean(text: str) -> str:
    """Apply NFKC, unify dashes and remove whitespace; keep the characters otherwise."""
    text = unicodedata.normalize("NFKC", text)
    text = _DASH_RE.sub("-", text)
    text = _CHOONPU_RE.sub("-", text)
    return _SPACE_RE.sub("", text)


def fold(text: str) -> str:
    """Return the matching key of a place name or address: variants and numerals unified."""
    text = hira_to_kata(clean(text))
    text = text.translate(_VARIANTS)
    return _counted_to_arabic(text)


def postal_code(text: str) -> tuple[str, str] | None:
    """Return (seven-digit postal code, rest of the text) if the text starts with one."""
    match = _POSTAL_RE.match(clean(text))
    if match is None:
        return None
    return match.group(1) + match.group(2), clean(text)[match.end() :]


def strip_brackets(text: str) -> tuple[str, str]:
    """Split 'name(note)' into ('name', 'note'); brackets may be full- or half-width."""
    text = clean(text)
    match = re.match(r"^(.*?)[(\[](.*?)[)\]]?$", text)
    if match is None:
        return text, ""
    return match.group(1), match.group(2)


def town_key(name: str) -> str:
    """Return the matching key of a town name: folded, without a leading 大字 or 字."""
    key = fold(name)
    for prefix in ("大字", "字"):
        if key.startswith(prefix) and len(key) > len(prefix):
            return key[len(prefix) :]
    return key
