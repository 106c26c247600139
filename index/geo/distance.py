"""Great-circle distances on a spherical Earth: one pair of points, or one point to many."""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.009  # mean radius, the one geopy's great_circle uses


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Return the great-circle distance in km between two points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_np(
    lat: float | np.ndarray, lng: float | np.ndarray, lats: np.ndarray, lngs: np.ndarray
) -> np.ndarray:
    """Return great-circle distances in km from one point to many (vectorised, broadcasting)."""
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lngs - lng)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
