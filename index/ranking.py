"""The default order (「おすすめ」): one documented score over per-candidate columns, and the
short line that tells a referrer why each result is where it is.

Pure numpy: the searcher hands in one array per column, aligned by candidate. The score is a
penalty in kilometre-equivalents: each thing that makes a visit less likely to work moves a
facility down as if it were that much farther away. Two things are not blended but ranked
apart: facilities that do not accept the situation come after all that do (only shown on
request), and answers older than 24 months come after the fresher ones (and are marked).
A fresh capacity pulse answer of "none" (no room for new perinatal patients this month) puts a
facility after the others of its tier; "little" is a penalty. Referral outcomes count only
from MIN_OUTCOMES answered referrals on (index/capacity.py) and are never shown as a reason.
With `partner_of` (a referring obstetric unit), facilities whose answer names it as a partner
move up by `partner_km` and say so (「紹介元の産科と連携あり」).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta

import numpy as np

from surveys.bilingual import bilingual

FRESH_DAYS = 365  # verified within 12 months ranks above older answers
STALE_DAYS = 730  # older than 24 months: marked and ranked last


@dataclass(frozen=True)
class Weights:
    """The score's weights, in kilometres a facility is moved down (README: おすすめ順)."""

    conditional_km: float = 2.0  # acceptance "条件付き" instead of "受け入れている"
    older_km: float = 3.0  # answer verified 12 to 24 months ago
    wait_week_km: float = 1.0  # each 7 days to a first appointment...
    wait_cap_days: float = 90.0  # ...counted up to this many days
    wait_unknown_days: float = 30.0  # no wait given: counted as a month
    report_km: float = 2.5  # each open "could not get an appointment" report...
    report_cap: int = 4  # ...counted up to this many
    distance_unknown_km: float = 50.0  # no coordinates while a place was given
    little_room_km: float = 1.5  # fresh pulse answer "少し" (a little room this month)
    not_seen_km: float = 5.0  # times the share of counted referrals that did not lead to a visit
    partner_km: float = 3.0  # moved UP: works with the referring obstetric unit (partner_of)


WEIGHTS = Weights()


@dataclass(frozen=True)
class Candidates:
    """Per-candidate columns (equal lengths); `distance_km` is None when no place was given."""

    distance_km: np.ndarray | None  # NaN: facility has no coordinates
    strength: np.ndarray  # 2 yes, 1 conditional, 0 no / unknown, -1 unanswered
    age_days: np.ndarray  # days since the answer was verified; NaN: never
    wait_days: np.ndarray  # NaN: not given
    open_reports: np.ndarray
    accepts: np.ndarray  # bool: accepts the mother's situation
    # Fresh capacity pulse state ("room", "little", "none", "unknown"); None: not known at all.
    capacity: np.ndarray | None = None
    # Share of counted referrals seen (NaN below index/capacity.MIN_OUTCOMES); None: none.
    seen_rate: np.ndarray | None = None
    # bool: names the referring obstetric unit as a partner; None: no partner_of asked.
    partner: np.ndarray | None = None


def penalty(c: Candidates, w: Weights = WEIGHTS) -> np.ndarray:
    """Return each candidate's score in km-equivalents (lower ranks higher)."""
    size = len(c.strength)
    distance = np.zeros(size) if c.distance_km is None else c.distance_km
    score = np.nan_to_num(distance, nan=w.distance_unknown_km)
    score = score + np.where(c.strength == 1, w.conditional_km, 0.0)
    score = score + np.where(np.nan_to_num(c.age_days, nan=np.inf) > FRESH_DAYS, w.older_km, 0.0)
    wait = np.minimum(np.nan_to_num(c.wait_days, nan=w.wait_unknown_days), w.wait_cap_days)
    score = score + wait / 7.0 * w.wait_week_km
    score = score + np.minimum(c.open_reports, w.report_cap) * w.report_km
    if c.capacity is not None:
        score = score + np.where(c.capacity == "little", w.little_room_km, 0.0)
    if c.seen_rate is not None:
        score = score + np.nan_to_num(1.0 - c.seen_rate, nan=0.0) * w.not_seen_km
    if c.partner is not None:
        score = score - np.where(c.partner, w.partner_km, 0.0)
    return score


def no_room(c: Candidates) -> np.ndarray:
    """Tell which candidates said this month (fresh pulse answer) that they have no room."""
    if c.capacity is None:
        return np.zeros(len(c.strength), dtype=bool)
    return c.capacity == "none"


def is_stale(age_days: np.ndarray) -> np.ndarray:
    """Tell which answers are older than 24 months (or were never verified)."""
    return np.nan_to_num(age_days, nan=np.inf) > STALE_DAYS


def recommended_keys(c: Candidates, w: Weights = WEIGHTS) -> tuple[np.ndarray, ...]:
    """Return np.lexsort keys (last sorts first): accepting, fresh, room this month, score."""
    return (penalty(c, w), no_room(c), is_stale(c.age_days), ~c.accepts)


@dataclass(frozen=True)
class Reason:
    """One part of the "why here" line; `value` depends on `kind`."""

    kind: str  # distance | not_accepting | unanswered | conditional | wait | verified | stale
    # | reports | capacity (value: "room", "little" or "none") | partner
    value: float | int | str | None = None

    def as_dict(self) -> dict:
        """Return the reason as JSON data."""
        return asdict(self)

    def text(self, lang: str = "ja") -> str:
        """Return the reason as a few words in the given language."""
        ja, en = _TEXTS[self.kind](self.value)
        return bilingual(lang, ja, en)


def _month(value, ja: bool) -> str:
    """Format an ISO date as its month."""
    day = date.fromisoformat(value)
    return f"{day.year}年{day.month}月" if ja else day.strftime("%b %Y")


_TEXTS = {
    "distance": lambda v: (f"{v:.1f} km", f"{v:.1f} km"),
    "not_accepting": lambda v: ("この状況の受け入れなし", "does not accept this situation"),
    "unanswered": lambda v: ("受け入れ未回答", "acceptance not answered"),
    "conditional": lambda v: ("条件付き", "under conditions"),
    "wait": lambda v: ("待ちなし", "no wait") if v == 0 else (f"{v}日以内", f"within {v} days"),
    "verified": lambda v: (f"{_month(v, True)}確認", f"checked {_month(v, False)}"),
    "stale": lambda v: (
        (f"{_month(v, True)}確認（2年以上前）", f"checked {_month(v, False)} (over 2 years ago)")
        if v
        else ("確認日なし", "never checked")
    ),
    "reports": lambda v: (f"予約が取れなかった報告{v}件", f"{v} could-not-book reports"),
    "capacity": lambda v: _CAPACITY_TEXTS[v],
    "partner": lambda v: ("紹介元の産科と連携あり", "works with the referring obstetric unit"),
}
_CAPACITY_TEXTS = {
    "room": ("今月の新規枠あり", "room for new patients this month"),
    "little": ("今月の新規枠少し", "little room this month"),
    "none": ("今月の新規枠なし", "no room this month"),
}
# Every kind of reason (the API documents them as an enum).
REASON_KINDS = tuple(_TEXTS)


def reasons_for(
    accepts: bool | None,
    strength: int,
    distance_km: float | None,
    wait_days: float | None,
    verified_on: date | None,
    open_reports: int,
    today: date,
    capacity: str = "unknown",
    partner: bool = False,
) -> tuple[Reason, ...]:
    """Return why one result is where it is, most telling first."""
    parts: list[Reason] = []
    if accepts is not True:
        parts.append(Reason("unanswered" if accepts is None else "not_accepting"))
    if accepts and capacity == "none":
        parts.append(Reason("capacity", capacity))
    if partner:
        parts.append(Reason("partner"))
    if distance_km is not None:
        parts.append(Reason("distance", round(float(distance_km), 1)))
    if accepts and capacity in ("room", "little"):
        parts.append(Reason("capacity", capacity))
    if accepts and strength == 1:
        parts.append(Reason("conditional"))
    if wait_days is not None:
        parts.append(Reason("wait", int(wait_days)))
    parts.append(_verified(verified_on, today))
    if open_reports:
        parts.append(Reason("reports", int(open_reports)))
    return tuple(parts)


def _verified(verified_on: date | None, today: date) -> Reason:
    """Return the answer's age as a reason (stale when older than 24 months)."""
    if verified_on is None:
        return Reason("stale")
    kind = "stale" if today - verified_on > timedelta(days=STALE_DAYS) else "verified"
    return Reason(kind, verified_on.isoformat())


def render(reasons: tuple[Reason, ...], lang: str = "ja") -> str:
    """Return the reasons as one short line (「2.1 km・7日以内・2026年11月確認」)."""
    return bilingual(lang, "・", " · ").join(r.text(lang) for r in reasons)
