"""Questionnaire definitions: load a versioned TOML file, validate it, clean answers with it."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from surveys.bilingual import bilingual
from surveys.errors import QuestionnaireError

QUESTIONNAIRE_DIR = Path(__file__).resolve().parent / "questionnaires"
ITEM_TYPES = ("choice", "multi", "integer", "text", "facility_links")
# Who answers an edition (the facility category it is sent to); the top-level `respondent`.
RESPONDENTS = ("psychiatric", "obstetric", "municipal")
# Facilities a `facility_links` item may choose from, by facility category (see surveys/network.py).
LINK_CATEGORIES = RESPONDENTS
MAX_LINKS = 30  # facilities one `facility_links` answer may name (unless the item says `max`)
# What a `facility_links` item can choose from: category -> {facility id: name}.
Directory = Mapping[str, Mapping[int, str]]
KEY_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class Choice:
    """One allowed answer of a choice or multi item."""

    value: str
    ja: str
    en: str

    def label(self, lang: str) -> str:
        """Return the label in the given language."""
        return bilingual(lang, self.ja, self.en)


@dataclass(frozen=True)
class Item:
    """One question."""

    key: str
    type: str
    label_ja: str
    label_en: str
    section: str
    help_ja: str = ""
    help_en: str = ""
    choices: tuple[Choice, ...] = ()
    required: bool = False
    filter: bool = False
    professional_only: bool = False
    param: str = ""
    show_if: tuple[str, tuple[str, ...]] | None = None
    min: int | None = None
    max: int | None = None
    max_length: int = 200
    multiline: bool = False
    unit_ja: str = ""
    unit_en: str = ""
    short_ja: str = ""
    short_en: str = ""
    category: str = ""  # facility_links: the category of facility chosen (e.g. "obstetric")

    def label(self, lang: str) -> str:
        """Return the question in the given language."""
        return bilingual(lang, self.label_ja, self.label_en)

    def short(self, lang: str) -> str:
        """Return the short label for compact views (the question when there is none)."""
        short = bilingual(lang, self.short_ja, self.short_en)
        return short or self.label(lang)

    def help(self, lang: str) -> str:
        """Return the help text in the given language."""
        return bilingual(lang, self.help_ja, self.help_en)

    def unit(self, lang: str) -> str:
        """Return the unit of an integer item in the given language."""
        return bilingual(lang, self.unit_ja, self.unit_en)

    @property
    def search_param(self) -> str:
        """Name of the search parameter filtering on this item (integers: `max_<key>`)."""
        if self.param:
            return self.param
        return f"max_{self.key}" if self.type == "integer" else self.key

    def choice_label(self, value: str, lang: str) -> str:
        """Return the label of one stored value (the value itself if unknown)."""
        return next((c.label(lang) for c in self.choices if c.value == value), value)


@dataclass(frozen=True)
class Section:
    """A group of questions as a referrer reads them."""

    key: str
    title_ja: str
    title_en: str
    items: tuple[Item, ...]

    def title(self, lang: str) -> str:
        """Return the title in the given language."""
        return bilingual(lang, self.title_ja, self.title_en)


@dataclass(frozen=True)
class Questionnaire:
    """A validated questionnaire edition."""

    version: str
    title_ja: str
    title_en: str
    sections: tuple[Section, ...]
    source: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)
    respondent: str = "psychiatric"

    @property
    def items(self) -> tuple[Item, ...]:
        """All items in order."""
        return tuple(item for section in self.sections for item in section.items)

    def item(self, key: str) -> Item:
        """Return the item with this key."""
        return next(item for item in self.items if item.key == key)

    def title(self, lang: str) -> str:
        """Return the title in the given language."""
        return bilingual(lang, self.title_ja, self.title_en)

    def is_shown(self, item: Item, answers: dict[str, Any]) -> bool:
        """Tell whether an item is asked, given the other answers."""
        if item.show_if is None:
            return True
        parent, values = item.show_if
        return self.is_shown(self.item(parent), answers) and answers.get(parent) in values

    def clean(
        self, answers: dict[str, Any], lang: str = "ja", directory: Directory | None = None
    ) -> tuple[dict, dict[str, str]]:
        """Return (cleaned answers, errors by key); items not asked are stored as None.

        `directory` lists the facilities a `facility_links` item may name; without it only
        links already in their stored form ({"id", "name"}) pass.
        """
        cleaned: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for item in self.items:
            if not self.is_shown(item, answers):
                cleaned[item.key] = [] if item.type in LIST_TYPES else None
                continue
            value, error = clean_value(item, answers.get(item.key), lang, directory)
            cleaned[item.key] = value
            if error:
                errors[item.key] = error
        return cleaned, errors

    def condition_text(self, item: Item, lang: str = "ja") -> str:
        """Explain when a conditional item is asked, for readers without JavaScript."""
        if item.show_if is None:
            return ""
        parent = self.item(item.show_if[0])
        values = [parent.choice_label(v, lang) for v in item.show_if[1]]
        return bilingual(
            lang,
            f"「{parent.label_ja}」で「{'」「'.join(values)}」を選んだ場合にお答えください。",
            f"Answer if “{parent.label_en}” is: {' or '.join(values)}.",
        )

    def link_categories(self) -> set[str]:
        """Categories of facility that this edition's `facility_links` items choose from."""
        return {item.category for item in self.items if item.type == "facility_links"}

    def public_keys(self) -> set[str]:
        """Keys of the items the public may see."""
        return {item.key for item in self.items if not item.professional_only}


def _is_empty(value: Any) -> bool:
    """Tell whether an answer counts as not given."""
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == [] or value == ()


LIST_TYPES = ("multi", "facility_links")


def clean_value(
    item: Item, value: Any, lang: str = "ja", directory: Directory | None = None
) -> tuple[Any, str | None]:
    """Coerce and check one answer; return (value, error message or None)."""
    if _is_empty(value):
        empty = [] if item.type in LIST_TYPES else None
        return empty, (_msg("required", lang) if item.required else None)
    if item.type == "facility_links":
        return _check_links(item, value, lang, directory)
    checker = {"choice": _check_choice, "multi": _check_multi, "integer": _check_integer}
    return checker.get(item.type, _check_text)(item, value, lang)


def _check_links(
    item: Item, value: Any, lang: str, directory: Directory | None
) -> tuple[Any, str | None]:
    """Facilities chosen from the directory, stored as [{"id", "name"}] in the order given.

    Each value is an id (a number or its digits) or a stored link; an id the directory does not
    offer for the item's category is refused (a forged or removed facility). Without a
    directory, only stored links pass as they are (their names are kept).
    """
    values = [value] if isinstance(value, (str, int, dict)) else list(value)
    limit = item.max or MAX_LINKS
    if len(values) > limit:
        return [], _msg("links_count", lang).format(n=limit)
    offered = (directory or {}).get(item.category)
    links: dict[int, str] = {}
    for raw in values:
        link = _link(raw, offered)
        if link is None:
            return [], _msg("link", lang)
        links.setdefault(*link)
    return [{"id": i, "name": name} for i, name in links.items()], None


def _link(raw: Any, offered: Mapping[int, str] | None) -> tuple[int, str] | None:
    """Return (id, name) of one chosen facility, or None when it may not be chosen."""
    stored = isinstance(raw, dict)
    ident = raw.get("id") if stored else raw
    if isinstance(ident, bool) or not isinstance(ident, (int, str)):
        return None
    text = str(ident).strip()
    if not text.isascii() or not text.isdigit() or len(text) > MAX_INTEGER_TEXT:
        return None
    number = int(text)
    if offered is not None:
        return (number, offered[number]) if number in offered else None
    name = raw.get("name") if stored else None
    return (number, name) if isinstance(name, str) and name.strip() else None


def _check_choice(item: Item, value: Any, lang: str) -> tuple[Any, str | None]:
    """A single choice must be one of the item's values."""
    if value in {c.value for c in item.choices}:
        return value, None
    return None, _msg("choice", lang)


def _check_multi(item: Item, value: Any, lang: str) -> tuple[Any, str | None]:
    """A multiple choice is a list of distinct allowed values, kept in the file's order."""
    values = [value] if isinstance(value, str) else list(value)
    allowed = [c.value for c in item.choices]
    if any(v not in allowed for v in values):
        return [], _msg("choice", lang)
    return [v for v in allowed if v in values], None


MAX_INTEGER_TEXT = 12


def _check_integer(item: Item, value: Any, lang: str) -> tuple[Any, str | None]:
    """An integer within the item's range."""
    text = str(value).strip()
    if len(text) > MAX_INTEGER_TEXT:  # checked before converting (no 4,301-digit int)
        return None, _msg("integer", lang)
    try:
        number = int(text)
    except ValueError:
        return None, _msg("integer", lang)
    low, high = item.min if item.min is not None else 0, item.max
    if number < low or (high is not None and number > high):
        return None, _msg("range", lang).format(low=low, high=high)
    return number, None


def _check_text(item: Item, value: Any, lang: str) -> tuple[Any, str | None]:
    """Text without control characters, trimmed, within the item's length."""
    text = str(value).strip()
    if any(ord(ch) < 32 and ch not in "\n\t" for ch in text.replace("\r\n", "\n")):
        return None, _msg("control", lang)
    if len(text) > item.max_length:
        return None, _msg("length", lang).format(n=item.max_length)
    return text.replace("\r\n", "\n"), None


MESSAGES = {
    "required": ("回答してください。", "Please answer this question."),
    "choice": ("選択肢から選んでください。", "Choose one of the options."),
    "integer": ("半角数字で入力してください。", "Enter a whole number."),
    "range": ("{low}〜{high}の範囲で入力してください。", "Enter a number from {low} to {high}."),
    "control": (
        "使用できない文字が含まれています。",
        "This text contains characters we cannot store.",
    ),
    "length": ("{n}文字以内で入力してください。", "Use at most {n} characters."),
    "link": (
        "選べない医療機関が含まれています。一覧に掲載されている医療機関から選んでください。",
        "One of the facilities cannot be chosen. Choose facilities listed in the directory.",
    ),
    "links_count": ("選べるのは{n}件までです。", "Choose at most {n} facilities."),
}


def _msg(code: str, lang: str) -> str:
    """Return a validation message in the given language."""
    ja, en = MESSAGES[code]
    return bilingual(lang, ja, en)


# --- loading ---------------------------------------------------------------------------------


def load_file(path: Path) -> Questionnaire:
    """Load and validate one questionnaire file; a broken file raises QuestionnaireError."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _broken(path, None, f"cannot be read: {exc}") from exc
    return parse(data, name=Path(path).name)


def _version_path(version: str) -> Path:
    """Bundled file of an edition: v2026.1.toml (survey), obstetric-2026.1.toml (hearing)."""
    plain = QUESTIONNAIRE_DIR / f"v{version}.toml"
    return plain if plain.is_file() else QUESTIONNAIRE_DIR / f"{version}.toml"


@lru_cache(maxsize=16)
def load_version(version: str) -> Questionnaire:
    """Load the bundled questionnaire of this edition (e.g. '2026.1', 'obstetric-2026.1')."""
    path = _version_path(version)
    if "/" in version or not path.is_file():
        raise _broken(QUESTIONNAIRE_DIR / f"v{version}.toml", None, "no such questionnaire edition")
    return load_file(path)


def _file_version(path: Path) -> str:
    """Edition named by a bundled file's name."""
    return path.stem[1:] if path.stem[:1] == "v" and path.stem[1:2].isdigit() else path.stem


def stored_edition(version: str, definition: dict[str, Any]) -> Questionnaire:
    """Return a registered edition: its bundled file, or the copy stored when it was first used."""
    try:
        return load_version(version)
    except QuestionnaireError:
        return parse(definition, name=f"stored edition {version}")


def available_versions() -> list[str]:
    """Editions bundled with the application (every respondent), sorted by name."""
    return sorted(_file_version(p) for p in QUESTIONNAIRE_DIR.glob("*.toml"))


def parse(data: dict[str, Any], name: str = "<definition>") -> Questionnaire:
    """Build a Questionnaire from parsed data, checking every rule."""
    for key in ("version", "title_ja", "title_en"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise _broken(name, None, f"'{key}' is missing")
    respondent = data.get("respondent", "psychiatric")
    if respondent not in RESPONDENTS:
        raise _broken(name, None, f"'respondent' must be one of {RESPONDENTS}, not {respondent!r}")
    sets = _choice_sets(name, data.get("choice_sets", {}))
    sections = tuple(_section(name, raw, sets) for raw in _list(name, data, "sections"))
    questionnaire = Questionnaire(
        data["version"],
        data["title_ja"],
        data["title_en"],
        sections,
        source=data,
        respondent=respondent,
    )
    _check_keys_and_conditions(name, questionnaire)
    return questionnaire


def _list(name: str, data: dict, key: str) -> list:
    """Return a non-empty list of tables from the definition."""
    value = data.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise _broken(name, data.get("key"), f"'{key}' must be a non-empty list")
    return value


def _choice_sets(name: str, raw: dict) -> dict[str, tuple[Choice, ...]]:
    """Parse the named choice sets."""
    return {
        set_name: _choices(name, f"choice set {set_name}", rows) for set_name, rows in raw.items()
    }


def _choices(name: str, where: str, rows: Any) -> tuple[Choice, ...]:
    """Parse a list of choices, each with value, ja and en."""
    if not isinstance(rows, list) or not rows:
        raise _broken(name, where, "choices must be a non-empty list")
    choices = []
    for row in rows:
        if not isinstance(row, dict) or not all(
            isinstance(row.get(k), str) for k in ("value", "ja", "en")
        ):
            raise _broken(name, where, f"each choice needs value, ja and en: {row!r}")
        choices.append(Choice(row["value"], row["ja"], row["en"]))
    if len({c.value for c in choices}) != len(choices):
        raise _broken(name, where, "choice values repeat")
    return tuple(choices)


def _section(name: str, raw: dict, sets: dict) -> Section:
    """Parse one section and its items."""
    for key in ("key", "title_ja", "title_en"):
        if not isinstance(raw.get(key), str):
            raise _broken(name, f"section {raw.get('key')}", f"'{key}' is missing")
    unknown = set(raw) - {"key", "title_ja", "title_en", "items"}
    if unknown:
        raise _broken(name, f"section {raw['key']}", f"unknown field(s) {sorted(unknown)}")
    items = tuple(_item(name, row, raw["key"], sets) for row in _list(name, raw, "items"))
    return Section(raw["key"], raw["title_ja"], raw["title_en"], items)


ITEM_FIELDS = {
    "key",
    "type",
    "label_ja",
    "label_en",
    "help_ja",
    "help_en",
    "choices",
    "required",
    "filter",
    "professional_only",
    "param",
    "show_if",
    "min",
    "max",
    "max_length",
    "multiline",
    "unit_ja",
    "unit_en",
    "short_ja",
    "short_en",
    "category",
}


def _item(name: str, raw: dict, section: str, sets: dict) -> Item:
    """Parse one item, naming it in any error."""
    key = raw.get("key")
    if not isinstance(key, str) or not key or not set(key) <= KEY_CHARS:
        raise _broken(name, key, "'key' must be lower-case letters, digits and _")
    unknown = set(raw) - ITEM_FIELDS
    if unknown:
        raise _broken(name, key, f"unknown field(s) {sorted(unknown)}")
    if raw.get("type") not in ITEM_TYPES:
        raise _broken(name, key, f"'type' must be one of {ITEM_TYPES}, not {raw.get('type')!r}")
    for label in ("label_ja", "label_en"):
        if not isinstance(raw.get(label), str) or not raw[label].strip():
            raise _broken(name, key, f"'{label}' is missing")
    _check_link_fields(name, raw)
    fields = {k: v for k, v in raw.items() if k not in ("choices", "show_if")}
    return Item(
        **fields,
        section=section,
        choices=_item_choices(name, raw, sets),
        show_if=_show_if(name, raw),
    )


def _check_link_fields(name: str, raw: dict) -> None:
    """A facility_links item names the category it chooses from and filters nothing."""
    key, is_links = raw["key"], raw["type"] == "facility_links"
    if is_links and raw.get("category") not in LINK_CATEGORIES:
        raise _broken(name, key, f"'category' must be one of {LINK_CATEGORIES}")
    if not is_links and "category" in raw:
        raise _broken(name, key, "only a facility_links item takes a category")
    if is_links and raw.get("filter"):
        raise _broken(name, key, "a facility_links item cannot be a search filter")


def _item_choices(name: str, raw: dict, sets: dict) -> tuple[Choice, ...]:
    """Resolve an item's choices (a named set or an inline list)."""
    key, choices = raw["key"], raw.get("choices")
    if raw["type"] not in ("choice", "multi"):
        if choices is not None:
            raise _broken(name, key, f"a {raw['type']} item takes no choices")
        return ()
    if isinstance(choices, str):
        if choices not in sets:
            raise _broken(name, key, f"unknown choice set {choices!r}")
        return sets[choices]
    return _choices(name, f"item {key}", choices)


def _show_if(name: str, raw: dict) -> tuple[str, tuple[str, ...]] | None:
    """Parse the condition under which an item is asked."""
    cond = raw.get("show_if")
    if cond is None:
        return None
    if not isinstance(cond, dict) or not isinstance(cond.get("item"), str):
        raise _broken(name, raw["key"], "show_if needs item and values")
    values = cond.get("values")
    if not isinstance(values, list) or not values:
        raise _broken(name, raw["key"], "show_if needs a non-empty list of values")
    return cond["item"], tuple(values)


def _check_keys_and_conditions(name: str, questionnaire: Questionnaire) -> None:
    """Keys are unique; a condition points to an earlier choice item and to its values."""
    seen: dict[str, Item] = {}
    for item in questionnaire.items:
        if item.key in seen:
            raise _broken(name, item.key, "the key is used twice")
        if item.show_if:
            parent_key, values = item.show_if
            parent = seen.get(parent_key)
            if parent is None or parent.type != "choice":
                raise _broken(
                    name,
                    item.key,
                    f"show_if refers to {parent_key!r}, which is not an earlier choice item",
                )
            bad = set(values) - {c.value for c in parent.choices}
            if bad:
                raise _broken(
                    name,
                    item.key,
                    f"show_if values {sorted(bad)} are not choices of {parent_key!r}",
                )
        seen[item.key] = item
    params = [item.search_param for item in questionnaire.items if item.filter]
    if len(set(params)) != len(params):
        raise _broken(name, None, "two filter items share a search parameter name")


def _broken(name: Any, item: str | None, reason: str) -> QuestionnaireError:
    """Build the error for a broken definition, naming file and item."""
    where = f"{name}" + (f", item '{item}'" if item else "")
    return QuestionnaireError(
        f"質問票の定義に誤りがあります（{where}）: {reason}",
        f"Questionnaire definition is broken ({where}): {reason}",
    )
