"""Locate a coordinate: its GeoNames place, science city, country and groups, and the rules that decided (DESIGN §6).

The chain of DESIGN §6 run for one point instead of an institution: the gazetteer gives the place (every
point on Earth gets one, with its distance), a boundary set gives the science city, the unit's country its
name, and a groups file the groups. `Locator` loads all of that once; the module-level `locate` keeps one
Locator per (boundaries, groups) so repeated calls cost a lookup, not a load.

Coordinates are WGS84 degrees: latitude in [-90, 90], longitude in [-180, 180]. Longitudes written from 0
to 360 are refused rather than wrapped, so swapped or mistyped coordinates cannot resolve silently; the
error gives the wrapped value to use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from sciencecities.countries import countries
from sciencecities.errors import GeographyError, InputError, StoreError
from sciencecities.resolve.geography import gazetteer
from sciencecities.resolve.geography.boundaries import BoundarySet, Groups
from sciencecities.resolve.geography.model import Place, Unit
from sciencecities.resolve.geography.units import GROUPS_REFERENCE
from sciencecities.store import Store

__all__ = ["InstitutionLocation", "Location", "Locator", "locate", "locate_institution"]


@dataclass(frozen=True)
class Location:
    """Where a coordinate falls: place, science city, country and groups, each with the rule that decided."""

    latitude: float
    longitude: float
    place: Place
    distance_km: float
    """Great-circle distance from the point to the place; large in open ocean, so callers can judge it."""
    place_rule: str
    """How the gazetteer chose the place, e.g. 'nearest GeoNames place (577.1 km; none within 30 km)'."""
    unit: Unit
    boundaries: str
    boundaries_version: int
    country_code: str
    country_name: str
    groups: tuple[tuple[str, str], ...]
    """(group id, group name) of each group holding the place, in the groups file's order."""

    def to_dict(self) -> dict[str, Any]:
        """One flat record of JSON-ready values (group ids and names as two parallel lists of strings)."""
        place, unit = self.place, self.unit
        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "place_geonames_id": place.geonames_id,
            "place_name": place.name,
            "place_feature_code": place.feature_code,
            "place_admin1": place.admin1,
            "place_admin2": place.admin2,
            "place_latitude": place.latitude,
            "place_longitude": place.longitude,
            "place_population": place.population,
            "distance_km": self.distance_km,
            "place_rule": self.place_rule,
            "unit_id": unit.id,
            "unit_name": unit.name,
            "unit_rule": unit.rule,
            "boundaries": self.boundaries,
            "boundaries_version": self.boundaries_version,
            "country_code": self.country_code,
            "country_name": self.country_name,
            "group_ids": [gid for gid, _ in self.groups],
            "group_names": [name for _, name in self.groups],
        }


class Locator:
    """Gazetteer, boundary set and groups loaded once, answering `locate` for any coordinate in about a millisecond.

    Examples
    --------
    >>> where = Locator().locate(41.3163, -72.9223)  # Yale, New Haven
    >>> (where.place.name, where.unit.name, where.country_name)
    ('New Haven', 'New York metropolitan area', 'United States')
    """

    def __init__(self, boundaries: str | Path = "metro", groups: str | Path = "groups") -> None:
        """Load the boundary set (`metro`, `city` or a .yaml path) and the groups (`groups` or a .yaml path)."""
        if str(boundaries) == "clusters":
            raise GeographyError(
                "boundary set 'clusters' is drawn from the Share of a built store, so a bare coordinate has no "
                "cluster",
                "use `sciencecities locate --institution ID --store DIR` for an institution's cluster, or "
                "--boundaries metro or city",
            )
        self._gazetteer = gazetteer.load()
        self._boundaries = BoundarySet.load(boundaries)
        self._reference = BoundarySet.load(GROUPS_REFERENCE)
        self._groups = Groups.load(groups)
        self._group_names = {g.id: g.name for g in self._groups.groups}
        # Builds the gazetteer's world-wide spatial index now, so the first call is as fast as the rest.
        self._gazetteer.nearest(0.0, 0.0)

    @property
    def boundaries(self) -> BoundarySet:
        """The boundary set that gives science cities."""
        return self._boundaries

    @property
    def groups(self) -> Groups:
        """The groups file that gives groups."""
        return self._groups

    def locate(self, latitude: float, longitude: float, country: str | None = None) -> Location:
        """The place, science city, country and groups of a point; with `country` (ISO2), only its places count."""
        latitude, longitude = _coordinate(latitude, longitude)
        code = None if country is None else _country_code(country)
        try:
            found = self._gazetteer.nearest(latitude, longitude, code)
        except ValueError as exc:  # the coordinate is checked above: only a country without places is left
            raise GeographyError(
                f"the gazetteer has no places in {code} ({_country_names().get(code or '', '?')})",
                "drop --country (country=None) to take the nearest place in any country",
            ) from exc
        unit = self._boundaries.assign(found.place)
        reference = unit if self._boundaries.name == GROUPS_REFERENCE else self._reference.assign(found.place)
        return Location(
            latitude=latitude,
            longitude=longitude,
            place=found.place,
            distance_km=found.distance_km,
            place_rule=_place_rule(found.distance_km, code),
            unit=unit,
            boundaries=self._boundaries.name,
            boundaries_version=self._boundaries.version,
            country_code=unit.country_code,
            country_name=_country_names().get(unit.country_code, unit.country_code),
            groups=tuple((g, self._group_names[g]) for g in self._groups.groups_of(reference, found.place)),
        )


def locate(
    latitude: float,
    longitude: float,
    *,
    country: str | None = None,
    boundaries: str | Path = "metro",
    groups: str | Path = "groups",
) -> Location:
    """Locate one point (see `Locator.locate`), reusing the Locator already loaded for these boundaries and groups.

    A user's .yaml file is read once per process: a Locator made afterwards sees later edits.

    Examples
    --------
    >>> locate(48.2620, 11.6670).unit.name  # TUM, Garching
    'Munich'
    """
    return _locator(boundaries, groups).locate(latitude, longitude, country)


@lru_cache(maxsize=16)
def _locator(boundaries: str | Path, groups: str | Path) -> Locator:
    """One Locator per (boundaries, groups) argument pair, kept for reuse."""
    return Locator(boundaries, groups)


@dataclass(frozen=True)
class InstitutionLocation:
    """Where a built store puts an institution: its place with the source that gave it, then as Location."""

    institution_id: str
    name: str | None
    country_code: str | None
    """The institution's own country code (None when it has none: its place's country counts then)."""
    geo_source: str
    confidence: float
    location: Location

    def to_dict(self) -> dict[str, Any]:
        """One flat record: the institution's fields, then those of its Location."""
        return {
            "institution_id": self.institution_id,
            "institution_name": self.name,
            "institution_country_code": self.country_code,
            "geo_source": self.geo_source,
            "confidence": self.confidence,
        } | self.location.to_dict()


def locate_institution(
    store: Store, institution_id: str, *, boundaries: str = "metro", edition: str = "nature-index"
) -> InstitutionLocation:
    """The place, science city (of `boundaries`, `clusters` included), country and groups of an institution,
    as the build of `edition` in `store` assigned them."""
    iid = institution_id.strip().removeprefix("https://openalex.org/")
    built = store.manifest().get("builds", {}).get(edition)
    if built is None or "geography" not in built:
        raise StoreError(
            f"edition {edition!r} is not built with geography in {store.root}",
            f"run `sciencecities build --edition {edition}`",
        )
    sets = built["geography"]["boundaries"]
    name = (
        BoundarySet.load(boundaries).name if str(boundaries).endswith((".yaml", ".yml")) else str(boundaries)
    )
    if name not in sets:
        raise StoreError(
            f"boundary set {name!r} is not built for edition {edition!r} (built: {', '.join(sets)})",
            f"run `sciencecities build --edition {edition} --boundaries FILE` with your set's file",
        )
    where = [("institution_id", "=", iid)]
    rows = pq.read_table(store.path("institution_places", edition), filters=where).to_pylist()
    if not rows:
        raise InputError(
            f"no institution {iid} in {store.root}", "give an OpenAlex institution id, e.g. I136199984"
        )
    row = rows[0]
    record = pq.read_table(store.path("institutions"), filters=where).to_pylist()[0]
    label = f"{iid} ({record['name']})" if record.get("name") else iid
    if row["geonames_id"] is None:
        raise GeographyError(
            f"institution {label} has no place: {row['detail']}",
            "give it one in a place override file: `sciencecities build --places FILE` (docs/geography.md)",
        )
    units = pq.read_table(
        store.path("institution_units", edition), filters=[*where, ("boundaries", "=", name)]
    ).to_pylist()
    if not units:
        raise GeographyError(
            f"institution {label} has no unit in {name}: its place holds no Share in {edition}",
            "clusters are drawn from Share; use --boundaries metro or city",
        )
    unit = Unit(units[0]["unit_id"], units[0]["unit_name"], units[0]["country_code"], units[0]["rule"])
    groups = pq.read_table(store.path("institution_groups", edition), filters=where).to_pylist()
    place = gazetteer.load().place(row["geonames_id"])
    if place is None:
        raise GeographyError(
            f"place {row['geonames_id']} of {label} is not in this version's gazetteer",
            "build the store again with this version of sciencecities",
        )
    location = Location(
        latitude=place.latitude,
        longitude=place.longitude,
        place=place,
        distance_km=0.0,
        place_rule=f"{row['geo_source']}: {row['detail']} (confidence {row['confidence']:.2f})",
        unit=unit,
        boundaries=name,
        boundaries_version=int(sets[name]["version"]),
        country_code=unit.country_code,
        country_name=_country_names().get(unit.country_code, unit.country_code),
        groups=tuple((g["group_id"], g["group_name"]) for g in groups),
    )
    return InstitutionLocation(
        iid, record.get("name"), record.get("country_code"), row["geo_source"], row["confidence"], location
    )


def _coordinate(latitude: Any, longitude: Any) -> tuple[float, float]:
    """The point as floats, or an InputError saying what is wrong with it and how to write it."""
    try:
        lat, lon = float(latitude), float(longitude)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"not a coordinate: latitude {latitude!r}, longitude {longitude!r}",
            "give two numbers in decimal degrees, latitude first, e.g. 48.262 11.667",
        ) from exc
    if math.isnan(lat) or math.isnan(lon):
        raise InputError("a coordinate is NaN", "give two numbers in decimal degrees, latitude first")
    if not -90.0 <= lat <= 90.0:
        swapped = -90.0 <= lon <= 90.0 and -180.0 <= lat <= 180.0
        raise InputError(
            f"latitude {lat:g} is outside [-90, 90]",
            "latitudes run from -90 (south pole) to 90 (north pole)"
            + ("; if you gave the longitude first, swap the two" if swapped else ""),
        )
    if not -180.0 <= lon <= 180.0:
        raise InputError(
            f"longitude {lon:g} is outside [-180, 180]",
            f"for a longitude counted 0-360 east, give {lon - 360:g}"
            if 180.0 < lon <= 360.0
            else "longitudes run from -180 (west) to 180 (east)",
        )
    return lat, lon


def _country_code(country: str) -> str:
    """An ISO 3166 alpha-2 code known to the shipped country list, upper-cased; else an InputError."""
    code = country.strip().upper()
    if code in _country_names():
        return code
    alpha2 = _alpha2_of_alpha3().get(code)
    suggestion = f"{alpha2}, the code of {_country_names()[alpha2]}" if alpha2 else "a code such as DE or US"
    raise InputError(
        f"unknown country code {country!r}",
        f"give an ISO 3166 two-letter code ({suggestion}), or drop --country (country=None) to take the "
        "nearest place in any country",
    )


@cache
def _country_names() -> dict[str, str]:
    """ISO2 code -> country name, from the shipped countries.csv."""
    table = countries()
    return dict(zip(table["country_code"].to_pylist(), table["name"].to_pylist(), strict=True))


@cache
def _alpha2_of_alpha3() -> dict[str, str]:
    """ISO3 code -> ISO2 code, to suggest the right code when a three-letter one is given."""
    table = countries()
    return dict(zip(table["iso3"].to_pylist(), table["country_code"].to_pylist(), strict=True))


def _place_rule(distance_km: float, country: str | None) -> str:
    """In words, how Gazetteer.nearest chose the place: by reach and pull within its search radius, else nearest."""
    scope = f" in {country}" if country else ""
    if distance_km > gazetteer.SEARCH_RADIUS_KM:
        return (
            f"nearest GeoNames place{scope} ({distance_km:.1f} km; none within "
            f"{gazetteer.SEARCH_RADIUS_KM:g} km)"
        )
    return f"GeoNames place{scope} whose reach covers the point, else the nearest ({distance_km:.1f} km)"
