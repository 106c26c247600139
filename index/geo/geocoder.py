"""Offline geocoder over the bundled gazetteer: addresses, stations, postal codes, municipalities.

The app calls :func:`geocode` (or an :class:`OfflineGeocoder`); index.geo.locators lets an
online geopy geocoder be configured in its place.
"""

from __future__ import annotations

import difflib
import re
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache

from index.geo import gazetteer as gz
from index.geo import romaji
from index.geo.errors import AddressNotUnderstood
from index.geo.normalize import clean, fold, postal_code, strip_brackets

LEVELS = ("town", "municipality", "station", "postal_code", "prefecture")
_LEADING_NUMBER = re.compile(r"^(\d+)(丁目|丁|-|番|の|$)")
_HAS_DIGIT = re.compile(r"\d")
_NOISE = ("日本国", "日本")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")


@dataclass(frozen=True)
class GeocodeResult:
    """A located query: point, level matched, and the place as we understood it."""

    query: str
    lat: float
    lng: float
    level: str
    label: str
    prefecture: str = ""
    municipality_code: str = ""
    approximate: bool = False
    alternatives: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()  # what the text may have meant, when matched loosely

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        data = asdict(self)
        data["alternatives"] = list(self.alternatives)
        data["suggestions"] = list(self.suggestions)
        return data


@dataclass
class _Match:
    """Candidate town found in one municipality."""

    group: gz.TownGroup
    town: gz.Town | None
    approximate: bool = False
    alternatives: list[str] = field(default_factory=list)


def _median(towns: Sequence[gz.Town]) -> tuple[float, float]:
    """Return the per-axis median point of located towns."""
    return (
        statistics.median(t.lat for t in towns if t.lat is not None),
        statistics.median(t.lng for t in towns if t.lng is not None),
    )


class OfflineGeocoder:
    """Geocode what a nurse types, using only the bundled gazetteer."""

    def __init__(self, preferred_prefecture: str = gz.TOKYO):
        if preferred_prefecture not in gz.prefecture_codes():
            raise ValueError(f"unknown prefecture: {preferred_prefecture}")
        self.preferred = preferred_prefecture

    def geocode(self, query: str) -> GeocodeResult:
        """Return the place a query names; raise AddressNotUnderstood if none is found."""
        text = clean(query or "")
        if not text:
            raise AddressNotUnderstood(query or "", reason_ja="入力が空です。")
        if romaji.parse(query) is not None:  # "Kinshicho", "Setagaya-ku": look up the reading
            text = romaji.to_japanese(query, self.preferred) or ""
            if not text:
                raise AddressNotUnderstood(query, romaji.suggest(query, self.preferred))
        result = (
            self._postal(query, text)
            or self._station(query, text, anywhere=False)
            or self._address(query, text)
            or self._station(query, text, anywhere=True)
            or self._nationwide(query, text)
            or self._prefecture(query, text)
        )
        if result is None:
            raise AddressNotUnderstood(query, self.suggest(text))
        return self._with_suggestions(result, text)

    def _with_suggestions(self, result: GeocodeResult, text: str) -> GeocodeResult:
        """Add suggestions when the text matched only loosely (a station name that became a
        town, or a town whose rest was not understood)."""
        asked_station = fold(strip_brackets(text)[0]).endswith("駅")
        if (asked_station and result.level != "station") or (
            result.approximate and result.level == "town"
        ):
            found = [s for s in self.suggest(text) if s not in result.label]
            found.sort(key=lambda s: asked_station and not s.endswith("駅"))
            return replace(result, suggestions=tuple(found))
        return result

    def suggest(self, text: str, limit: int = 5) -> list[str]:
        """Return known names close to a text that was not understood (spelling or reading)."""
        key = fold(strip_brackets(text)[0]).removesuffix("駅")
        names = {
            fold(c.name): c.name
            for cs in gz.city_index().values()
            for c in cs
            if c.prefecture == self.preferred
        }
        pref_code = gz.prefecture_codes()[self.preferred]
        names.update(
            {
                k.removeprefix("kana:"): s[0].name + "駅"
                for k, s in gz.station_index().items()
                if s[0].prefecture_code == pref_code
            }
        )
        for towns in gz.town_groups(self.preferred).values():
            names.update({k: g[0].city + g[0].name for k, g in towns.items() if len(k) > 1})
        close = difflib.get_close_matches(key, list(names), n=limit, cutoff=0.6)
        return [names[k] for k in close]

    # postal codes ------------------------------------------------------------------------

    def _postal(self, query: str, text: str) -> GeocodeResult | None:
        """Resolve '136-0071' / '〒1360071' (an address after the code wins if it resolves)."""
        found = postal_code(text)
        if found is None:
            return None
        code, rest = found
        if rest:
            located = self._address(query, rest) or self._station(query, rest, anywhere=True)
            if located is not None:
                return located
        areas = [a for a in gz.postal_codes(code) if a.lat is not None]
        if not areas:
            raise AddressNotUnderstood(
                query, reason_ja=f"郵便番号 {code[:3]}-{code[3:]} は見つかりません。"
            )
        return self._postal_result(query, code, areas)

    def _postal_result(self, query: str, code: str, areas: list[gz.PostalCode]) -> GeocodeResult:
        """Build the result of a postal code (first area; others listed as alternatives)."""
        area = areas[0]
        label = f"〒{code[:3]}-{code[3:]} {area.prefecture}{area.city}{area.town}"
        others = tuple(f"{a.prefecture}{a.city}{a.town}" for a in areas[1:])
        muni = gz.municipality_code(area.prefecture, area.city)
        return GeocodeResult(
            query,
            area.lat,
            area.lng,
            "postal_code",
            label,
            area.prefecture,
            muni,  # type: ignore[arg-type]
            area.level != "town",
            others,
        )

    # stations ----------------------------------------------------------------------------

    def _station(self, query: str, text: str, anywhere: bool) -> GeocodeResult | None:
        """Resolve '新宿駅', '新宿駅（JR）', '新宿(小田急線)' and a bare '新宿'.

        A bare name matches only stations of the preferred prefecture unless `anywhere`, so that
        a town of that prefecture wins over a same-named station elsewhere (本町).
        """
        name, hint = strip_brackets(text)
        key = fold(name)
        explicit = key.endswith("駅") or bool(hint)
        key = key.removesuffix("駅").removesuffix("停留場").removesuffix("停留所")
        if not explicit and _HAS_DIGIT.search(key):
            return None
        if not (explicit or anywhere) and self._starts_with_place(key):
            return None
        stations = gz.station_index().get(key) or gz.station_index().get("kana:" + key, [])
        if not (explicit or anywhere):
            pref_code = gz.prefecture_codes()[self.preferred]
            stations = [s for s in stations if s.prefecture_code == pref_code]
        if not stations:
            return None
        return self._station_result(query, self._pick_station(stations, hint), hint)

    def _starts_with_place(self, key: str) -> bool:
        """Tell whether a text starts with a prefecture or municipality name."""
        return any(key.startswith(k) for k in gz.prefecture_keys()) or any(
            key.startswith(k) for k in gz.city_index()
        )

    def _pick_station(self, stations: list[gz.Station], hint: str) -> gz.Station:
        """Choose among same-named stations: line/operator hint, then preferred prefecture."""
        pref_code = gz.prefecture_codes()[self.preferred]
        hint_key = fold(hint).removesuffix("線")

        def score(s: gz.Station) -> tuple[bool, bool, int]:
            pref = gz.prefectures()[s.prefecture_code]
            served = [fold(x) for x in (*s.lines, *s.operators, s.display_name, pref)]
            hinted = bool(hint_key) and any(hint_key in x for x in served)
            return (hinted, s.prefecture_code == pref_code, len(s.lines))

        return max(stations, key=score)

    def _station_result(self, query: str, station: gz.Station, hint: str) -> GeocodeResult:
        """Build the result of a station; lines matching the hint are named first."""
        pref = gz.prefectures()[station.prefecture_code]
        hint_key = fold(hint).removesuffix("線")
        ordered = sorted(station.lines, key=lambda x: not (hint_key and hint_key in fold(x)))
        lines = "・".join(ordered[:3]) + ("ほか" if len(ordered) > 3 else "")
        label = f"{station.name}駅（{pref}" + (f"、{lines}" if lines else "") + "）"
        return GeocodeResult(query, station.lat, station.lng, "station", label, pref)

    # addresses and municipalities ---------------------------------------------------------

    def _address(self, query: str, text: str) -> GeocodeResult | None:
        """Resolve an address or a municipality name, with or without the prefecture."""
        key = fold(text)
        for noise in _NOISE:
            key = key.removeprefix(noise)
        pref, key = self._split_prefecture(key)
        cities, rest = self._split_city(pref, key)
        if cities:
            return self._in_cities(query, cities, rest)
        prefs = [pref] if pref else [self.preferred]
        match = self._find_town(prefs, list(gz.town_groups(prefs[0])), key, shortest=2)
        return self._town_result(query, match) if match else None

    def _prefecture(self, query: str, text: str) -> GeocodeResult | None:
        """Resolve a prefecture on its own ('大阪府'): the median of its municipalities."""
        pref, rest = self._split_prefecture(fold(text))
        if pref is None or rest:
            return None
        code = gz.prefecture_codes()[pref]
        points = [(m.lat, m.lng) for m in gz.municipalities(code) if m.lat is not None]
        lat = statistics.median(p[0] for p in points)
        lng = statistics.median(p[1] for p in points)
        return GeocodeResult(query, lat, lng, "prefecture", pref, pref, approximate=True)

    def _nationwide(self, query: str, text: str) -> GeocodeResult | None:
        """Resolve a town name without prefecture or municipality anywhere in Japan."""
        match = self._find_town_nationwide(fold(text))
        return self._town_result(query, match) if match else None

    def _split_prefecture(self, key: str) -> tuple[str | None, str]:
        """Strip a leading prefecture; return (prefecture or None, rest)."""
        for name_key, name in sorted(gz.prefecture_keys().items(), key=lambda kv: -len(kv[0])):
            rest = key[len(name_key) :]
            if not key.startswith(name_key):
                continue
            if name_key == fold(name) or (
                self._rest_is_place(rest) and not self._rest_is_place(key)
            ):
                return name, rest
        return None, key

    def _rest_is_place(self, rest: str) -> bool:
        """Tell whether what follows a prefecture-like prefix starts with a municipality."""
        return rest == "" or any(rest.startswith(k) for k in gz.city_index())

    def _split_city(self, pref: str | None, key: str) -> tuple[list[gz.City], str]:
        """Strip the longest leading municipality name; candidates ordered by preference."""
        for n in range(len(key), 0, -1):
            cities = [c for c in gz.city_index().get(key[:n], []) if pref in (None, c.prefecture)]
            if cities:
                cities.sort(key=lambda c: (c.prefecture != self.preferred, c.code == "", c.code))
                return cities, key[n:]
        return [], key

    def _in_cities(self, query: str, cities: list[gz.City], rest: str) -> GeocodeResult | None:
        """Resolve the rest of an address inside candidate municipalities."""
        rest = rest.replace("大字", "").removeprefix("字")
        if rest:
            for city in cities:
                match = self._find_town([city.prefecture], list(city.wards), rest)
                if match is not None:
                    return self._town_result(query, match)
        city = next((c for c in cities if c.lat is not None), None)
        if city is None:
            return None
        others = tuple(f"{c.prefecture}{c.name}" for c in cities if c is not city)
        return GeocodeResult(
            query,
            city.lat,
            city.lng,
            "municipality",
            f"{city.prefecture}{city.name}",  # type: ignore[arg-type]
            city.prefecture,
            city.code,
            bool(rest),
            others,
        )

    def _find_town(
        self, prefs: list[str], wards: list[str], key: str, shortest: int = 1
    ) -> _Match | None:
        """Find the longest town name that starts the key, within some municipalities."""
        key = key.replace("大字", "")
        for n in range(len(key), shortest - 1, -1):
            groups = [
                g
                for p in prefs
                for w in wards
                for g in gz.town_groups(p).get(w, {}).get(key[:n], [])
            ]
            groups = [g for g in groups if g.located()]
            if groups:
                return self._pick_town(groups, key[n:])
        return None

    def _find_town_nationwide(self, key: str) -> _Match | None:
        """Find a town of at least two characters anywhere in Japan (preferred first)."""
        if not _JAPANESE.search(key):
            return None
        names = gz.town_name_index()
        pref_code = gz.prefecture_codes()[self.preferred]
        for n in range(len(key), 1, -1):
            codes = sorted(names.get(key[:n], ()), key=lambda c: c != pref_code)
            for code in codes:
                pref = gz.prefectures()[code]
                match = self._find_town([pref], list(gz.town_groups(pref)), key, shortest=n)
                if match is not None:
                    return match
        return None

    def _pick_town(self, groups: list[gz.TownGroup], rest: str) -> _Match:
        """Choose the group and the row (丁目 or 小字) a rest of address points to."""
        number = _LEADING_NUMBER.match(rest)
        chome = int(number.group(1)) if number else None
        groups.sort(key=lambda g: (chome not in g.chome, g.municipality_code, g.city))
        group = groups[0]
        match = _Match(group, None, alternatives=[g.label for g in groups[1:]])
        koaza = rest.removeprefix("字")
        koaza_town = next((t for k, t in group.koaza.items() if koaza.startswith(k)), None)
        if chome in group.chome and group.chome[chome].lat is not None:
            match.town = group.chome[chome]
        elif koaza_town is not None and koaza_town.lat is not None:
            match.town = koaza_town
        elif group.plain is not None and group.plain.lat is not None:
            match.town = group.plain
        else:
            match.approximate = bool(rest) and bool(group.chome)
        return match

    def _town_result(self, query: str, match: _Match) -> GeocodeResult:
        """Build the result of a town (a 丁目 or 小字 when known, else the town's centre)."""
        group, town = match.group, match.town
        if town is not None and town.lat is not None:
            lat, lng, label = town.lat, town.lng, town.label
        else:
            (lat, lng), label = _median(group.located()), group.label
        if match.alternatives:
            label += f"（同名の町がほかに{len(match.alternatives)}件）"
        return GeocodeResult(
            query,
            lat,
            lng,
            "town",
            label,
            group.prefecture,
            group.municipality_code,  # type: ignore[arg-type]
            match.approximate,
            tuple(match.alternatives),
        )


@lru_cache(maxsize=4)
def default_geocoder(preferred_prefecture: str = gz.TOKYO) -> OfflineGeocoder:
    """Return a shared OfflineGeocoder for a preferred prefecture."""
    return OfflineGeocoder(preferred_prefecture)


def geocode(query: str, preferred_prefecture: str = gz.TOKYO) -> GeocodeResult:
    """Geocode a query offline; raise AddressNotUnderstood with suggestions if unknown."""
    return default_geocoder(preferred_prefecture).geocode(query)
