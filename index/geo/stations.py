"""Stations near a point, from the bundled station data (straight-line distances)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index.geo import gazetteer as gz
from index.geo.distance import haversine_np


@dataclass(frozen=True)
class NearbyStation:
    """A station and its straight-line distance from a point."""

    name: str
    lines: tuple[str, ...]
    km: float

    @property
    def walk_minutes(self) -> int:
        """Return a rough walking time (80 m a minute, as Japanese listings count it)."""
        return max(1, round(self.km * 1000 / 80))


@lru_cache(maxsize=1)
def _stations() -> tuple[tuple[gz.Station, ...], np.ndarray, np.ndarray]:
    """Return the stations and their coordinates as arrays."""
    stations = gz.load_stations()
    lats = np.array([s.lat for s in stations])
    lngs = np.array([s.lng for s in stations])
    return stations, lats, lngs


def nearest_stations(
    lat: float, lng: float, limit: int = 3, within_km: float = 3.0
) -> list[NearbyStation]:
    """Return up to `limit` stations within `within_km` of a point, nearest first."""
    stations, lats, lngs = _stations()
    distances = haversine_np(lat, lng, lats, lngs)
    nearest = np.argsort(distances)[:limit]
    return [
        NearbyStation(stations[i].name, stations[i].lines, round(float(distances[i]), 2))
        for i in nearest
        if distances[i] <= within_km
    ]
