"""The ranking verbs of the Python API: `rank` and `trend` read a built edition of a store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from sciencecities import editions, engines
from sciencecities.errors import InputError
from sciencecities.measure import counts
from sciencecities.measure.indicators import CITATION_METHOD, DEFAULT_MIN_ARTICLES
from sciencecities.measure.intervals import INTERVAL_COLUMNS, LOWER, METHOD, UPPER
from sciencecities.rank.access import (
    boundaries_name,
    built_edition,
    check_window,
    city_candidates,
    level_rows,
    located,
    subject_id,
)
from sciencecities.rank.indicators import SIZE_INDEPENDENT, check_min_articles, indicators_of
from sciencecities.rank.intervals import check_options, intervals_of
from sciencecities.rank.names import Candidate, find
from sciencecities.rank.ranking import (
    LEVELS,
    Ranking,
    Years,
    adjusted,
    append_columns,
    contribution,
    previous_window,
    ranking,
)
from sciencecities.rank.ranking import (
    trend as trend_rows,
)
from sciencecities.resolve.subjects import ALL
from sciencecities.store import Store


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
    engine: str = "duckdb",
) -> _Prepared:
    check_window(years)
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", f"use one of {', '.join(LEVELS)}")
    built, method = built_edition(store, edition)
    sid = subject_id(method, subject)
    unit_set = boundaries_name(boundaries) if level == "city" else None
    con = engines.connect(store.current, built["edition"], engine=engine)
    per_year, key, names = level_rows(con, level, built, unit_set or "")
    if rollup:
        if level != "institution":
            raise InputError(
                "--rollup credits institutions to their parents", "use it with --level institution"
            )
        parents, _ = located(con, level, rollup=True)
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
    intervals: bool = False,
    resamples: int = 1000,
    seed: int = 0,
    size_independent: bool = False,
    min_articles: int = DEFAULT_MIN_ARTICLES,
    engine: str = "duckdb",
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
    `share_per_million` (Share per million inhabitants) are added. With `intervals`, the stability interval
    of each entity's Share and rank over `resamples` bootstrap resamples drawn with `seed` (`share_lo`,
    `share_hi`, `rank_lo`, `rank_hi`; see `sciencecities.measure.intervals`). With `size_independent`, Share
    per article, the international and company co-authorship fractions, MNCS and PP(top 10%) (null for
    entities with fewer than `min_articles` scored articles; see `sciencecities.measure.indicators`). `engine`
    runs the same expressions on DuckDB (default) or Spark (`sciencecities.engines`).

    Examples
    --------
    >>> from sciencecities import demo_store, rank
    >>> r = rank(demo_store(), level="country", top=3)
    >>> r.table.column_names[:4]
    ['rank', 'previous_rank', 'id', 'name']
    """
    check_window(vs, "comparison window")
    if city is not None and level != "institution":
        raise InputError("--city drills down to institutions", "use --level institution with --city")
    if city is not None and rollup:
        raise InputError(
            "--city lists institutions as placed, --rollup credits them to parents elsewhere",
            "use one of them",
        )
    if intervals:
        check_options(resamples, seed)
    if size_independent:
        check_min_articles(min_articles)
    ready = _prepare(store, level, years, subject, edition, base_year, boundaries, rollup, engine)
    previous = previous_window(years, vs)
    unit = None
    members = None
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
    entity_options = {
        "boundaries": ready.boundaries or "",
        "rollup": rollup,
        "years": years,
        "subject": ready.subject,
        "members": members,
    }
    if size_independent:
        extra = indicators_of(ready.con, level, **entity_options, min_articles=min_articles)
        table = append_columns(table, extra, SIZE_INDEPENDENT)
    if intervals:
        extra = intervals_of(ready.con, level, **entity_options, resamples=resamples, seed=seed)
        table = append_columns(table, extra, INTERVAL_COLUMNS)
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
        intervals={"resamples": resamples, "seed": seed, "percentiles": [LOWER, UPPER], "method": METHOD}
        if intervals
        else None,
        size_independent={"min_articles": min_articles, "citations": CITATION_METHOD}
        if size_independent
        else None,
        engine=engine,
    )
    return Ranking(table, meta)


def _city_members(ready: _Prepared, boundaries: str, city: str) -> tuple[tuple[Candidate, str], ibis.Table]:
    """The unit that `city` names with its boundary set's name, and the unit's institutions (an InputError
    with suggestions when the name fits none or several)."""
    name = boundaries_name(boundaries)
    level_rows(
        ready.con, "city", ready.built, name
    )  # raises a StoreError with a hint when the set is not built
    found = find(city, city_candidates(ready.con, name), "city")
    units = ready.con.table("institution_units")
    members = units.filter((units.boundaries == name) & (units.unit_id == found.id)).select("institution_id")
    return (found, name), members


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
    engine: str = "duckdb",
) -> Ranking:
    """Share, Adjusted Share, Count and rank per entity and year; `ids` picks entities, `top` keeps those
    ranked 1..top in the window's last year (both: either); on `engine` as `rank`."""
    ready = _prepare(store, level, years, subject, edition, base_year, boundaries, engine=engine)
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
    level_rows(con, "city", built, name)
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
    centres = grouped.select(
        "id",
        latitude=ibis.ifelse(grouped.total > 0, grouped.lat_w / grouped.total, grouped.lat),
        longitude=ibis.ifelse(grouped.total > 0, grouped.lon_w / grouped.total, grouped.lon),
    ).order_by("id")
    table = centres.to_pyarrow()
    con.disconnect()
    return table
