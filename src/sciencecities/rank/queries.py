"""The ranking verbs of the Python API: `rank` and `trend` read a built edition of a store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from sciencecities import editions, engines
from sciencecities.countries import countries
from sciencecities.errors import InputError, StoreError
from sciencecities.measure import counts
from sciencecities.rank.names import Candidate, find
from sciencecities.rank.ranking import (
    LEVELS,
    Ranking,
    Years,
    adjusted,
    contribution,
    previous_window,
    ranking,
)
from sciencecities.rank.ranking import (
    trend as trend_rows,
)
from sciencecities.resolve.geography.boundaries import BoundarySet
from sciencecities.resolve.lineage import top_level
from sciencecities.resolve.subjects import ALL
from sciencecities.store import Store


def built_edition(store: Store, edition: str) -> tuple[dict[str, Any], editions.Edition]:
    """The manifest entry of a built edition (by name or edition file) and the edition with the options it
    was built with (so `build --base-year` holds for every later ranking)."""
    name = editions.load(edition).name if edition.endswith((".yaml", ".yml")) else edition
    built = store.manifest().get("builds", {}).get(name)
    if built is None:
        raise StoreError(
            f"edition {name!r} is not built in {store.root}", f"run `sciencecities build --edition {edition}`"
        )
    method = editions.load(built.get("edition_file") or name)
    return built, method.with_options(base_year=built["options"].get("base_year"))


def subject_id(edition: editions.Edition, subject: str | None) -> str:
    """The edition's subject id for an id, display name or unique prefix of either (any case); None or 'all'
    is the overall table."""
    if subject is None or subject.strip().lower() in (ALL, "overall"):
        return ALL
    wanted = subject.strip().lower().replace("_", "-")
    for sid, label in edition.subjects.items():
        if wanted in (sid.lower(), label.lower()):
            return sid
    prefixed = [
        sid
        for sid, label in edition.subjects.items()
        if sid.startswith(wanted) or label.lower().startswith(wanted)
    ]
    if len(prefixed) == 1:
        return prefixed[0]
    choices = ", ".join(edition.subjects) or "none: this edition has no subjects"
    raise InputError(f"edition {edition.name!r} has no subject {subject!r}", f"use one of: {choices}")


def boundaries_name(boundaries: str) -> str:
    """The name a boundary set is stored under: shipped names as given, a user's file by the name inside it."""
    if boundaries.endswith((".yaml", ".yml")):
        return BoundarySet.load(boundaries).name
    return boundaries


def _level(
    con: BaseBackend, level: str, built: dict[str, Any], boundaries: str
) -> tuple[ibis.Table, str, ibis.Table]:
    if level == "city":
        sets = built.get("geography", {}).get("boundaries", {})
        if boundaries not in sets:
            raise StoreError(
                f"boundary set {boundaries!r} is not built for edition {built['edition']!r}"
                + (f" (built: {', '.join(sets)})" if sets else ""),
                f"run `sciencecities build --edition {built['edition']} --boundaries FILE` with your set's file"
                if sets
                else f"run `sciencecities build --edition {built['edition']}`: the store predates geography",
            )
        rows = con.table("city_year")
        units = con.table("institution_units")
        names = (
            units.filter(units.boundaries == boundaries)
            .group_by("unit_id")
            .agg(name=units.unit_name.min(), country_code=units.country_code.min())
        )
        return rows.filter(rows.boundaries == boundaries).drop("boundaries"), "unit_id", names
    if level == "group":
        groups = con.table("institution_groups")
        names = groups.group_by("group_id").agg(
            name=groups.group_name.min(), country_code=ibis.null("string")
        )
        return con.table("group_year"), "group_id", names
    if level == "institution":
        names = con.table("institutions").select("institution_id", "name", "country_code")
        return con.table("institution_year"), "institution_id", names
    if level == "country":
        names = ibis.memtable(countries()).select("country_code", "name")
        return con.table("country_year"), "country_code", names
    raise InputError(f"unknown level {level!r}", f"use one of {', '.join(LEVELS)}")


def _check_window(years: Years | None, what: str = "window") -> None:
    if years is not None and years[0] > years[1]:
        raise InputError(
            f"the {what} {years[0]}-{years[1]} is empty", "give the first year first, e.g. 2015-2024"
        )


def _base_year(con: BaseBackend, edition: editions.Edition, base_year: int | None) -> int | None:
    """The base year asked for, else the edition's, else the latest year with eligible articles."""
    if base_year is not None:
        return base_year
    if edition.base_year is not None:
        return edition.base_year
    totals = con.table("article_totals")
    return totals.filter(totals.subject == ALL).year.max().to_pyarrow().as_py()


@dataclass(frozen=True)
class _Prepared:
    """What rank and trend both start from: the built edition, the subject, and the adjusted per-year rows."""

    con: BaseBackend
    built: dict[str, Any]
    subject: str
    key: str
    names: ibis.Table
    metrics: ibis.Table
    base_year: int | None
    boundaries: str | None


def _prepare(
    store: Store,
    level: str,
    years: Years | None,
    subject: str | None,
    edition: str,
    base_year: int | None,
    boundaries: str,
    rollup: bool = False,
) -> _Prepared:
    _check_window(years)
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", f"use one of {', '.join(LEVELS)}")
    built, method = built_edition(store, edition)
    sid = subject_id(method, subject)
    unit_set = boundaries_name(boundaries) if level == "city" else None
    con = engines.connect(store.current, built["edition"])
    per_year, key, names = _level(con, level, built, unit_set or "")
    if rollup:
        if level != "institution":
            raise InputError(
                "--rollup credits institutions to their parents", "use it with --level institution"
            )
        parents = ibis.memtable(top_level(con.table("institutions").to_pyarrow()))
        rolled = counts.located_year(con.table("credit"), con.table("work_subjects"), parents, "parent_id")
        per_year = rolled.rename(institution_id="parent_id")
    base = _base_year(con, method, base_year)
    metrics = adjusted(per_year, con.table("article_totals"), sid, base if base is not None else 0)
    return _Prepared(con, built, sid, key, names, metrics, base, unit_set)


def _meta(store: Store, built: dict[str, Any], **fields: Any) -> dict[str, Any]:
    manifest = store.manifest()
    return {
        **fields,
        "edition": built["edition"],
        "edition_version": built.get("edition_version"),
        "options": built["options"],
        "built": built["built"],
        "store": str(store.root),
        "store_version": manifest["version"],
        "sciencecities_version": manifest.get("sciencecities_version"),
        "ranking_rule": "Share rounded to 1e-9, then Count; ties share a rank",
        "coverage": coverage(manifest, built),
    }


def coverage(manifest: dict[str, Any], built: dict[str, Any]) -> dict[str, Any]:
    """What the numbers stand on: works in the store, eligible and credited articles, the Share placed."""
    geography = built.get("geography", {})
    return {
        "works_in_store": manifest.get("tables", {}).get("works"),
        "eligible_articles": built.get("rows", {}).get("eligible_works"),
        "credited_articles": built.get("checks", {}).get("works_checked"),
        "total_share": built.get("checks", {}).get("total_share"),
        "placed_share_fraction": geography.get("placed_fraction"),
    }


def rank(
    store: Store,
    *,
    level: str = "institution",
    years: Years | None = None,
    subject: str | None = None,
    edition: str = "nature-index",
    top: int | None = None,
    vs: Years | None = None,
    base_year: int | None = None,
    boundaries: str = "metro",
    city: str | None = None,
    rollup: bool = False,
    per_capita: bool = False,
) -> Ranking:
    """Rank institutions, science cities, countries or groups of a built edition over a window of years,
    overall or in one subject; cities are the units of `boundaries` (metro, city, clusters or a set's file).

    Beside Count and Share: Adjusted Share to the base year, and, when a window is given, the rank and
    Adjusted Share of the previous window (`vs`, else the same length just before) and the change. City
    rankings add `contribution`, the city's Share as a percentage of its country's. With `city` (an id or
    a name of a unit of `boundaries`), institutions are those of that city and `contribution` is their Share
    as a percentage of the city's. With `rollup`, institutions are credited to their top-level parents
    through OpenAlex `lineage` (see `resolve.lineage.top_level`). With `per_capita` (cities only), the
    columns `population` (of the unit: GeoNames places summed, or the build's --population file) and
    `share_per_million` (Share per million inhabitants) are added.

    Examples
    --------
    >>> from sciencecities import demo_store, rank
    >>> r = rank(demo_store(), level="country", top=3)
    >>> r.table.column_names[:4]
    ['rank', 'previous_rank', 'id', 'name']
    """
    _check_window(vs, "comparison window")
    if city is not None and level != "institution":
        raise InputError("--city drills down to institutions", "use --level institution with --city")
    if city is not None and rollup:
        raise InputError(
            "--city lists institutions as placed, --rollup credits them to parents elsewhere",
            "use one of them",
        )
    ready = _prepare(store, level, years, subject, edition, base_year, boundaries, rollup)
    previous = previous_window(years, vs)
    unit = None
    metrics = ready.metrics
    if city is not None:
        unit, members = _city_members(ready, boundaries, city)
        metrics = metrics.filter(metrics.institution_id.isin(members.institution_id))
    expr = ranking(metrics, ready.key, ready.names, years, previous)
    if level == "city":
        country_rows = ready.con.table("country_year")
        expr = contribution(expr, country_rows.filter(country_rows.subject == ready.subject), years)
    if per_capita:
        if level != "city":
            raise InputError("per-capita Share is for science cities", "use --per-capita with --level city")
        people = ready.con.table("unit_population")
        people = people.filter(people.boundaries == ready.boundaries).select(
            pop_id=people.unit_id, population=people.population
        )
        joined = expr.left_join(people, expr.id == people.pop_id)
        per_million = ibis.ifelse(
            joined.population > 0,
            joined.share / joined.population.cast("float64") * 1e6,
            ibis.null("float64"),
        )
        expr = joined.select(
            *expr.columns, population=joined.population, share_per_million=per_million
        ).order_by(["rank", "name", "id"])
    if unit is not None:
        rows = ready.con.table("city_year")
        chosen = rows.filter(
            (rows.boundaries == unit[1]) & (rows.unit_id == unit[0].id) & (rows.subject == ready.subject)
        )
        city_rows = chosen.mutate(country_code=ibis.literal(unit[0].country_code)).drop(
            "boundaries", "unit_id"
        )
        expr = contribution(expr, city_rows, years)
    if top is not None:
        expr = expr.filter(expr["rank"] <= top)
    table = expr.to_pyarrow()
    ready.con.disconnect()
    meta = _meta(
        store,
        ready.built,
        level=level,
        subject=ready.subject,
        years=list(years) if years else "all",
        previous_years=list(previous) if previous else None,
        base_year=ready.base_year,
        boundaries=ready.boundaries or (unit[1] if unit else None),
        city={"id": unit[0].id, "name": unit[0].name, "country_code": unit[0].country_code} if unit else None,
        rollup=rollup,
        per_capita=per_capita or None,
    )
    return Ranking(table, meta)


def _city_candidates(con: BaseBackend, boundaries: str) -> list[Candidate]:
    """Every unit of a built boundary set, as name-finding candidates."""
    units = con.table("institution_units")
    in_set = units.filter(units.boundaries == boundaries)
    rows = (
        in_set.group_by("unit_id")
        .agg(name=in_set.unit_name.min(), country_code=in_set.country_code.min())
        .order_by("unit_id")
        .to_pyarrow()
        .to_pylist()
    )
    return [Candidate(r["unit_id"], r["name"], r["country_code"]) for r in rows]


def _city_members(ready: _Prepared, boundaries: str, city: str) -> tuple[tuple[Candidate, str], ibis.Table]:
    """The unit that `city` names with its boundary set's name, and the unit's institutions (an InputError
    with suggestions when the name fits none or several)."""
    name = boundaries_name(boundaries)
    _level(ready.con, "city", ready.built, name)  # raises a StoreError with a hint when the set is not built
    found = find(city, _city_candidates(ready.con, name), "city")
    units = ready.con.table("institution_units")
    members = units.filter((units.boundaries == name) & (units.unit_id == found.id)).select("institution_id")
    return (found, name), members


def find_city(
    store: Store, city: str, *, edition: str = "nature-index", boundaries: str = "metro"
) -> Candidate:
    """The science city (a unit of `boundaries`) that `city` names: its id, or its name in any case and
    accents, with ', CC' to pick a country; an InputError lists the matches or close names otherwise."""
    built, _ = built_edition(store, edition)
    name = boundaries_name(boundaries)
    con = engines.connect(store.current, built["edition"])
    try:
        _level(con, "city", built, name)
        return find(city, _city_candidates(con, name), "city")
    finally:
        con.disconnect()


def trend(
    store: Store,
    *,
    level: str = "institution",
    years: Years | None = None,
    subject: str | None = None,
    edition: str = "nature-index",
    ids: list[str] | None = None,
    top: int | None = None,
    base_year: int | None = None,
    boundaries: str = "metro",
) -> Ranking:
    """Share, Adjusted Share, Count and rank per entity and year; `ids` picks entities, `top` keeps those
    ranked 1..top in the window's last year (both: either)."""
    ready = _prepare(store, level, years, subject, edition, base_year, boundaries)
    rows = trend_rows(ready.metrics, ready.key, ready.names, years)
    if ids is not None or top is not None:
        last = rows.year.max()
        leaders = rows.filter((rows.year == last) & (rows["rank"] <= (top or 0))).select(lead=rows.id)
        chosen = rows.id.isin(ids or []) | rows.id.isin(leaders.lead)
        rows = rows.filter(chosen)
    table = rows.to_pyarrow()
    ready.con.disconnect()
    meta = _meta(
        store,
        ready.built,
        level=level,
        subject=ready.subject,
        years=list(years) if years else "all",
        base_year=ready.base_year,
        boundaries=ready.boundaries,
    )
    return Ranking(table, meta)


def city_locations(store: Store, *, edition: str = "nature-index", boundaries: str = "metro") -> pa.Table:
    """Where to draw each science city on a map: id, latitude and longitude, the mean of its institutions'
    places weighted by their Share (all years; unweighted for a city without Share)."""
    built, _ = built_edition(store, edition)
    name = boundaries_name(boundaries)
    con = engines.connect(store.current, built["edition"])
    _level(con, "city", built, name)
    units = con.table("institution_units")
    places = con.table("institution_places")
    credit = con.table("credit")
    share = credit.group_by("institution_id").agg(share=credit.share.sum())
    rows = (
        units.filter(units.boundaries == name)
        .join(places.select("institution_id", "latitude", "longitude"), "institution_id")
        .left_join(share, "institution_id")
    )
    weight = rows.share.fill_null(0.0)
    grouped = rows.group_by(id=rows.unit_id).agg(
        total=weight.sum(),
        lat_w=(rows.latitude * weight).sum(),
        lon_w=(rows.longitude * weight).sum(),
        lat=rows.latitude.mean(),
        lon=rows.longitude.mean(),
    )
    located = grouped.select(
        "id",
        latitude=ibis.ifelse(grouped.total > 0, grouped.lat_w / grouped.total, grouped.lat),
        longitude=ibis.ifelse(grouped.total > 0, grouped.lon_w / grouped.total, grouped.lon),
    ).order_by("id")
    table = located.to_pyarrow()
    con.disconnect()
    return table
