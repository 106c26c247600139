"""Which municipality a point lies in, from the bundled towns (no boundaries are bundled: the
municipality of the nearest town point, when one lies close enough and no town point of
another municipality lies about as close)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from index.geo import gazetteer as gz
from index.geo.distance import haversine_np

# A point farther than this from every town point is in no municipality we can name (the sea).
MAX_TOWN_KM = 3.0
# A point whose nearest town points of two municipalities are within this of each other lies
# about on their border: we name neither rather than guess.
AMBIGUOUS_KM = 0.2
# Prefectures whose towns are compared: those of the municipalities nearest the point.
NEAREST_MUNICIPALITIES = 5


@lru_cache(maxsize=8)
def _town_points(prefecture: str) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Return the town points of a prefecture and their municipality codes."""
    towns = [t for t in gz.load_towns(prefecture) if t.lat is not None and t.municipality_code]
    lats = np.array([t.lat for t in towns], dtype=float)
    lngs = np.array([t.lng for t in towns], dtype=float)
    return lats, lngs, tuple(t.municipality_code for t in towns)


@lru_cache(maxsize=1)
def _centroids() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Return the municipalities' points and their prefectures."""
    rows = [m for m in gz.municipalities() if m.lat is not None and m.lng is not None]
    lats = np.array([m.lat for m in rows], dtype=float)
    lngs = np.array([m.lng for m in rows], dtype=float)
    return lats, lngs, tuple(m.prefecture for m in rows)


def _prefectures_near(lat: float, lng: float) -> list[str]:
    """Return the prefectures of the municipalities nearest a point."""
    lats, lngs, prefectures = _centroids()
    if not len(lats):
        return []
    nearest = np.argsort(haversine_np(lat, lng, lats, lngs))[:NEAREST_MUNICIPALITIES]
    return list(dict.fromkeys(prefectures[i] for i in nearest))


def _town_distances(lat: float, lng: float, prefectures: list[str]) -> tuple[np.ndarray, list]:
    """Return the distances from a point to the towns of these prefectures, and their codes."""
    distances, codes = [], []
    for name in prefectures:
        try:
            lats, lngs, town_codes = _town_points(name)
        except KeyError:
            continue
        if len(lats):
            distances.append(haversine_np(lat, lng, lats, lngs))
            codes.extend(town_codes)
    return (np.concatenate(distances) if distances else np.array([])), codes


def municipality_at(lat: float, lng: float, prefecture: str = "") -> str:
    """Return the municipality at a point ("" when none is close or two are about as close)."""
    candidates = [prefecture] if prefecture else _prefectures_near(lat, lng)
    distances, codes = _town_distances(lat, lng, candidates)
    if not len(distances):
        return ""
    order = np.argsort(distances, kind="stable")
    best = int(order[0])
    if distances[best] > MAX_TOWN_KM:
        return ""
    other = next((int(i) for i in order if codes[i] != codes[best]), None)
    if other is not None and distances[other] - distances[best] < AMBIGUOUS_KM:
        return ""
    return codes[best]
