"""Stations near a point, from the bundled station data (straight-line distances)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from index import gazetteer as gz
from index.geocoder import EARTH_RADIUS_KM


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


def _haversine(lat: float, lng: float, lats: np.ndarray, lngs: np.ndarray) -> np.ndarray:
    """Return great-circle distances in km from one point to many."""
    p1, p2 = np.radians(lat), np.radians(lats)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lngs - lng) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def nearest_stations(
    lat: float, lng: float, limit: int = 3, within_km: float = 3.0
) -> list[NearbyStation]:
    """Return up to `limit` stations within `within_km` of a point, nearest first."""
    stations, lats, lngs = _stations()
    distances = _haversine(lat, lng, lats, lngs)
    nearest = np.argsort(distances)[:limit]
    return [
        NearbyStation(stations[i].name, stations[i].lines, round(float(distances[i]), 2))
        for i in nearest
        if distances[i] <= within_km
    ]
