"""The values geography hands around: a GeoNames place, and the boundary unit a place falls in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Place:
    """One GeoNames populated place; admin codes as GeoNames writes them (US admin1 = USPS code, admin2 = county FIPS)."""

    geonames_id: int
    name: str
    country_code: str
    admin1: str | None
    admin2: str | None
    latitude: float
    longitude: float
    population: int
    feature_code: str


@dataclass(frozen=True)
class Unit:
    """A science city of one boundary set: stable id, display name, country, and the rule that put the place in it."""

    id: str
    name: str
    country_code: str
    rule: str
