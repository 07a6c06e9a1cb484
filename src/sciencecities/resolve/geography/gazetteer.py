"""The shipped GeoNames gazetteer: places by id, by name, and by coordinates (DESIGN §6)."""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow.parquet as pq

from sciencecities.resolve.geography.model import Place

if TYPE_CHECKING:
    from sklearn.neighbors import BallTree

__all__ = ["Area", "Gazetteer", "NearestPlace", "load", "normalise_name"]

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), used to turn haversine angles into kilometres."""

SEARCH_RADIUS_KM = 30.0
"""nearest() weighs the places within this distance; beyond it, it returns the plain nearest place."""

_REACH_KM_PER_SQRT_PERSON = 0.008
"""A place of population P reaches 0.008 km * sqrt(P) (1 km at least, 30 km at most): about its built-up radius."""

_SECTION = "PPLX"
"""GeoNames code for a section of a populated place (a Tokyo ward, a district): yields to the place it is part of."""

_NOT_FOR_NEAREST = frozenset({"PPLH", "PPLQ", "PPLW", "P"})
"""Historical, abandoned and destroyed places, and supplementary places of unknown feature code (see PROVENANCE)."""

_FOLD = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i", "ħ": "h", "ŀ": "l"}
    | dict.fromkeys("'’‘`´ʻʼ", "")
)
_WORD = re.compile(r"[a-z0-9]+")
_SYNONYMS = {"saint": "st", "sainte": "ste", "sankt": "st", "mount": "mt"}


def normalise_name(text: str) -> str:
    """Fold a name to lower-case ASCII words so spellings match ('São Paulo' -> 'sao paulo', 'U.S.A.' -> 'usa').

    Accents are dropped, apostrophes vanish, other punctuation separates words, runs of single letters join
    ('P.R. China' -> 'pr china') and Saint/Sankt/Mount become st/mt. Non-Latin letters are dropped.
    The result is idempotent: normalising it again gives the same string.
    """
    text = text.casefold().translate(_FOLD)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    words: list[str] = []
    run = ""
    for word in _WORD.findall(text):
        if len(word) == 1 and word.isalpha():
            run += word
            continue
        if run:
            words.append(run)
            run = ""
        words.append(_SYNONYMS.get(word, word))
    if run:
        words.append(run)
    return " ".join(words)


@dataclass(frozen=True)
class Area:
    """A country, or a first-level region of one (admin1 as GeoNames writes it), that a name in an address denotes."""

    country_code: str
    admin1: str | None
    city_geonames_id: int | None
    """The city the same name denotes, for regions named after their city (Beijing, Tokyo, New York)."""


@dataclass(frozen=True)
class NearestPlace:
    """The answer of Gazetteer.nearest(): the place, and how far the asked point is from it, so callers can judge it."""

    place: Place
    distance_km: float


class Gazetteer:
    """GeoNames populated places (cities1000, 2013, plus newer cities15000 ids), with name and spatial indexes.

    Build it with `load()`. Names are looked up by their `normalise_name` form; `nearest` answers for any point.
    """

    def __init__(self, directory: Path) -> None:
        """Read places.parquet, names.parquet and areas.csv from `directory` (the shipped data/geo)."""
        places = pq.ParquetFile(directory / "places.parquet").read()
        self._ids = places.column("geonames_id").to_numpy()
        self._names: list[str] = places.column("name").to_pylist()
        self._countries: list[str] = places.column("country_code").to_pylist()
        self._country_array = np.array(self._countries, dtype=object)
        self._admin1: list[str | None] = places.column("admin1").to_pylist()
        self._admin2: list[str | None] = places.column("admin2").to_pylist()
        self._features: list[str] = places.column("feature_code").to_pylist()
        self._for_nearest = np.fromiter(
            (f not in _NOT_FOR_NEAREST for f in self._features), bool, len(self._ids)
        )
        # Stored as float32; GeoNames gives 5 decimals, so rounding restores the published value.
        self._latitudes = places.column("latitude").to_numpy().astype(np.float64).round(5)
        self._longitudes = places.column("longitude").to_numpy().astype(np.float64).round(5)
        self._populations = places.column("population").to_numpy().astype(np.int64)
        names = pq.ParquetFile(directory / "names.parquet").read()
        self._name_keys: list[str] = names.column("name").to_pylist()
        self._name_rows = np.searchsorted(self._ids, names.column("geonames_id").to_numpy())
        self._areas: dict[str, tuple[Area, ...]] = {}
        with (directory / "areas.csv").open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                area = Area(
                    row["country_code"], row["admin1"] or None, int(row["city"]) if row["city"] else None
                )
                self._areas[row["name"]] = (*self._areas.get(row["name"], ()), area)
        self._place_cache: dict[int, Place] = {}
        self._trees: dict[str | None, tuple[BallTree, np.ndarray]] = {}

    def __len__(self) -> int:
        """Number of places."""
        return len(self._ids)

    def place(self, geonames_id: int) -> Place | None:
        """The place with this GeoNames id, or None when the gazetteer lacks it (callers fall back to nearest())."""
        row = int(np.searchsorted(self._ids, geonames_id))
        if row < len(self._ids) and self._ids[row] == geonames_id:
            return self._place_at(row)
        return None

    def nearest(self, latitude: float, longitude: float, country: str | None = None) -> NearestPlace:
        """The place a point belongs to: the strongest pull among places whose reach covers it, else the nearest.

        A place of population P reaches 0.008 km * sqrt(P), clipped to [1, 30] km (about its built-up radius:
        Tokyo 23 km, Munich 9 km, a town of 15,000 1 km), and pulls with P / max(d, 1 km)^2 at distance d.
        Sections of places (PPLX, such as Tokyo's wards) yield to any covering place that is not a section, and
        places of unknown population (0) pull least, nearer first. So a point in Bunkyō resolves to Tokyo, a point
        in Garching to Garching bei München (Munich's reach stops short of it) and Harvard to Cambridge, MA rather
        than Boston; the metro boundary set, not this lookup, joins suburbs to their city. With `country` (ISO2)
        only that country's places are considered. Historical, abandoned and supplementary places (see
        PROVENANCE.md) are never returned. Every point on Earth gets an answer: check `distance_km`.
        """
        if not (-90.0 <= latitude <= 90.0 and -180.0 <= longitude <= 180.0):
            raise ValueError(f"not a coordinate: latitude {latitude}, longitude {longitude}")
        tree, rows = self._tree(country)
        point = np.radians([[latitude, longitude]])
        found, angles = tree.query_radius(point, r=SEARCH_RADIUS_KM / EARTH_RADIUS_KM, return_distance=True)
        candidates, distances = rows[found[0]], angles[0] * EARTH_RADIUS_KM
        if len(candidates):
            populations = self._populations[candidates]
            reach = np.clip(_REACH_KM_PER_SQRT_PERSON * np.sqrt(populations), 1.0, SEARCH_RADIUS_KM)
            covering = distances <= reach
            if covering.any():
                candidates, distances, populations = (
                    candidates[covering],
                    distances[covering],
                    populations[covering],
                )
                sections = np.fromiter(
                    (self._features[r] == _SECTION for r in candidates), bool, len(candidates)
                )
                pull = populations / np.maximum(distances, 1.0) ** 2
                best = np.lexsort((distances, -pull, sections))[0]
                return NearestPlace(self._place_at(int(candidates[best])), float(distances[best]))
        angle, index = tree.query(point, k=1)
        return NearestPlace(self._place_at(int(rows[index[0, 0]])), float(angle[0, 0] * EARTH_RADIUS_KM))

    def places_named(self, name: str, country: str | None = None) -> tuple[Place, ...]:
        """Places with this name or alternate name (any spelling), most populous first; optionally in one country."""
        return tuple(
            self._place_at(row)
            for row in self._name_index.get(normalise_name(name), ())
            if country is None or self._countries[row] == country
        )

    def lookup(self, key: str, country: str | None = None, admin1: str | None = None) -> Place | None:
        """The best place named `key` (a normalise_name() result): in `country`, in `admin1` if any is, most populous.

        The parser's hot path: no normalising, no Place built for the candidates it passes over.
        """
        rows = self._name_index.get(key)
        if rows is None:
            return None
        best = None
        for row in rows:
            if country is not None and self._countries[row] != country:
                continue
            if admin1 is None or self._admin1[row] == admin1:
                return self._place_at(row)
            if best is None:
                best = row
        return None if best is None else self._place_at(best)

    def areas(self, key: str) -> tuple[Area, ...]:
        """Countries and regions a normalise_name() form denotes ('georgia' -> GE, then US-GA), most likely first."""
        return self._areas.get(key, ())

    @functools.cached_property
    def final_words(self) -> frozenset[str]:
        """Last words of all place names: a scanner skips word sequences that cannot end one without a look-up."""
        return frozenset(key.rpartition(" ")[2] for key in self._name_index)

    @functools.cached_property
    def area_final_words(self) -> frozenset[str]:
        """Last words of all country and region names (see final_words)."""
        return frozenset(key.rpartition(" ")[2] for key in self._areas)

    @functools.cached_property
    def _name_index(self) -> dict[str, tuple[int, ...]]:
        """Normalised name -> rows of the places bearing it, best first (names.parquet is sorted that way); built on
        first use."""
        index: dict[str, tuple[int, ...]] = {}
        keys, rows = self._name_keys, self._name_rows.tolist()
        start = 0
        for end in range(1, len(keys) + 1):
            if end == len(keys) or keys[end] != keys[start]:
                index[keys[start]] = tuple(rows[start:end])
                start = end
        return index

    def _tree(self, country: str | None) -> tuple[BallTree, np.ndarray]:
        """A haversine BallTree over the places nearest() may return (of one country if given), built on first use."""
        if country not in self._trees:
            from sklearn.neighbors import BallTree  # imported here: scikit-learn takes a second to import

            usable = (
                self._for_nearest if country is None else self._for_nearest & (self._country_array == country)
            )
            if not usable.any():
                raise ValueError(f"no places for country code {country!r} in the gazetteer")
            rows = np.flatnonzero(usable)
            coordinates = np.radians(np.column_stack([self._latitudes[rows], self._longitudes[rows]]))
            self._trees[country] = (BallTree(coordinates, metric="haversine"), rows)
        return self._trees[country]

    def radians(self) -> np.ndarray:
        """Latitude and longitude of every place in radians, in id order (rows as in all_places)."""
        return np.radians(np.c_[self._latitudes, self._longitudes])

    def all_places(self) -> list[Place]:
        """Every place of the gazetteer, in id order (for summing populations over a boundary set's units)."""
        if len(self._place_cache) < len(self._ids):
            for row in range(len(self._ids)):
                self._place_at(row)
        return [self._place_cache[row] for row in range(len(self._ids))]

    def _place_at(self, row: int) -> Place:
        """The Place of one row, built once."""
        place = self._place_cache.get(row)
        if place is None:
            place = Place(
                geonames_id=int(self._ids[row]),
                name=self._names[row],
                country_code=self._countries[row],
                admin1=self._admin1[row],
                admin2=self._admin2[row],
                latitude=float(self._latitudes[row]),
                longitude=float(self._longitudes[row]),
                population=int(self._populations[row]),
                feature_code=self._features[row],
            )
            self._place_cache[row] = place
        return place


@functools.cache
def load(directory: Path | None = None) -> Gazetteer:
    """The gazetteer shipped in sciencecities/data/geo (or read from `directory`), loaded once per process."""
    if directory is None:
        directory = Path(str(resources.files("sciencecities") / "data" / "geo"))
    return Gazetteer(directory)
