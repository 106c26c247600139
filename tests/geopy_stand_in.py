"""A geopy geocoder for tests: answers from the offline gazetteer as an online service would."""

from __future__ import annotations

from geopy.geocoders.base import Geocoder
from geopy.location import Location

from index.geo.errors import AddressNotUnderstood
from index.geo.geocoder import OfflineGeocoder


class StandInGeocoder(Geocoder):
    """geopy-shaped, without the network: a Location whose `raw` holds level and label."""

    def __init__(self, **kwargs: object):
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.offline = OfflineGeocoder()

    def geocode(self, query: str, exactly_one: bool = True, **_kwargs: object):  # type: ignore[override]
        """Return a Location, or None when the query is not understood (as geopy does)."""
        try:
            result = self.offline.geocode(query)
        except AddressNotUnderstood:
            return None
        return Location(result.label, (result.lat, result.lng), result.to_dict())
