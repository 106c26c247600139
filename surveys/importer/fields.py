"""Checks and normalisation of single fields, shared by both file formats."""

from __future__ import annotations

import math
import re
import unicodedata

from .messages import Bad
from .records import ParsedImport

# 診療科目コード group 07 is 精神科系 (精神科, 神経科, 心療内科, 老年精神科, 老年心療内科, other).
# By name we also take 児童精神科 (code 03005) and free-text variants such as 神経精神科: a child
# psychiatry clinic is still a psychiatric institution the survey must reach; it answers "no".
PSYCHIATRIC_CODE_GROUP = "07"
PSYCHIATRIC_NAMES = ("精神", "心療内科")
# Obstetric institutions (heard, and named as partners): 産科 and 産婦人科 (婦人科 alone is not).
OBSTETRIC_NAMES = ("産科", "産婦人科")
LAT_RANGE, LNG_RANGE = (20.0, 46.0), (122.0, 154.0)
LIMITS = {"source_id": 40, "name": 200, "kana": 200, "address": 300, "phone": 40,
          "website": 500, "hours": 1000, "departments": 500, "email": 254}  # fmt: skip
FIELD_LABELS = {"source_id": "施設ID", "name": "名称", "kana": "フリガナ", "address": "所在地",
                "departments": "診療科", "phone": "電話番号", "website": "ホームページ",
                "hours": "診療時間", "email": "メールアドレス"}  # fmt: skip
# 病院/診療所 as the admin writes them; 1/2 as we assume 機関区分 codes them (unconfirmed).
KIND_LABELS = {"病院": "hospital", "hospital": "hospital", "1": "hospital",
               "診療所": "clinic", "クリニック": "clinic", "clinic": "clinic",
               "2": "clinic",
               "こども家庭センター": "family_center", "family_center": "family_center",
               "保健センター": "health_center", "health_center": "health_center",
               "その他の相談窓口": "other_contact", "その他": "other_contact",
               "other_contact": "other_contact"}  # fmt: skip
# The template's 区分 column: which category a row is (empty: by its departments).
CATEGORY_LABELS = {"精神科": "psychiatric", "psychiatric": "psychiatric",
                   "産科": "obstetric", "産婦人科": "obstetric", "obstetric": "obstetric",
                   "相談窓口": "municipal", "市区町村": "municipal",
                   "municipal": "municipal"}  # fmt: skip


def is_psychiatric(name: str, code: str = "") -> bool:
    """Return whether a department is psychiatric (精神科・心療内科 and close variants)."""
    text = unicodedata.normalize("NFKC", name)
    return (
        code.startswith(PSYCHIATRIC_CODE_GROUP)
        or text == "神経科"
        or any(n in text for n in PSYCHIATRIC_NAMES)
    )


def is_obstetric(name: str) -> bool:
    """Return whether a department is obstetric (産科・産婦人科; not 婦人科 alone)."""
    text = unicodedata.normalize("NFKC", name)
    return any(n in text for n in OBSTETRIC_NAMES)


def category_of(departments: list[str], codes: list[str] | None = None) -> str | None:
    """Return the category departments select: psychiatric first, then obstetric, else None.

    A facility with psychiatric and obstetric departments stays psychiatric (one row per ID).
    """
    codes = codes or [""] * len(departments)
    if any(is_psychiatric(n, c) for n, c in zip(departments, codes, strict=True)):
        return "psychiatric"
    return "obstetric" if any(is_obstetric(n) for n in departments) else None


def collect(parsed: ParsedImport, row: int, values: dict, checks: dict) -> None:
    """Run converters; store their values, or their problems under this row."""
    for name, check in checks.items():
        try:
            values[name] = check()
        except Bad as bad:
            parsed.problems.append(bad.at(row))


def required(value: str, name: str) -> str:
    """Refuse an empty value."""
    if not value:
        raise Bad("empty", label=FIELD_LABELS[name], field=name)
    return limited(value, name)


def limited(value: str, name: str) -> str:
    """Refuse a value longer than its database column."""
    if len(value) > LIMITS[name]:
        raise Bad("too_long", label=FIELD_LABELS[name], field=name, limit=LIMITS[name])
    return value


def parse_category(value: str) -> str:
    """Map 精神科/産科/相談窓口 (or psychiatric/obstetric/municipal) to the stored category."""
    category = CATEGORY_LABELS.get(unicodedata.normalize("NFKC", value).strip().lower())
    if category is None:
        raise Bad("category", value=value)
    return category


def parse_kind(value: str) -> str:
    """Map 病院/診療所 (or hospital/clinic, 1/2; or a contact point's kind) to the stored kind."""
    kind = KIND_LABELS.get(unicodedata.normalize("NFKC", value).strip().lower())
    if kind is None:
        raise Bad("kind", value=value)
    return kind


def normalise_municipality(value: str, prefecture: str = "") -> str:
    """Return the 5-digit JIS code from 3 digits (within `prefecture`), 5, or 6 with check digit."""
    digits = unicodedata.normalize("NFKC", value).strip().removesuffix(".0")
    if not (digits.isascii() and digits.isdigit()):
        raise Bad("municipality", value=value)
    if len(digits) == 3 and prefecture:
        digits = prefecture + digits
    elif len(digits) == 6:
        if _check_digit(digits[:5]) != digits[5]:
            raise Bad("check_digit", value=value)
        digits = digits[:5]
    if len(digits) != 5 or digits[2:] == "000" or not 1 <= int(digits[:2]) <= 47:
        raise Bad("municipality", value=value)
    if prefecture and digits[:2] != prefecture:
        raise Bad("other_prefecture_code", value=value, prefecture=prefecture)
    return digits


def _check_digit(code5: str) -> str:
    """Return the check digit of a 地方公共団体コード (weights 6..2, modulus 11)."""
    total = sum(int(d) * w for d, w in zip(code5, (6, 5, 4, 3, 2), strict=True))
    return str((11 - total % 11) % 10)


def normalise_postal_code(value: str) -> str:
    """Return '123-4567' from any common spelling (〒, full-width, no hyphen); '' if empty."""
    digits = re.sub(r"[〒\s\-‐－ー−]", "", unicodedata.normalize("NFKC", value))
    if not digits:
        return ""
    if not (digits.isascii() and digits.isdigit() and len(digits) == 7):
        raise Bad("postal_code", value=value)
    return f"{digits[:3]}-{digits[3:]}"


def parse_phone(value: str) -> str:
    """Normalise a phone number to half-width; refuse text that holds no number."""
    text = unicodedata.normalize("NFKC", value).strip()
    if text and not re.fullmatch(r"[0-9()\-+ ]*[0-9][0-9()\-+ ]*", text):
        raise Bad("phone", value=value)
    return limited(text, "phone")


def parse_url(value: str) -> str:
    """Return an http(s) address, refusing anything else."""
    text = unicodedata.normalize("NFKC", value).strip()
    if text and not re.fullmatch(r"https?://[^\s/]+\.\S+", text):
        raise Bad("url", value=value)
    return limited(text, "website")


# One address, ASCII local part and domain with a dot; no display names or lists.
EMAIL_RE = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def parse_email(value: str) -> str:
    """Return a trimmed e-mail address ('' if empty), refusing anything that is not one."""
    text = unicodedata.normalize("NFKC", value).strip()
    if text and (not EMAIL_RE.fullmatch(text) or ".." in text or len(text) > LIMITS["email"]):
        raise Bad("email", value=value)
    return text


def coordinates(lat: str, lng: str, zero_unknown: bool = False) -> tuple[float, float] | None:
    """Return (lat, lng) inside Japan, None when both are blank (or both 0 if zero_unknown)."""
    if not lat and not lng:
        return None
    point = (_degrees(lat, "緯度", "latitude"), _degrees(lng, "経度", "longitude"))
    if zero_unknown and point == (0.0, 0.0):
        return None
    for value, (low, high), label, name in (
        (point[0], LAT_RANGE, "緯度", "latitude"),
        (point[1], LNG_RANGE, "経度", "longitude"),
    ):
        if not low <= value <= high:
            raise Bad("outside_japan", label=label, field=name, value=value, low=low, high=high)
    return point


def _degrees(text: str, label: str, name: str) -> float:
    """Parse one coordinate."""
    try:
        value = float(unicodedata.normalize("NFKC", text))
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise Bad("not_number", label=label, field=name, value=text)
    return value
