"""Which municipality a point lies in, from the bundled towns (no boundaries are bundled: the
municipality of the nearest town point, when one lies close enough)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from index.geo import gazetteer as gz
from index.geo.distance import haversine_np

# A point farther than this from every town point is in no municipality we can name (the sea).
MAX_TOWN_KM = 3.0
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


def municipality_at(lat: float, lng: float, prefecture: str = "") -> str:
    """Return the 5-digit code of the municipality at a point ("" when none is close)."""
    if prefecture:
        candidates = [prefecture]
    else:
        lats, lngs, prefectures = _centroids()
        if not len(lats):
            return ""
        nearest = np.argsort(haversine_np(lat, lng, lats, lngs))[:NEAREST_MUNICIPALITIES]
        candidates = list(dict.fromkeys(prefectures[i] for i in nearest))
    best_km, best_code = MAX_TOWN_KM, ""
    for name in candidates:
        try:
            lats, lngs, codes = _town_points(name)
        except KeyError:
            continue
        if not len(lats):
            continue
        distances = haversine_np(lat, lng, lats, lngs)
        i = int(np.argmin(distances))
        if distances[i] <= best_km:
            best_km, best_code = float(distances[i]), codes[i]
    return best_code
