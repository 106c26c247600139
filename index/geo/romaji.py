"""Station and municipality names typed in romaji ("Kinshicho", "Kinshichō Station", "Setagaya").

Both sides become one loose key: kana readings are romanised (Hepburn), typed text loses its
macrons, spaces and case, and the spellings people mix up are folded together (ō / ou / oo / oh,
si / shi, tu / tsu, m / n before b, p, m). The key maps back to the Japanese name, which the
geocoder then resolves as if it had been typed.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

from index.geo import gazetteer as gz

_KANA = (
    "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをん"
    "がぎぐげござじずぜぞだぢづでどばびぶべぼぱぴぷぺぽゔ"
)
_ROWS = (
    "a i u e o  ka ki ku ke ko  sa shi su se so  ta chi tsu te to  na ni nu ne no",
    "ha hi fu he ho  ma mi mu me mo  ya yu yo  ra ri ru re ro  wa o n",
    "ga gi gu ge go  za ji zu ze zo  da ji zu de do  ba bi bu be bo  pa pi pu pe po  vu",
)
_BASE = dict(zip(_KANA, " ".join(_ROWS).split(), strict=True))
_SMALL = {"ゃ": "ya", "ゅ": "yu", "ょ": "yo", "ぁ": "a", "ぃ": "i", "ぅ": "u", "ぇ": "e", "ぉ": "o"}
# Words that say what kind of place it is, not which one.
_STATION_WORDS = re.compile(r"[\s\-]*(station|sta\.?|eki)$")
_CITY_WORDS = re.compile(r"([\s\-]+(ku|shi|machi|mura)|[\s\-]*(ward|city|town|village))$")
_LATIN = re.compile(r"^[a-z\s\-'.,]+$")
_LOOSE = [
    (re.compile(r"si"), "shi"),
    (re.compile(r"ti"), "chi"),
    (re.compile(r"tu"), "tsu"),
    (re.compile(r"hu"), "fu"),
    (re.compile(r"zi"), "ji"),
    (re.compile(r"m(?=[bpm])"), "n"),
    (re.compile(r"oh(?![aeiouy])"), "o"),
    (re.compile(r"o[ou]"), "o"),
    (re.compile(r"uu"), "u"),
    (re.compile(r"aa"), "a"),
    (re.compile(r"ii"), "i"),
    (re.compile(r"ee"), "e"),
]


def kana_to_romaji(kana: str) -> str:
    """Romanise hiragana or katakana (Hepburn, long vowels as spelled)."""
    out: list[str] = []
    double = False
    for ch in _hiragana(kana):
        if ch == "っ":
            double = True
            continue
        if ch in "ゃゅょ" and out and len(out[-1]) >= 2 and out[-1].endswith("i"):
            stem = out.pop()[:-1]
            palatal = stem.endswith(("sh", "ch", "j"))
            syllable = (stem if palatal else stem + "y") + _SMALL[ch][-1]
        elif ch == "ー":
            syllable = out[-1][-1] if out and out[-1] else ""
        else:
            syllable = _BASE.get(ch, _SMALL.get(ch, ""))
        if double and syllable:
            syllable = ("t" if syllable.startswith("ch") else syllable[0]) + syllable
        double = False
        out.append(syllable)
    return "".join(out)


def _hiragana(text: str) -> str:
    """Turn katakana into hiragana."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def loose_key(romaji: str) -> str:
    """Return the key both typed romaji and romanised readings are compared by."""
    text = unicodedata.normalize("NFKD", romaji.lower())
    text = "".join(c for c in text if c.isascii() and c.isalpha())
    for pattern, replacement in _LOOSE:
        text = pattern.sub(replacement, text)
    return text.replace("n'", "n")


def parse(text: str) -> tuple[str, str] | None:
    """Split typed romaji into (kind, key): kind is station, municipality or any; None when the
    text is not romaji."""
    plain = unicodedata.normalize("NFKD", text.strip()).lower()
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    if not plain or not _LATIN.match(plain):
        return None
    kind = "any"
    if _STATION_WORDS.search(plain):
        kind, plain = "station", _STATION_WORDS.sub("", plain)
    elif _CITY_WORDS.search(plain):
        kind, plain = "municipality", _CITY_WORDS.sub("", plain)
    key = loose_key(plain)
    return (kind, key) if key else None


@lru_cache(maxsize=4)
def names(prefecture: str) -> dict[str, dict[str, list[str]]]:
    """Return {group: {loose key: [Japanese names]}}: the prefecture's stations, its
    municipalities, and stations elsewhere."""
    pref_code = gz.prefecture_codes()[prefecture]
    groups: dict[str, dict[str, list[str]]] = {"station": {}, "municipality": {}, "elsewhere": {}}
    for station in gz.load_stations():
        group = groups["station" if station.prefecture_code == pref_code else "elsewhere"]
        _add(group, kana_to_romaji(station.kana), station.name + "駅")
    for code, reading, suffix in gz.read_tsv("municipality_readings.tsv"):
        if code[:2] == pref_code:
            name = gz.municipality_by_code(code).name
            _add(groups["municipality"], kana_to_romaji(reading), name)
            _add(groups["municipality"], kana_to_romaji(reading + suffix), name)
    return groups


def _add(group: dict[str, list[str]], romaji: str, name: str) -> None:
    """Add a name under the loose key of its romanised reading, once."""
    names_here = group.setdefault(loose_key(romaji), [])
    if name not in names_here:
        names_here.append(name)


# Which groups a kind of place is looked up in, in order.
_ORDER = {
    "station": ("station", "elsewhere"),
    "municipality": ("municipality",),
    "any": ("station", "municipality", "elsewhere"),
}


def to_japanese(text: str, prefecture: str) -> str | None:
    """Return the Japanese name typed romaji stands for (None: not romaji or not known)."""
    parsed = parse(text)
    if parsed is None:
        return None
    kind, key = parsed
    index = names(prefecture)
    for group in _ORDER[kind]:
        found = index[group].get(key)
        if found:
            return found[0]
    return None


def suggest(text: str, prefecture: str, limit: int = 5) -> list[str]:
    """Return names of the prefecture whose romanised reading is close to typed romaji."""
    parsed = parse(text)
    if parsed is None:
        return []
    index = names(prefecture)
    keys = {**index["station"], **index["municipality"]}
    close = difflib.get_close_matches(parsed[1], list(keys), n=limit, cutoff=0.75)
    return list(dict.fromkeys(keys[k][0] for k in close))
