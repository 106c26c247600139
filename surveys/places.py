"""The places survey figures are about, handed in by the caller (the app reads index/geo)."""

from __future__ import annotations

from typing import Protocol


class Municipality(Protocol):
    """A municipality: its five-digit code and its name."""

    code: str
    name: str


class TownPoint(Protocol):
    """A town of a municipality, with its point when the gazetteer has one."""

    municipality_code: str
    city: str
    town: str
    koaza: str
    lat: float | None
    lng: float | None
