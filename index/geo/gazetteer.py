"""Loaders over the bundled gazetteer files in index/geo/data (see its NOTICE.md)."""

from __future__ import annotations

import gzip
import re
import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from index.geo.normalize import fold, kanji_to_int, town_key

DATA_DIR = Path(__file__).parent / "data"
TOKYO = "東京都"
_DESIGNATED = re.compile(r"^(.+?市)(.+区)$")


@dataclass(frozen=True)
class Town:
    """A town or district (大字・町丁目, optionally a 小字) with its representative point."""

    prefecture: str
    city: str
    town: str
    lat: float | None
    lng: float | None
    municipality_code: str
    koaza: str = ""

    @property
    def label(self) -> str:
        """Return the full written name, e.g. 東京都江東区亀戸八丁目."""
        return f"{self.prefecture}{self.city}{self.town}{self.koaza}"


@dataclass(frozen=True)
class Municipality:
    """A municipality (区市町村) with its 5-digit JIS X 0402 code ('' where unknown)."""

    code: str
    prefecture: str
    name: str
    aliases: tuple[str, ...] = ()
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class Station:
    """An active railway station with the lines and operators that serve it."""

    name: str
    display_name: str
    kana: str
    lat: float
    lng: float
    prefecture_code: str
    lines: tuple[str, ...]
    operators: tuple[str, ...]


@dataclass(frozen=True)
class PostalCode:
    """A postal code with its area and a point (town-level or municipality centroid)."""

    code: str
    prefecture: str
    city: str
    town: str
    lat: float | None
    lng: float | None
    level: str


@lru_cache(maxsize=8)
def read_text(name: str) -> str:
    """Return the text of a bundled TSV file (gzip-compressed if .gz), header included."""
    raw = (DATA_DIR / name).read_bytes()
    if name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8")


def read_tsv(name: str) -> list[list[str]]:
    """Return the rows of a bundled TSV file, without the header."""
    return [line.split("\t") for line in read_text(name).splitlines()[1:]]


def rows_with_prefix(name: str, prefix: str) -> list[list[str]]:
    """Return the rows whose first column starts with prefix, in a file sorted by it."""
    text = read_text(name)
    start = text.find("\n" + prefix)
    if start < 0:
        return []
    end = start + 1
    while end > 0 and text.startswith(prefix, end):
        end = text.find("\n", end) + 1
    block = text[start + 1 : end if end > 0 else len(text)]
    return [line.split("\t") for line in block.splitlines()]


def _float(text: str) -> float | None:
    """Parse a coordinate; empty means unknown."""
    return float(text) if text else None


@lru_cache(maxsize=1)
def prefectures() -> dict[str, str]:
    """Return two-digit prefecture code -> prefecture name (01 北海道 ... 47 沖縄県)."""
    return dict(read_tsv("prefectures.tsv"))  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def prefecture_codes() -> dict[str, str]:
    """Return prefecture name -> two-digit code."""
    return {name: code for code, name in prefectures().items()}


@lru_cache(maxsize=1)
def _municipalities() -> tuple[Municipality, ...]:
    """Load every municipality."""
    return tuple(
        Municipality(
            code, pref, name, tuple(a for a in aliases.split("|") if a), _float(lat), _float(lng)
        )
        for code, _pc, pref, name, aliases, lat, lng in read_tsv("municipalities.tsv")
    )


def municipalities(prefecture_code: str | None = None) -> list[Municipality]:
    """Return municipalities, all or those of one prefecture (e.g. "13": Tokyo's 62)."""
    rows = _municipalities()
    if prefecture_code is None:
        return list(rows)
    name = prefectures().get(prefecture_code.zfill(2))
    return [m for m in rows if m.prefecture == name]


@lru_cache(maxsize=1)
def _municipality_index() -> dict[str, Municipality]:
    """Index municipalities by code."""
    return {m.code: m for m in _municipalities() if m.code}


def municipality_by_code(code: str) -> Municipality | None:
    """Return the municipality with this 5-digit code, or None."""
    return _municipality_index().get(code.strip())


def five_digit_code(code: str) -> str:
    """Return a municipality code in 5 digits: a 6-digit one (全国地方公共団体コード, with its
    check digit, e.g. 131083) loses a correct check digit; anything else is returned trimmed."""
    code = code.strip()
    if len(code) == 6 and code.isdigit():
        total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
        if (11 - total % 11) % 10 == int(code[5]):
            return code[:5]
    return code


@lru_cache(maxsize=1)
def _municipality_codes() -> dict[tuple[str, str], str]:
    """Index codes by (prefecture, name or alias)."""
    out = {}
    for m in _municipalities():
        for name in (m.name, *m.aliases):
            out[(m.prefecture, name)] = m.code
    return out


def municipality_code(prefecture: str, city: str) -> str:
    """Return the code of a municipality by prefecture and name ('' if unknown)."""
    return _municipality_codes().get((prefecture, city), "")


@lru_cache(maxsize=64)
def _towns_of(pref_code: str) -> tuple[Town, ...]:
    """Build the Town objects of one prefecture."""
    pref = prefectures()[pref_code]
    codes = _municipality_codes()
    return tuple(
        Town(pref, city, town, _float(lat), _float(lng), codes.get((pref, city), ""), koaza)
        for _p, city, town, koaza, lat, lng in rows_with_prefix("towns.tsv.gz", pref_code + "\t")
    )


def load_towns(prefecture: str | None = None) -> list[Town]:
    """Return the towns of one prefecture (by name, e.g. 東京都, or code) or of all Japan."""
    if prefecture is None:
        return [t for code in sorted(prefectures()) for t in _towns_of(code)]
    code = prefecture_codes().get(prefecture, prefecture.zfill(2))
    if code not in prefectures():
        raise KeyError(f"unknown prefecture: {prefecture}")
    return list(_towns_of(code))


@lru_cache(maxsize=1)
def load_stations() -> tuple[Station, ...]:
    """Return every active station of Japan."""
    return tuple(
        Station(name, disp, kana, float(lat), float(lng), pref, _split(lines), _split(ops))
        for name, disp, kana, lat, lng, pref, lines, ops in read_tsv("stations.tsv.gz")
    )


def _split(text: str) -> tuple[str, ...]:
    """Split a |-separated list."""
    return tuple(t for t in text.split("|") if t)


def postal_codes(code: str) -> list[PostalCode]:
    """Return the areas of a seven-digit postal code (several when a code spans towns)."""
    if not (len(code) == 7 and code.isdigit()):
        return []
    names = prefectures()
    return [
        PostalCode(c, names[pref], city, town, _float(lat), _float(lng), level)
        for c, pref, city, town, lat, lng, level in rows_with_prefix("postal_codes.tsv.gz", code)
    ]


@dataclass
class TownGroup:
    """All rows of one town in one municipality: the plain row, its 丁目 and its 小字."""

    prefecture: str
    city: str
    name: str
    municipality_code: str
    plain: Town | None = None
    chome: dict[int, Town] = field(default_factory=dict)
    koaza: dict[str, Town] = field(default_factory=dict)

    def located(self) -> list[Town]:
        """Return the rows of the group that have coordinates."""
        rows = [self.plain, *self.chome.values(), *self.koaza.values()]
        return [t for t in rows if t is not None and t.lat is not None]

    @property
    def label(self) -> str:
        """Return the full written name of the town without 丁目."""
        return f"{self.prefecture}{self.city}{self.name}"


_CHOME_RE = re.compile(r"^(.+?)([〇一二三四五六七八九十]+)丁目$")


def _add_to_group(groups: dict[tuple[str, str], TownGroup], town: Town) -> None:
    """File one town row into its group."""
    match = _CHOME_RE.match(town.town)
    base = match.group(1) if match else town.town
    key = (town.city, base)
    if key not in groups:
        groups[key] = TownGroup(town.prefecture, town.city, base, town.municipality_code)
    group = groups[key]
    if town.koaza:
        group.koaza[town_key(town.koaza)] = town
    elif match:
        group.chome[kanji_to_int(match.group(2)) or 0] = town
    else:
        group.plain = town


@lru_cache(maxsize=64)
def town_groups(prefecture: str) -> dict[str, dict[str, list[TownGroup]]]:
    """Return the towns of a prefecture grouped: folded city -> town key -> groups."""
    groups: dict[tuple[str, str], TownGroup] = {}
    for town in load_towns(prefecture):
        _add_to_group(groups, town)
    out: dict[str, dict[str, list[TownGroup]]] = {}
    for (city, base), group in groups.items():
        out.setdefault(fold(city), {}).setdefault(town_key(base), []).append(group)
    return out


@lru_cache(maxsize=1)
def town_name_index() -> dict[str, tuple[str, ...]]:
    """Return folded town name (without 丁目) -> codes of the prefectures that have it."""
    index: dict[str, set[str]] = {}
    seen: set[tuple[str, str]] = set()
    for line in read_text("towns.tsv.gz").splitlines()[1:]:
        pref, _city, town, _rest = line.split("\t", 3)
        match = _CHOME_RE.match(town)
        base = match.group(1) if match else town
        if (pref, base) not in seen:
            seen.add((pref, base))
            index.setdefault(town_key(base), set()).add(pref)
    return {key: tuple(sorted(prefs)) for key, prefs in index.items()}


@dataclass(frozen=True)
class City:
    """A municipality, or a designated city standing for its wards, as an address prefix."""

    prefecture: str
    name: str
    code: str
    wards: tuple[str, ...]  # folded names of the town tables to search
    lat: float | None
    lng: float | None


@lru_cache(maxsize=1)
def city_index() -> dict[str, list[City]]:
    """Index municipalities and designated cities by every folded spelling of their name."""
    index: dict[str, list[City]] = {}
    wards: dict[tuple[str, str], list[Municipality]] = {}
    for m in municipalities():
        city = City(m.prefecture, m.name, m.code, (fold(m.name),), m.lat, m.lng)
        for name in {m.name, *m.aliases}:
            index.setdefault(fold(name), []).append(city)
        match = _DESIGNATED.match(m.name)
        if match:
            wards.setdefault((m.prefecture, match.group(1)), []).append(m)
    for (pref, name), members in wards.items():
        located = [m for m in members if m.lat is not None]
        lat = statistics.median(m.lat for m in located) if located else None  # type: ignore[misc]
        lng = statistics.median(m.lng for m in located) if located else None  # type: ignore[misc]
        city = City(pref, name, "", tuple(fold(m.name) for m in members), lat, lng)
        index.setdefault(fold(name), []).append(city)
    return index


@lru_cache(maxsize=1)
def prefecture_keys() -> dict[str, str]:
    """Return folded prefecture name (with and without 都府県) -> prefecture name."""
    keys = {fold(name): name for name in prefecture_codes()}
    keys.update({fold(name[:-1]): name for name in prefecture_codes() if name != "北海道"})
    return keys


@lru_cache(maxsize=1)
def station_index() -> dict[str, list[Station]]:
    """Index active stations by folded name, and by folded kana under a "kana:" prefix."""
    index: dict[str, list[Station]] = {}
    for station in load_stations():
        index.setdefault(fold(station.name), []).append(station)
    for station in load_stations():
        index.setdefault("kana:" + fold(station.kana), []).append(station)
    return index
