"""Coverage-gap report: per municipality, how many facilities accept perinatal patients and how
far each town is from the nearest one. Read-only; no request globals.

Counts are per municipality (the facility's municipality code). Distances run from each town
point of the bundled gazetteer to the nearest accepting facility anywhere in the database, not
only in the town's own municipality; towns and facilities without coordinates are left out of
the distances and counted instead. Distances are great-circle (haversine) distances, not travel
distances: an island's figure says "no accepting facility on the island", not a travel time.
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from index.errors import IndexDomainError
from index.geo.distance import haversine_np
from index.geo.gazetteer import Municipality, Town, load_towns, municipalities, prefectures
from surveys.bilingual import bilingual
from surveys.exports.spreadsheet import write_csv
from surveys.exports.table import Table
from surveys.listings import Listing, accepts, load_listings
from surveys.models import Facility, utcnow
from surveys.operations import TOKYO, today_in_japan

KINDS = ("pregnant", "postpartum")  # questionnaire items asking whether a group is accepted
DEFAULT_THRESHOLD_KM = 10.0
BATCH = 500  # facility ids per query, well under every database's bound-parameter limit
TOWN_CHUNK = 1024  # towns per distance matrix: bounds memory at (chunk x facilities) floats


class CoverageError(IndexDomainError):
    """The report was asked with arguments it cannot honour."""

    message_ja = "距離のしきい値は0より大きい数（km）で指定してください。"
    message_en = "The distance threshold must be a number of kilometres greater than 0."


@dataclass(frozen=True)
class Reach:
    """Distances from a municipality's towns to the nearest accepting facility.

    median_km and worst_km are None when the municipality has no town with coordinates or no
    facility anywhere accepts; towns_beyond counts towns farther than the threshold or with no
    accepting facility at all.
    """

    median_km: float | None
    worst_km: float | None
    towns_beyond: int


@dataclass(frozen=True)
class MunicipalityCoverage:
    """One municipality's facilities, answers and distances."""

    code: str
    name: str
    facilities: int
    answered: int
    accepting_pregnant: int
    accepting_postpartum: int
    verified_recently: int  # verified within the last 12 months (365 days)
    facilities_without_coordinates: int
    towns: int  # town points with coordinates, used for the distances
    towns_without_coordinates: int  # skipped
    pregnant: Reach
    postpartum: Reach


@dataclass(frozen=True)
class TownGap:
    """A town farther than the threshold from the nearest facility accepting a group."""

    municipality_code: str
    municipality: str
    town: str
    lat: float
    lng: float
    pregnant_km: float | None  # None: no facility accepts pregnant patients at all
    postpartum_km: float | None
    pregnant_beyond: bool
    postpartum_beyond: bool


@dataclass(frozen=True)
class CoverageReport:
    """The whole report; facility counts outside municipalities say what the rows leave out."""

    generated_at: datetime
    prefecture: str
    threshold_km: float
    municipalities: list[MunicipalityCoverage]
    gaps: list[TownGap]
    facilities: int  # every facility in the database
    facilities_without_coordinates: int  # left out of every distance
    accepting_without_coordinates: dict[str, int]  # per group: accepting but not on the map
    unassigned_facilities: int  # municipality code not of this prefecture: distances only


def prefecture_coverage(
    session: Session,
    prefecture_code: str,
    threshold_km: float = DEFAULT_THRESHOLD_KM,
    now: datetime | None = None,
) -> CoverageReport:
    """Compute the report for every municipality of a prefecture on the bundled gazetteer."""
    code = prefecture_code.zfill(2)
    if code not in prefectures():
        raise CoverageError(f"都道府県コード「{code}」は不明です。", f"Unknown prefecture {code}.")
    return compute_coverage(
        session, municipalities(code), load_towns(code), threshold_km, now, prefectures()[code]
    )


def compute_coverage(
    session: Session,
    areas: list[Municipality],
    towns: list[Town],
    threshold_km: float = DEFAULT_THRESHOLD_KM,
    now: datetime | None = None,
    prefecture: str = "",
) -> CoverageReport:
    """Compute the report for these municipalities and their town points."""
    _check_threshold(threshold_km)
    moment = now or utcnow()
    listings = all_listings(session)
    codes = {m.code for m in areas}
    towns = [t for t in towns if t.municipality_code in codes]
    located = [t for t in towns if _is_point(t.lat, t.lng)]
    distances = {kind: _town_distances(located, listings, kind) for kind in KINDS}
    context = _Context(listings, located, towns, distances, threshold_km, today_in_japan(moment))
    return CoverageReport(
        generated_at=moment,
        prefecture=prefecture,
        threshold_km=threshold_km,
        municipalities=[_municipality(m, context) for m in areas],
        gaps=_gaps(areas, context),
        facilities=len(listings),
        facilities_without_coordinates=sum(1 for x in listings if not _has_point(x)),
        accepting_without_coordinates={
            kind: sum(1 for x in listings if accepts(x, kind) and not _has_point(x))
            for kind in KINDS
        },
        unassigned_facilities=sum(1 for x in listings if x.facility.municipality_code not in codes),
    )


def all_listings(session: Session) -> list[Listing]:
    """Load every psychiatric facility with its current answers, in batches, ordered by id."""
    query = select(Facility.id).where(Facility.category == "psychiatric")
    ids = list(session.exec(query.order_by(col(Facility.id))))
    found: dict[int, Listing] = {}
    for start in range(0, len(ids), BATCH):
        found.update(load_listings(session, ids[start : start + BATCH]))
    return [found[i] for i in ids]


def nearest_km(
    lats: np.ndarray, lngs: np.ndarray, site_lats: np.ndarray, site_lngs: np.ndarray
) -> np.ndarray:
    """Return each point's great-circle distance to the nearest site (NaN if there is none)."""
    out = np.full(len(lats), np.nan)
    if len(site_lats) == 0:
        return out
    for start in range(0, len(lats), TOWN_CHUNK):
        stop = start + TOWN_CHUNK
        # haversine_np broadcasts: a column of origins against a row of sites.
        matrix = haversine_np(lats[start:stop, None], lngs[start:stop, None], site_lats, site_lngs)
        out[start:stop] = matrix.min(axis=1)
    return out


def _check_threshold(threshold_km: float) -> None:
    """Refuse a threshold that is not a positive, finite number."""
    if not (isinstance(threshold_km, int | float) and 0 < threshold_km < math.inf):
        raise CoverageError()


def _is_point(lat: float | None, lng: float | None) -> bool:
    """Tell whether both coordinates are known numbers."""
    return lat is not None and lng is not None and math.isfinite(lat) and math.isfinite(lng)


def _has_point(listing: Listing) -> bool:
    """Tell whether a facility is on the map."""
    return _is_point(listing.facility.lat, listing.facility.lng)


def _town_distances(located: list[Town], listings: list[Listing], kind: str) -> np.ndarray:
    """Return each located town's distance to the nearest located facility accepting `kind`."""
    sites = [x.facility for x in listings if accepts(x, kind) and _has_point(x)]
    return nearest_km(
        np.array([t.lat for t in located], dtype=float),
        np.array([t.lng for t in located], dtype=float),
        np.array([f.lat for f in sites], dtype=float),
        np.array([f.lng for f in sites], dtype=float),
    )


class _Context:
    """What every municipality's row is computed from, indexed by municipality code."""

    def __init__(self, listings, located, towns, distances, threshold_km, today):
        self.listings: dict[str, list[Listing]] = defaultdict(list)
        for listing in listings:
            self.listings[listing.facility.municipality_code].append(listing)
        self.located = located
        self.positions: dict[str, list[int]] = defaultdict(list)
        for i, town in enumerate(located):
            self.positions[town.municipality_code].append(i)
        self.unlocated = Counter(t.municipality_code for t in towns if not _is_point(t.lat, t.lng))
        self.distances = distances
        self.beyond = {k: np.isnan(d) | (d > threshold_km) for k, d in distances.items()}
        self.today = today


def _municipality(area: Municipality, context: _Context) -> MunicipalityCoverage:
    """Compute one municipality's row."""
    mine = context.listings.get(area.code, [])
    positions = np.array(context.positions.get(area.code, []), dtype=int)
    return MunicipalityCoverage(
        code=area.code,
        name=area.name,
        facilities=len(mine),
        answered=sum(1 for x in mine if x.response is not None),
        accepting_pregnant=sum(1 for x in mine if accepts(x, "pregnant")),
        accepting_postpartum=sum(1 for x in mine if accepts(x, "postpartum")),
        verified_recently=sum(1 for x in mine if not x.is_stale(context.today)),
        facilities_without_coordinates=sum(1 for x in mine if not _has_point(x)),
        towns=len(positions),
        towns_without_coordinates=context.unlocated.get(area.code, 0),
        pregnant=_reach(context, "pregnant", positions),
        postpartum=_reach(context, "postpartum", positions),
    )


def _reach(context: _Context, kind: str, positions: np.ndarray) -> Reach:
    """Summarise the distances of some towns; None where there is nothing to measure."""
    values = context.distances[kind][positions]
    beyond = int(context.beyond[kind][positions].sum())
    if len(values) == 0 or np.isnan(values).any():
        return Reach(None, None, beyond)
    return Reach(float(np.median(values)), float(values.max()), beyond)


def _gaps(areas: list[Municipality], context: _Context) -> list[TownGap]:
    """List the towns beyond the threshold for either group: by municipality, farthest first."""
    names = {m.code: m.name for m in areas}
    order = {m.code: i for i, m in enumerate(areas)}
    either = context.beyond["pregnant"] | context.beyond["postpartum"]
    gaps = [_gap(context, int(i), names) for i in np.flatnonzero(either)]
    return sorted(gaps, key=lambda g: (order[g.municipality_code], -_worst(g)))


def _gap(context: _Context, i: int, names: dict[str, str]) -> TownGap:
    """Describe one town beyond the threshold."""
    town = context.located[i]
    return TownGap(
        municipality_code=town.municipality_code,
        municipality=names[town.municipality_code],
        town=f"{town.town}{town.koaza}",
        lat=float(town.lat),
        lng=float(town.lng),
        pregnant_km=_km(context.distances["pregnant"][i]),
        postpartum_km=_km(context.distances["postpartum"][i]),
        pregnant_beyond=bool(context.beyond["pregnant"][i]),
        postpartum_beyond=bool(context.beyond["postpartum"][i]),
    )


def _km(value: float) -> float | None:
    """Return a distance as a plain float, None for NaN (no accepting facility)."""
    return None if math.isnan(value) else float(value)


def _worst(gap: TownGap) -> float:
    """Return the larger of a town's distances; no accepting facility counts as farthest."""
    values = (gap.pregnant_km, gap.postpartum_km)
    return math.inf if None in values else max(values)  # type: ignore[type-var]


# --- Serialisation: flat records shared by CSV and JSON ----------------------------------------

MUNICIPALITY_COLUMNS = (
    ("code", "市区町村コード", "Municipality code"),
    ("name", "市区町村", "Municipality"),
    ("facilities", "医療機関数", "Facilities"),
    ("answered", "回答あり", "Answered"),
    ("accepting_pregnant", "妊娠中の方を受入れ", "Accepting pregnant"),
    ("accepting_postpartum", "産後の方を受入れ", "Accepting postpartum"),
    ("verified_recently", "12か月以内に確認", "Verified within 12 months"),
    ("facilities_without_coordinates", "座標なしの医療機関", "Facilities without coordinates"),
    ("towns", "町丁目数（距離計算）", "Towns measured"),
    ("towns_without_coordinates", "座標なしの町丁目", "Towns without coordinates"),
    ("pregnant_median_km", "妊娠中：距離の中央値(km)", "Pregnant: median km"),
    ("pregnant_worst_km", "妊娠中：最大距離(km)", "Pregnant: worst km"),
    ("pregnant_towns_beyond", "妊娠中：しきい値超の町丁目", "Pregnant: towns beyond threshold"),
    ("postpartum_median_km", "産後：距離の中央値(km)", "Postpartum: median km"),
    ("postpartum_worst_km", "産後：最大距離(km)", "Postpartum: worst km"),
    ("postpartum_towns_beyond", "産後：しきい値超の町丁目", "Postpartum: towns beyond threshold"),
)
FLAG_WORDS = {"ja": {True: "はい", False: "いいえ"}, "en": {True: "yes", False: "no"}}
TOWN_COLUMNS = (
    ("municipality_code", "市区町村コード", "Municipality code"),
    ("municipality", "市区町村", "Municipality"),
    ("town", "町丁目", "Town"),
    ("lat", "緯度", "Latitude"),
    ("lng", "経度", "Longitude"),
    ("pregnant_km", "妊娠中：最寄りまで(km)", "Pregnant: nearest km"),
    ("postpartum_km", "産後：最寄りまで(km)", "Postpartum: nearest km"),
    ("pregnant_beyond", "妊娠中：しきい値超", "Pregnant: beyond threshold"),
    ("postpartum_beyond", "産後：しきい値超", "Postpartum: beyond threshold"),
)


def municipality_record(row: MunicipalityCoverage) -> dict[str, Any]:
    """Flatten one municipality's row; distances rounded to 10 m."""
    record = {key: getattr(row, key) for key, _ja, _en in MUNICIPALITY_COLUMNS[:10]}
    for kind in KINDS:
        reach: Reach = getattr(row, kind)
        record[f"{kind}_median_km"] = _round(reach.median_km)
        record[f"{kind}_worst_km"] = _round(reach.worst_km)
        record[f"{kind}_towns_beyond"] = reach.towns_beyond
    return record


def gap_record(gap: TownGap) -> dict[str, Any]:
    """Flatten one town beyond the threshold; distances rounded to 10 m."""
    record = {key: getattr(gap, key) for key, _ja, _en in TOWN_COLUMNS}
    record["pregnant_km"] = _round(gap.pregnant_km)
    record["postpartum_km"] = _round(gap.postpartum_km)
    return record


def report_json(report: CoverageReport) -> str:
    """Return the report as JSON (unknown distances are null, never NaN or Infinity)."""
    document = {
        "generated_at": report.generated_at.astimezone(TOKYO).isoformat(timespec="seconds"),
        "prefecture": report.prefecture,
        "threshold_km": report.threshold_km,
        "facilities": report.facilities,
        "facilities_without_coordinates": report.facilities_without_coordinates,
        "accepting_without_coordinates": report.accepting_without_coordinates,
        "unassigned_facilities": report.unassigned_facilities,
        "municipalities": [municipality_record(row) for row in report.municipalities],
        "towns_beyond_threshold": [gap_record(gap) for gap in report.gaps],
    }
    return json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False)


def report_csv(report: CoverageReport, towns: bool = False, lang: str = "ja") -> bytes:
    """Return the municipality rows (or the towns beyond the threshold) as CSV for Excel."""
    columns = TOWN_COLUMNS if towns else MUNICIPALITY_COLUMNS
    records = [gap_record(g) for g in report.gaps] if towns else report_records(report)
    headers = [bilingual(lang, ja, en) for _key, ja, en in columns]
    rows = [[_cell(r[key], lang) for key, _ja, _en in columns] for r in records]
    return write_csv(Table(headers, rows))


def report_records(report: CoverageReport) -> list[dict[str, Any]]:
    """Return the municipality rows as flat records."""
    return [municipality_record(row) for row in report.municipalities]


def _cell(value: Any, lang: str) -> Any:
    """Render a flag as a word a spreadsheet reader understands; other values unchanged."""
    if isinstance(value, bool):
        return bilingual(lang, FLAG_WORDS["ja"], FLAG_WORDS["en"])[value]
    return value


def _round(value: float | None) -> float | None:
    """Round a distance to 0.01 km (10 m); keep None."""
    return None if value is None else round(value, 2)
