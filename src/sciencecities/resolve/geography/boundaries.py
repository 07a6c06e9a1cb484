"""Boundary sets and groups: which science city a GeoNames place belongs to, and which groups it is in (DESIGN §6).

A boundary set is a YAML file with a name, a version and an ordered list of rules; the shipped ones live in
``data/boundaries/`` (``metro``, the default, and ``city``), and users may write their own in the same format.
Each rule either claims a place, giving its unit, or passes it on; the last rule is always ``place``, so every
place gets a unit, and the unit's ``rule`` says which rule decided and why. The rules:

- ``us_counties``: a US (or Puerto Rico) place goes county -> CBSA -> CSA of the OMB delineation;
- ``china_prefectures``: the municipalities whole, elsewhere the nearest prefecture seat of the same province;
- ``curated``: named metropolitan areas, each a set of first-level regions, a whole country or a radius;
- ``suburbs``: a place that is not an anchor (a city of at least ``min_population``) joins the nearest
  anchor of its country within ``max_km``; an anchor is its own city;
- ``place``: the GeoNames place itself.

metro.yaml states every rule of the default set in words, with its numbers and sources.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
import yaml
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sciencecities.countries import countries
from sciencecities.errors import GeographyError
from sciencecities.resolve.geography.clusters import EARTH_RADIUS_KM
from sciencecities.resolve.geography.model import Place, Unit

__all__ = ["BoundarySet", "Group", "Groups", "shipped"]

SHIPPED = ("metro", "city")
"""The boundary sets assigned place by place that ship with the package; `clusters` is built from weights."""

_FOLDER = resources.files("sciencecities") / "data" / "boundaries"


def shipped() -> list[str]:
    """Names of the shipped boundary sets that BoundarySet.load accepts."""
    return list(SHIPPED)


# ---------------------------------------------------------------------------------------------------------
# The file format: one pydantic model per rule, so a user's file fails with a message that names the field.


class _Spec(BaseModel):
    """Strict, immutable base: unknown keys are errors, so typos in a user's file do not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _UsCountiesSpec(_Spec):
    """County -> CBSA -> CSA, with aliases for renamed counties, stand-alone CBSAs, CSA joins and names."""

    rule: Literal["us_counties"]
    counties: str
    county_aliases: dict[str, str] = {}
    standalone_cbsas: list[str] = []
    join_csa: dict[str, str] = {}
    names: dict[str, str] = {}


class _ChinaSpec(_Spec):
    """Municipalities by admin1 code; other places to the nearest prefecture seat of their province."""

    rule: Literal["china_prefectures"]
    seats: str
    municipalities: dict[str, str]


class _CoreSpec(_Spec):
    """The GeoNames place at the centre of a curated metro (its coordinates, used by radius rules)."""

    geonames_id: int
    name: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class _MetroSpec(_Spec):
    """A curated metro: first-level regions, a whole country, and/or a radius around its core."""

    id: str
    name: str
    country: str
    core: _CoreSpec
    source: str
    admin1: list[str] = []
    whole_country: bool = False
    radius_km: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _defined(self) -> _MetroSpec:
        """A metro must say which places it holds."""
        if not (self.admin1 or self.whole_country or self.radius_km):
            raise ValueError(f"metro {self.id!r} needs admin1, whole_country or radius_km")
        return self


class _CuratedSpec(_Spec):
    """Named metropolitan areas, checked in file order; ids must be unique."""

    rule: Literal["curated"]
    metros: list[_MetroSpec]

    @model_validator(mode="after")
    def _unique(self) -> _CuratedSpec:
        """Two metros with one id would make units ambiguous."""
        ids = [m.id for m in self.metros]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate metro ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        return self


class _SuburbsSpec(_Spec):
    """Anchors of at least min_population; other places join the nearest anchor within max_km."""

    rule: Literal["suburbs"]
    anchors: str
    min_population: int = Field(gt=0)
    max_km: float = Field(gt=0)


class _PlaceSpec(_Spec):
    """The place itself: the last rule of every set."""

    rule: Literal["place"]


_RuleSpec = Annotated[
    _UsCountiesSpec | _ChinaSpec | _CuratedSpec | _SuburbsSpec | _PlaceSpec, Field(discriminator="rule")
]


class _SetSpec(_Spec):
    """A boundary-set file: name, version, title and the ordered rules, ending with `place`."""

    name: str
    version: int
    title: str = ""
    rules: list[_RuleSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _ends_with_place(self) -> _SetSpec:
        """Every place must get a unit, so the last rule is `place` (and only the last)."""
        kinds = [r.rule for r in self.rules]
        if kinds[-1] != "place" or "place" in kinds[:-1]:
            raise ValueError("the last rule, and only the last, must be `- rule: place`")
        return self


# ---------------------------------------------------------------------------------------------------------
# Helpers.


def _km(
    lat1: NDArray[np.float64] | float,
    lon1: NDArray[np.float64] | float,
    lat2: NDArray[np.float64] | float,
    lon2: NDArray[np.float64] | float,
) -> NDArray[np.float64]:
    """Great-circle distance in km between points in degrees (haversine, mean Earth radius); broadcasts."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(np.subtract(lon2, lon1)) / 2) ** 2
    )
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0))), dtype=np.float64)


def _slug(name: str) -> str:
    """Lower-case ASCII words joined by hyphens, for unit ids."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")


def _own(place: Place, rule: str, name: str | None = None) -> Unit:
    """The unit of a place that is a city of its own: id from its GeoNames id."""
    return Unit(f"gn-{place.geonames_id}", name or place.name, place.country_code, rule)


def _read_csv(folder: Traversable, file: str, origin: str, columns: set[str]) -> list[dict[str, str]]:
    """Rows of a (gzipped) CSV data file found next to the set's YAML, else among the shipped boundary data."""
    for base in (folder, _FOLDER):
        path = base / file
        if path.is_file():
            raw = path.read_bytes()
            text = gzip.decompress(raw).decode("utf-8") if file.endswith(".gz") else raw.decode("utf-8")
            reader = csv.DictReader(io.StringIO(text))
            missing = columns - set(reader.fieldnames or ())
            if missing:
                raise GeographyError(
                    f"{origin}: data file {file!r} lacks columns {sorted(missing)}",
                    "rebuild it with tools/build_boundaries.py",
                )
            return list(reader)
    raise GeographyError(
        f"{origin}: data file {file!r} not found next to it nor among the shipped boundary data",
        "give a path relative to the YAML file, or a shipped file such as us_counties.csv.gz",
    )


# ---------------------------------------------------------------------------------------------------------
# Rules: each claims the places it can decide and leaves the rest (None) to the next rule.


class _Rule(ABC):
    """One rule of a boundary set."""

    @abstractmethod
    def assign_many(self, places: Sequence[Place]) -> list[Unit | None]:
        """The unit of each place, or None to pass the place on to the next rule."""


class _PlaceByPlace(_Rule):
    """A rule decided for each place alone (cheap lookups, nothing to vectorise)."""

    @abstractmethod
    def assign_one(self, place: Place) -> Unit | None:
        """The unit of one place, or None to pass it on."""

    def assign_many(self, places: Sequence[Place]) -> list[Unit | None]:
        """The units of many places, one at a time."""
        return [self.assign_one(p) for p in places]


@dataclass(frozen=True)
class _Area:
    """A CBSA or CSA as a unit: id, display name and the words of the rule that picked it."""

    id: str
    name: str
    label: str


class _UsCounties(_PlaceByPlace):
    """US and Puerto Rico: county -> CSA when the county's CBSA is in one (unless it stands alone), else CBSA."""

    def __init__(self, spec: _UsCountiesSpec, folder: Traversable, origin: str) -> None:
        rows = _read_csv(
            folder,
            spec.counties,
            origin,
            {
                "usps",
                "state_fips",
                "county_fips",
                "cbsa_code",
                "cbsa_title",
                "cbsa_kind",
                "csa_code",
                "csa_title",
                "latitude",
                "longitude",
            },
        )
        self._aliases = spec.county_aliases
        self._state = {r["usps"]: r["state_fips"] for r in rows}
        self._areas: dict[str, _Area] = {}
        centres: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
        standalone = set(spec.standalone_cbsas)
        csa_titles = {r["csa_code"]: r["csa_title"] for r in rows if r["csa_code"]}
        for r in rows:
            fips = r["state_fips"] + r["county_fips"]
            if r["latitude"]:
                centres[r["usps"]].append((r["county_fips"], float(r["latitude"]), float(r["longitude"])))
            cbsa = r["cbsa_code"]
            if not cbsa:
                continue
            csa = spec.join_csa.get(cbsa, r["csa_code"])
            if cbsa in standalone or not csa:
                name = spec.names.get(f"cbsa-{cbsa}") or _us_name(
                    r["cbsa_title"], metropolitan=r["cbsa_kind"] == "metro" and cbsa not in standalone
                )
                label = f"US CBSA {cbsa}" + (
                    " (stands alone)" if cbsa in standalone and r["csa_code"] else ""
                )
                self._areas[fips] = _Area(f"us-cbsa-{cbsa}", name, label)
            else:
                name = spec.names.get(f"csa-{csa}") or _us_name(csa_titles[csa], metropolitan=True)
                label = f"US CSA {csa}" + (f" (CBSA {cbsa} joined)" if cbsa in spec.join_csa else "")
                self._areas[fips] = _Area(f"us-csa-{csa}", name, label)
        self._centres = {
            usps: (np.array([c[1] for c in cs]), np.array([c[2] for c in cs]), [c[0] for c in cs])
            for usps, cs in centres.items()
        }

    def assign_one(self, place: Place) -> Unit | None:
        """The CSA or CBSA of the place's county; own city when the county is in no CBSA."""
        if place.country_code == "US":
            state, county = self._state.get(place.admin1 or ""), place.admin2
        elif place.country_code == "PR":
            state, county = "72", place.admin1
        else:
            return None
        if state is None:
            return None
        via = ""
        if not county:
            centres = self._centres.get((place.admin1 or "") if place.country_code == "US" else "PR")
            if centres is None:
                return None
            lats, lons, codes = centres
            county = codes[int(np.argmin(_km(place.latitude, place.longitude, lats, lons)))]
            via = " (GeoNames gives none: the county with the nearest centre)"
        fips = state + county
        target = self._aliases.get(fips, fips)
        if target != fips:
            via += f" (now {target})"
        area = self._areas.get(target)
        if area is None:
            return _own(place, f"US county {fips}{via} in no CBSA: own city")
        return Unit(area.id, area.name, place.country_code, f"{area.label} via county {fips}{via}")


def _us_name(title: str, *, metropolitan: bool) -> str:
    """'<first principal city> metropolitan area' for CSAs and metropolitan CBSAs, the bare city otherwise.

    OMB titles list principal cities joined by '-', or by '--' when one of them is itself hyphenated
    ('Scranton--Wilkes-Barre'); '/' gives a consolidated city's long name ('Louisville/Jefferson County').
    """
    cities = title.split(",")[0]
    first = (cities.split("--") if "--" in cities else cities.split("-"))[0].split("/")[0].strip()
    return f"{first} metropolitan area" if metropolitan else first


class _ChinaPrefectures(_Rule):
    """China mainland: municipalities whole; other places to the nearest prefecture seat of the same province."""

    def __init__(self, spec: _ChinaSpec, folder: Traversable, origin: str) -> None:
        rows = _read_csv(
            folder,
            spec.seats,
            origin,
            {"admin1", "unit_id", "prefecture", "seat_name", "latitude", "longitude"},
        )
        self._municipalities = spec.municipalities
        by_province: dict[str, list[dict[str, str]]] = defaultdict(list)
        for r in rows:
            by_province[r["admin1"]].append(r)
        by_province[""] = rows
        self._seats = {
            admin1: (
                np.array([float(r["latitude"]) for r in rs]),
                np.array([float(r["longitude"]) for r in rs]),
                [(r["unit_id"], r["prefecture"], r["seat_name"]) for r in rs],
            )
            for admin1, rs in by_province.items()
        }

    def _municipality(self, place: Place) -> Unit | None:
        """The municipality unit of a place in Beijing, Shanghai, Tianjin or Chongqing."""
        name = self._municipalities.get(place.admin1 or "")
        if name is None:
            return None
        return Unit(f"cn-{_slug(name)}", name, "CN", f"China municipality: admin1 {place.admin1}")

    def assign_many(self, places: Sequence[Place]) -> list[Unit | None]:
        """Vectorised: one distance matrix per province."""
        out: list[Unit | None] = [None] * len(places)
        groups: dict[str, list[int]] = defaultdict(list)
        for i, place in enumerate(places):
            if place.country_code != "CN":
                continue
            if (unit := self._municipality(place)) is not None:
                out[i] = unit
            else:
                groups[place.admin1 if place.admin1 in self._seats else ""].append(i)
        for admin1, indices in groups.items():
            lats, lons, seats = self._seats[admin1]
            plat = np.array([places[i].latitude for i in indices])[:, None]
            plon = np.array([places[i].longitude for i in indices])[:, None]
            distances = _km(plat, plon, lats[None, :], lons[None, :])
            nearest = distances.argmin(axis=1)
            where = "" if admin1 else ", province unknown"
            for i, k, d in zip(indices, nearest, distances[np.arange(len(indices)), nearest], strict=True):
                unit_id, prefecture, seat = seats[k]
                out[i] = Unit(
                    unit_id, prefecture, "CN", f"China prefecture: nearest seat {seat} ({d:.0f} km{where})"
                )
        return out


class _Curated(_Rule):
    """Named metros: a whole-country or region match first, else the nearest core within its radius."""

    def __init__(self, spec: _CuratedSpec) -> None:
        self._regions: dict[tuple[str, str], _MetroSpec] = {}
        self._countries: dict[str, _MetroSpec] = {}
        radius: dict[str, list[_MetroSpec]] = defaultdict(list)
        for m in spec.metros:
            for admin1 in m.admin1:
                self._regions.setdefault((m.country, admin1), m)
            if m.whole_country:
                self._countries.setdefault(m.country, m)
            if m.radius_km:
                radius[m.country].append(m)
        self._radius = {
            country: (
                np.array([m.core.lat for m in ms]),
                np.array([m.core.lon for m in ms]),
                np.array([m.radius_km for m in ms]),
                ms,
            )
            for country, ms in radius.items()
        }

    def assign_many(self, places: Sequence[Place]) -> list[Unit | None]:
        """Vectorised: region lookups per place, then one distance matrix per country."""
        out: list[Unit | None] = [None] * len(places)
        groups: dict[str, list[int]] = defaultdict(list)
        for i, place in enumerate(places):
            country = place.country_code
            if (m := self._countries.get(country)) is not None:
                out[i] = Unit(m.id, m.name, m.country, f"curated metro {m.id}: whole country {country}")
            elif (m := self._regions.get((country, place.admin1 or ""))) is not None:
                out[i] = Unit(m.id, m.name, m.country, f"curated metro {m.id}: admin1 {place.admin1}")
            elif country in self._radius:
                groups[country].append(i)
        for country, indices in groups.items():
            lats, lons, radii, metros = self._radius[country]
            plat = np.array([places[i].latitude for i in indices])[:, None]
            plon = np.array([places[i].longitude for i in indices])[:, None]
            distances = _km(plat, plon, lats[None, :], lons[None, :])
            distances[distances > radii[None, :]] = np.inf
            nearest = distances.argmin(axis=1)
            for i, k, d in zip(indices, nearest, distances[np.arange(len(indices)), nearest], strict=True):
                if np.isfinite(d):
                    m = metros[k]
                    out[i] = Unit(
                        m.id,
                        m.name,
                        m.country,
                        f"curated metro {m.id}: {d:.0f} km from {m.core.name} (radius {m.radius_km:g} km)",
                    )
        return out


class _Suburbs(_Rule):
    """Anchors (cities of >= min_population no earlier rule claims) are their own city; others join one nearby."""

    def __init__(
        self, spec: _SuburbsSpec, folder: Traversable, origin: str, earlier: Sequence[_Rule]
    ) -> None:
        rows = _read_csv(
            folder,
            spec.anchors,
            origin,
            {
                "geonames_id",
                "name",
                "country_code",
                "admin1",
                "admin2",
                "latitude",
                "longitude",
                "population",
            },
        )
        smallest = min((int(r["population"]) for r in rows), default=0)
        if smallest > spec.min_population:
            raise GeographyError(
                f"{origin}: min_population {spec.min_population} is below the smallest place in "
                f"{spec.anchors!r} ({smallest})",
                "rebuild the anchors file with a lower threshold",
            )
        places = [
            Place(
                int(r["geonames_id"]),
                r["name"],
                r["country_code"],
                r["admin1"] or None,
                r["admin2"] or None,
                float(r["latitude"]),
                float(r["longitude"]),
                int(r["population"]),
                r.get("feature_code", ""),
            )
            for r in rows
            if int(r["population"]) >= spec.min_population
        ]
        claimed = [False] * len(places)
        for rule in earlier:
            units = rule.assign_many(places)
            claimed = [c or u is not None for c, u in zip(claimed, units, strict=True)]
        anchors = [p for p, c in zip(places, claimed, strict=True) if not c]
        self._max_km = spec.max_km
        self._anchors = {p.geonames_id: p for p in anchors}
        by_country: dict[str, list[Place]] = defaultdict(list)
        for p in anchors:
            by_country[p.country_code].append(p)
        from sklearn.neighbors import BallTree  # imported here: scikit-learn takes a second to import

        self._trees = {
            country: (BallTree(np.radians([[p.latitude, p.longitude] for p in ps]), metric="haversine"), ps)
            for country, ps in by_country.items()
        }

    def assign_many(self, places: Sequence[Place]) -> list[Unit | None]:
        """Vectorised: one nearest-neighbour query per country."""
        out: list[Unit | None] = [None] * len(places)
        groups: dict[str, list[int]] = defaultdict(list)
        for i, place in enumerate(places):
            anchor = self._anchors.get(place.geonames_id)
            if anchor is not None and anchor.country_code == place.country_code:
                out[i] = _own(anchor, "own city (an anchor of the suburb rule)")
            elif place.country_code in self._trees:
                groups[place.country_code].append(i)
        for country, indices in groups.items():
            tree, anchors = self._trees[country]
            points = np.radians([[places[i].latitude, places[i].longitude] for i in indices])
            distances, nearest = tree.query(points, k=1)
            for i, d, k in zip(indices, distances[:, 0] * EARTH_RADIUS_KM, nearest[:, 0], strict=True):
                if d <= self._max_km:
                    a = anchors[k]
                    out[i] = Unit(
                        f"gn-{a.geonames_id}", a.name, country, f"suburb of {a.name} within {d:.1f} km"
                    )
        return out


class _PlaceRule(_PlaceByPlace):
    """The GeoNames place itself."""

    def assign_one(self, place: Place) -> Unit | None:
        """Always the place's own unit."""
        return _own(place, "own city")


# ---------------------------------------------------------------------------------------------------------
# Boundary sets.


def _read_yaml(name_or_path: str | Path, kind: str, names: Sequence[str]) -> tuple[object, str, Traversable]:
    """The parsed YAML of a shipped file (by name) or a user's file (by path), its origin and its folder."""
    path = Path(name_or_path)
    if str(name_or_path) in names:
        file = _FOLDER / f"{name_or_path}.yaml"
        origin, folder = f"shipped {kind} {name_or_path!r}", _FOLDER
    elif path.suffix in (".yaml", ".yml") and path.is_file():
        file, origin, folder = path, str(path), path.parent
    else:
        raise GeographyError(
            f"unknown {kind} {str(name_or_path)!r}",
            f"use {' or '.join(repr(n) for n in names)}, or the path of a {kind} .yaml file "
            f"in the format of data/boundaries/{names[0]}.yaml",
        )
    try:
        return yaml.safe_load(file.read_text(encoding="utf-8")), origin, folder
    except yaml.YAMLError as exc:
        raise GeographyError(f"{origin} is not valid YAML: {exc}", "fix the file's syntax") from exc


@dataclass(frozen=True)
class BoundarySet:
    """A named, versioned set of rules giving every GeoNames place its science city (a Unit).

    Examples
    --------
    >>> from sciencecities.resolve.geography.model import Place
    >>> metro = BoundarySet.load("metro")
    >>> yale = Place(4839366, "New Haven", "US", "CT", "009", 41.30815, -72.92816, 129779, "PPL")
    >>> metro.assign(yale).name
    'New York metropolitan area'
    """

    name: str
    version: int
    title: str
    origin: str
    rules: tuple[_Rule, ...] = field(repr=False)

    @classmethod
    def load(cls, name_or_path: str | Path = "metro") -> BoundarySet:
        """Load a shipped set by name (`metro`, `city`) or a user's set from a YAML file path."""
        if str(name_or_path) == "clusters":
            raise GeographyError(
                "boundary set 'clusters' is drawn from Share-weighted places, not place by place",
                "use sciencecities.resolve.geography.clusters.find_clusters",
            )
        if str(name_or_path) in SHIPPED:
            return _load_shipped(str(name_or_path))
        return _load(name_or_path)

    def assign(self, place: Place) -> Unit:
        """The unit of one place; its `rule` says which rule decided."""
        return self.assign_many([place])[0]

    def assign_many(self, places: Sequence[Place]) -> list[Unit]:
        """The units of many places, in order; each rule handles all the places left to it at once."""
        units: list[Unit | None] = [None] * len(places)
        pending = list(range(len(places)))
        for rule in self.rules:
            found = rule.assign_many([places[i] for i in pending])
            for i, unit in zip(pending, found, strict=True):
                units[i] = unit
            pending = [i for i, unit in zip(pending, found, strict=True) if unit is None]
        assigned = [u for u in units if u is not None]
        assert len(assigned) == len(places), "the last rule, `place`, gives every place a unit"
        return assigned


@cache
def _load_shipped(name: str) -> BoundarySet:
    """A shipped set, loaded once per process (sets are immutable)."""
    return _load(name)


def _load(name_or_path: str | Path) -> BoundarySet:
    """Read, validate and build a boundary set."""
    raw, origin, folder = _read_yaml(name_or_path, "boundary set", SHIPPED)
    try:
        spec = _SetSpec.model_validate(raw)
    except ValidationError as exc:
        raise GeographyError(
            f"{origin} is not a valid boundary set: {exc}",
            "fix the file; data/boundaries/metro.yaml documents every rule",
        ) from exc
    rules: list[_Rule] = []
    for rule in spec.rules:
        if isinstance(rule, _UsCountiesSpec):
            rules.append(_UsCounties(rule, folder, origin))
        elif isinstance(rule, _ChinaSpec):
            rules.append(_ChinaPrefectures(rule, folder, origin))
        elif isinstance(rule, _CuratedSpec):
            rules.append(_Curated(rule))
        elif isinstance(rule, _SuburbsSpec):
            rules.append(_Suburbs(rule, folder, origin, rules))
        else:
            rules.append(_PlaceRule())
    return BoundarySet(spec.name, spec.version, spec.title, origin, tuple(rules))


# ---------------------------------------------------------------------------------------------------------
# Groups.


class _GroupSpec(_Spec):
    """A named group: any place matching one of its criteria is in it."""

    id: str
    name: str
    source: str = ""
    countries: list[str] = []
    continents: list[str] = []
    admin1: dict[str, list[str]] = {}
    units: list[str] = []

    @model_validator(mode="after")
    def _defined(self) -> _GroupSpec:
        """A group without criteria would be empty."""
        if not (self.countries or self.continents or self.admin1 or self.units):
            raise ValueError(f"group {self.id!r} needs countries, continents, admin1 or units")
        return self


class _GroupsSpec(_Spec):
    """A groups file: name, version and the groups, ids unique."""

    name: str
    version: int
    groups: list[_GroupSpec]

    @model_validator(mode="after")
    def _unique(self) -> _GroupsSpec:
        """Group ids name output rows, so they must be unique."""
        ids = [g.id for g in self.groups]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate group ids: {sorted({i for i in ids if ids.count(i) > 1})}")
        return self


@dataclass(frozen=True)
class Group:
    """A named group of places: by country, continent, first-level region (country, admin1) or unit id."""

    id: str
    name: str
    source: str
    countries: frozenset[str]
    continents: frozenset[str]
    admin1: frozenset[tuple[str, str]]
    units: frozenset[str]

    def holds(self, unit: Unit, place: Place, continent: str | None) -> bool:
        """Whether the place (or its unit) matches any of the group's criteria."""
        return (
            place.country_code in self.countries
            or continent in self.continents
            or (place.country_code, place.admin1 or "") in self.admin1
            or unit.id in self.units
        )


@cache
def _continents() -> dict[str, str]:
    """Country code -> GeoNames continent code, from the shipped countries.csv."""
    table = countries()
    return dict(zip(table["country_code"].to_pylist(), table["continent"].to_pylist(), strict=True))


@dataclass(frozen=True)
class Groups:
    """Named groups of science cities (regional clusters, continents, 'China mainland', ...), from a YAML file.

    Examples
    --------
    >>> from sciencecities.resolve.geography.model import Place
    >>> hefei = Place(1808722, "Hefei", "CN", "01", None, 31.86389, 117.28083, 1388904, "PPLA2")
    >>> Groups.load().groups_of(BoundarySet.load("metro").assign(hefei), hefei)
    ['yangtze-river-delta', 'china-mainland', 'asia']
    """

    name: str
    version: int
    origin: str
    groups: tuple[Group, ...]

    @classmethod
    def load(cls, name_or_path: str | Path = "groups") -> Groups:
        """Load the shipped groups (`groups`) or a user's groups file from a YAML path."""
        raw, origin, _ = _read_yaml(name_or_path, "groups file", ("groups",))
        try:
            spec = _GroupsSpec.model_validate(raw)
        except ValidationError as exc:
            raise GeographyError(
                f"{origin} is not a valid groups file: {exc}",
                "fix the file; data/boundaries/groups.yaml documents the format",
            ) from exc
        return cls(spec.name, spec.version, origin, tuple(_group(g) for g in spec.groups))

    def groups_of(self, unit: Unit, place: Place) -> list[str]:
        """Ids of the groups the place (with its unit) belongs to, in file order."""
        continent = _continents().get(place.country_code)
        return [g.id for g in self.groups if g.holds(unit, place, continent)]


def _group(spec: _GroupSpec) -> Group:
    """A Group from its validated spec."""
    admin1: Iterable[tuple[str, str]] = ((c, a) for c, codes in spec.admin1.items() for a in codes)
    return Group(
        spec.id,
        spec.name,
        spec.source,
        frozenset(spec.countries),
        frozenset(spec.continents),
        frozenset(admin1),
        frozenset(spec.units),
    )
