"""Programme dashboard figures: facilities, answers, acceptance, verification and open reports.

Read-only; no request globals. Facilities are in scope when their prefecture code is the
configured one; each is counted under its municipality code, and those whose code is not one
of the municipalities the caller hands in (from the gazetteer) are counted in `unassigned`.
"Verified recently" follows the rest of the product (listing badges, coverage report): the
current answer, or the clinic's latest "still accurate" confirmation, is at most 365 days old
on today's date in Japan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

from sqlmodel import Session, col, select

from surveys.errors import SurveyError
from surveys.listings import Listing, accepts, load_listings
from surveys.models import Facility
from surveys.operations import today_in_japan
from surveys.places import Municipality
from surveys.reports import open_reports

BATCH = 500  # facility ids per query, well under every database's bound-parameter limit


class DashboardError(SurveyError):
    """The dashboard was given no municipality: the gazetteer does not know the prefecture."""

    status = 500
    message_ja = "設定された都道府県コードが不明です。"
    message_en = "The configured prefecture code is unknown."


@dataclass(frozen=True)
class Figures:
    """Counts for a set of facilities."""

    facilities: int = 0
    answered: int = 0
    accepting_pregnant: int = 0
    accepting_postpartum: int = 0
    verified_recently: int = 0
    open_reports: int = 0

    def __add__(self, other: Figures) -> Figures:
        """Add two sets of counts."""
        return Figures(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


@dataclass(frozen=True)
class MunicipalityFigures:
    """One municipality's counts."""

    code: str
    name: str
    figures: Figures


@dataclass(frozen=True)
class Dashboard:
    """The whole prefecture, each of its municipalities, and facilities of no known one."""

    prefecture: str
    today: date
    total: Figures
    municipalities: list[MunicipalityFigures]
    unassigned: Figures


@dataclass(frozen=True)
class Site:
    """An accepting facility on the map."""

    id: int
    name: str
    lat: float
    lng: float
    pregnant: bool
    postpartum: bool


def dashboard(
    session: Session,
    prefecture_code: str,
    prefecture: str,
    areas: Sequence[Municipality],
    now: datetime | None = None,
) -> Dashboard:
    """Compute the figures for the facilities of one prefecture, given its municipalities."""
    code = prefecture_code.zfill(2)
    if not areas:
        raise DashboardError()
    today = today_in_japan(now)
    listings = scope_listings(session, code)
    reports = _open_report_counts(session, [x.facility.id for x in listings])
    grouped: dict[str, list[Listing]] = defaultdict(list)
    for listing in listings:
        grouped[listing.facility.municipality_code].append(listing)
    rows = [
        MunicipalityFigures(m.code, m.name, figures(grouped.pop(m.code, []), reports, today))
        for m in areas
    ]
    rest = [x for group in grouped.values() for x in group]
    return Dashboard(
        prefecture=prefecture,
        today=today,
        total=figures(listings, reports, today),
        municipalities=rows,
        unassigned=figures(rest, reports, today),
    )


def figures(listings: list[Listing], reports: dict[int, int], today: date) -> Figures:
    """Count answers, acceptance, recent verification and open reports of some facilities."""
    return Figures(
        facilities=len(listings),
        answered=sum(1 for x in listings if x.response is not None),
        accepting_pregnant=sum(1 for x in listings if accepts(x, "pregnant")),
        accepting_postpartum=sum(1 for x in listings if accepts(x, "postpartum")),
        verified_recently=sum(1 for x in listings if not x.is_stale(today)),
        open_reports=sum(reports.get(x.facility.id, 0) for x in listings),
    )


def scope_listings(session: Session, prefecture_code: str) -> list[Listing]:
    """Load the prefecture's psychiatric facilities with their current answers, ordered by id."""
    query = select(Facility.id).where(
        Facility.prefecture_code == prefecture_code, Facility.category == "psychiatric"
    )
    ids = list(session.exec(query.order_by(col(Facility.id))))
    found: dict[int, Listing] = {}
    for start in range(0, len(ids), BATCH):
        found.update(load_listings(session, ids[start : start + BATCH]))
    return [found[i] for i in ids]


def accepting_sites(listings: list[Listing]) -> list[Site]:
    """Return the facilities with coordinates that accept pregnant or postpartum patients."""
    sites = []
    for x in listings:
        pregnant, postpartum = accepts(x, "pregnant"), accepts(x, "postpartum")
        if (pregnant or postpartum) and x.facility.lat is not None and x.facility.lng is not None:
            f = x.facility
            sites.append(Site(f.id, f.name, f.lat, f.lng, pregnant, postpartum))
    return sites


def _open_report_counts(session: Session, facility_ids: list[int]) -> dict[int, int]:
    """Return the number of open access reports per facility."""
    counts: dict[int, int] = {}
    for start in range(0, len(facility_ids), BATCH):
        found = open_reports(session, facility_ids[start : start + BATCH])
        counts.update({facility_id: len(rows) for facility_id, rows in found.items()})
    return counts
