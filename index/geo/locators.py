"""The one small protocol geocoders sit behind, and how configuration picks one."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from geopy.geocoders.base import Geocoder

from index.geo.errors import AddressNotUnderstood
from index.geo.geocoder import GeocodeResult, default_geocoder


class Locator(Protocol):
    """Turns typed text into a place, or raises AddressNotUnderstood."""

    def geocode(self, query: str) -> GeocodeResult:
        """Return the place the text names."""


class GeopyLocator:
    """Adapt any geopy geocoder (for example an online one chosen by configuration)."""

    def __init__(self, geocoder: Geocoder):
        self.geocoder = geocoder

    def geocode(self, query: str) -> GeocodeResult:
        """Ask the geopy geocoder; no answer becomes AddressNotUnderstood."""
        location = self.geocoder.geocode(query, exactly_one=True)
        if location is None:
            raise AddressNotUnderstood(query)
        raw = location.raw if isinstance(location.raw, dict) else {}
        return GeocodeResult(
            query=query,
            lat=location.latitude,
            lng=location.longitude,
            level=str(raw.get("level") or "external"),
            label=location.address or query,
            approximate=bool(raw.get("approximate", False)),
        )


def locator_from_config(spec: str, options: dict[str, Any], preferred: str) -> Locator:
    """Return the offline geocoder (spec empty) or a geopy class named 'module:Class'."""
    if not spec:
        return default_geocoder(preferred)
    module_name, _, class_name = spec.partition(":")
    geocoder_class = getattr(importlib.import_module(module_name), class_name)
    return GeopyLocator(geocoder_class(**options))
