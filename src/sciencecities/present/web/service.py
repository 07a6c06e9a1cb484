"""What the routes call: the store's built editions, input checks against them, and the Python API's verbs
through the query cache. No SQL here: every number comes from `sciencecities.rank` and friends."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from sciencecities import editions
from sciencecities.audit import Audit, audit
from sciencecities.countries import countries
from sciencecities.errors import InputError, ScienceCitiesError
from sciencecities.present.web.cache import DEFAULT_SIZE, QueryCache
from sciencecities.rank.access import built_edition, subject_id
from sciencecities.rank.collaboration import collaboration
from sciencecities.rank.highlights import Highlights, highlights
from sciencecities.rank.names import Candidate, find
from sciencecities.rank.profile import CityProfile, city_profile
from sciencecities.rank.queries import city_locations, rank, trend
from sciencecities.rank.ranking import Ranking, Years
from sciencecities.resolve.subjects import ALL
from sciencecities.store import Store

T = TypeVar("T")

_YEARS = re.compile(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?")


_RANK_DEFAULTS: dict[str, Any] = {
    "years": None,
    "vs": None,
    "subject": ALL,
    "boundaries": "metro",
    "city": None,
    "rollup": False,
    "per_capita": False,
    "intervals": False,
    "size_independent": False,
}


class NotFoundError(ScienceCitiesError):
    """A resource named in the URL (an entity, a page) does not exist; the web API answers 404."""


@dataclass(frozen=True)
class Edition:
    """A built edition as the web API sees it: its manifest entry, its method, and its years with articles."""

    name: str
    built: dict[str, Any]
    method: editions.Edition
    years: tuple[int, ...]

    @property
    def boundaries(self) -> list[str]:
        """The boundary sets built for it, `metro` (the default) first."""
        sets = list(self.built.get("geography", {}).get("boundaries", {}))
        return sorted(sets, key=lambda s: (s != "metro", s))


class Service:
    """The store behind the web API: validates what a request names against what is built, and answers from
    the query cache, keyed by (store version, edition, endpoint, normalised query)."""

    def __init__(
        self, store: Store, *, cache_size: int = DEFAULT_SIZE, default_edition: str | None = None
    ) -> None:
        self.store = store
        self.cache = QueryCache(cache_size)
        self._default = default_edition
        self._manifests: dict[str, dict[str, Any]] = {}

    # -- the store and its editions --------------------------------------------------------------
    def version(self) -> str:
        """The live version of the store (its directory name); a StoreError when there is no store."""
        return self.store.current.name

    def manifest(self) -> dict[str, Any]:
        """The live manifest, read once per store version."""
        version = self.version()
        if version not in self._manifests:
            self._manifests = {version: self.store.manifest()}
        return self._manifests[version]

    def edition_names(self) -> list[str]:
        """The built editions, the default first."""
        names = sorted(self.manifest().get("builds", {}))
        default = self.default_edition()
        return [default, *(n for n in names if n != default)] if default in names else names

    def default_edition(self) -> str:
        """The edition used when a request names none: the one given at start, else nature-index if built,
        else the first built."""
        builds = sorted(self.manifest().get("builds", {}))
        if not builds:
            raise NotFoundError(
                f"the store {self.store.root} has no built edition", "run `sciencecities build` on it first"
            )
        for wanted in (self._default, "nature-index"):
            if wanted is not None and wanted in builds:
                return wanted
        return str(builds[0])

    def edition(self, name: str | None) -> Edition:
        """A built edition by name (only names: the web API never opens a file a request names)."""
        chosen = name or self.default_edition()
        if chosen not in self.manifest().get("builds", {}):
            raise InputError(
                f"edition {chosen!r} is not built in this store",
                f"use one of: {', '.join(self.edition_names())}",
            )
        return self.cached("edition", chosen, (), lambda: self._edition(chosen))

    def _edition(self, name: str) -> Edition:
        built, method = built_edition(self.store, name)
        totals = self.store.read("article_totals", name)
        overall = totals.filter(pc.equal(totals["subject"], ALL))
        years = tuple(sorted(int(y) for y in set(overall["year"].to_pylist())))
        return Edition(name, built, method, years)

    def boundaries(self, edition: Edition, name: str | None) -> str:
        """A boundary set built for the edition (default metro, else the first built)."""
        sets = edition.boundaries
        if name is None:
            if not sets:
                raise NotFoundError(
                    f"edition {edition.name!r} has no boundary sets built",
                    f"run `sciencecities build --edition {edition.name}`",
                )
            return sets[0]
        if name not in sets:
            raise InputError(
                f"boundary set {name!r} is not built for edition {edition.name!r}",
                f"use one of: {', '.join(sets) or 'none built'}",
            )
        return name

    def subject(self, edition: Edition, subject: str | None) -> str:
        """The edition's subject id for an id, name or unique prefix; 'all' for overall."""
        return subject_id(edition.method, subject)

    def window(
        self, edition: Edition, year: int | None, years: str | None, what: str = "years"
    ) -> Years | None:
        """`year` or `years` ('2020' or '2015-2024') as an inclusive window inside the edition's years."""
        if year is not None and years is not None:
            raise InputError("give year or years, not both", "e.g. year=2024 or years=2015-2024")
        if year is None and years is None:
            return None
        if year is not None:
            window = (year, year)
        else:
            match = _YEARS.fullmatch(years or "")
            if not match:
                raise InputError(
                    f"cannot read the {what} {years!r}", "write a window as FIRST-LAST, e.g. 2015-2024"
                )
            window = (int(match.group(1)), int(match.group(2) or match.group(1)))
        if window[0] > window[1]:
            raise InputError(f"the window {window[0]}-{window[1]} is empty", "give the first year first")
        first, last = (edition.years[0], edition.years[-1]) if edition.years else (0, -1)
        if window[0] < first or window[1] > last:
            shown = f"{window[0]}" if window[0] == window[1] else f"{window[0]}-{window[1]}"
            raise InputError(
                f"edition {edition.name!r} has no articles in {shown}",
                f"its years run {first}-{last}; /api/years lists the years with articles"
                if edition.years
                else "it has no eligible articles",
            )
        return window

    def countries(self, codes: list[str]) -> list[str]:
        """Country codes as given (comma lists allowed), upper case, each a known ISO 3166 alpha-2 code."""
        known = set(countries()["country_code"].to_pylist())
        wanted = [c.strip().upper() for code in codes for c in code.split(",") if c.strip()]
        unknown = [c for c in wanted if c not in known]
        if unknown:
            raise InputError(
                f"unknown country code {', '.join(repr(c) for c in unknown[:5])}",
                "use ISO 3166 alpha-2 codes such as CN, US, DE; /api/countries lists them",
            )
        return sorted(set(wanted))

    def cached(self, endpoint: str, edition: str, query: Hashable, compute: Callable[[], T]) -> T:
        """`compute()` through the cache under (store version, edition, endpoint, query)."""
        value: T = self.cache.get((self.version(), edition, endpoint, query), compute)
        return value

    # -- the verbs -------------------------------------------------------------------------------
    def rank(self, edition: Edition, **query: Any) -> Ranking:
        """`sciencecities.rank` on the edition; `query` holds normalised keyword arguments only (defaults
        filled in, so that the same ranking asked for by two routes is one cache entry)."""
        query = _RANK_DEFAULTS | query
        key = tuple(sorted(query.items()))
        return self.cached("rank", edition.name, key, lambda: rank(self.store, edition=edition.name, **query))

    def trend(self, edition: Edition, **query: Any) -> Ranking:
        """`sciencecities.trend` on the edition."""
        key = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in query.items()))
        return self.cached(
            "trend", edition.name, key, lambda: trend(self.store, edition=edition.name, **query)
        )

    def collaboration(self, edition: Edition, **query: Any) -> Ranking:
        """`rank.collaboration.collaboration` on the edition."""
        key = tuple(sorted(query.items()))
        return self.cached(
            "collaboration",
            edition.name,
            key,
            lambda: collaboration(self.store, edition=edition.name, **query),
        )

    def city_profile(
        self, edition: Edition, city: str, years: Years | None, boundaries: str, top: int
    ) -> CityProfile:
        """`rank.profile.city_profile` of a city id (NotFoundError when the set has no such city)."""
        ranked = self.rank(edition, level="city", boundaries=boundaries)
        if city not in set(ranked.table["id"].to_pylist()):
            self._not_found("city", city, ranked.table, f"boundary set {boundaries}")
        window = years or (edition.years[0], edition.years[-1])
        return self.cached(
            "profile",
            edition.name,
            (city, window, boundaries, top),
            lambda: city_profile(
                self.store, city, years=window, edition=edition.name, boundaries=boundaries, top=top
            ),
        )

    def entity(self, edition: Edition, level: str, entity_id: str, boundaries: str) -> dict[str, Any]:
        """The all-years ranking row of an entity of `level` (NotFoundError when it has none)."""
        table = self.rank(edition, level=level, boundaries=boundaries).table
        rows = table.filter(pc.equal(table["id"], entity_id)).to_pylist()
        if not rows:
            self._not_found(level, entity_id, table, f"edition {edition.name}")
        found: dict[str, Any] = rows[0]
        return found

    def _not_found(self, level: str, entity_id: str, table: pa.Table, where: str) -> None:
        ids = table["id"].to_pylist()
        names = table["name"].to_pylist()
        codes = (
            table["country_code"].to_pylist() if "country_code" in table.column_names else [None] * len(ids)
        )
        candidates = [Candidate(i, n or i, c) for i, n, c in zip(ids, names, codes, strict=True)]
        hint = f"ids come from /api/rankings?level={level}"
        try:
            close = find(entity_id, candidates, level)
            hint = f"did you mean id {close.id!r} ({close.name})?"
        except InputError as error:
            if error.hint and "did you mean" in error.hint:
                hint = error.hint
        raise NotFoundError(f"no {level} with id {entity_id!r} is ranked in {where}", hint)

    def locations(self, edition: Edition, boundaries: str) -> pa.Table:
        """`rank.queries.city_locations`: latitude and longitude per science city."""
        return self.cached(
            "locations",
            edition.name,
            boundaries,
            lambda: city_locations(self.store, edition=edition.name, boundaries=boundaries),
        )

    def highlights(self, edition: Edition, **query: Any) -> Highlights:
        """`sciencecities.highlights` on the edition."""
        key = tuple(sorted(query.items()))
        return self.cached(
            "highlights", edition.name, key, lambda: highlights(self.store, edition=edition.name, **query)
        )

    def audit(self, edition: Edition) -> Audit:
        """`sciencecities.audit` of the store for the edition."""
        return self.cached("audit", edition.name, (), lambda: audit(self.store, edition.name))
