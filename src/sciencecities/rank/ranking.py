"""Rankings: Count and Share per entity over a year window, ordered by the rule of DESIGN §4."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

LEVELS = ("institution", "country")
"""The levels that can be ranked (cities and metros come with geography)."""

COLUMNS = ("rank", "id", "name", "country_code", "count", "share")


@dataclass(frozen=True)
class Ranking:
    """A ranked table and the metadata that says how it was made (edition, options, years, store version)."""

    table: pa.Table
    meta: dict[str, Any]


def apply_ranking_rule(table: ibis.Table) -> ibis.Table:
    """Rank by Share rounded to 1e-9, then Count; ties in both share a rank (1, 2, 2, 4); name orders ties."""
    share_key = table.share.round(9)
    rank = ibis.rank().over(order_by=[share_key.desc(), table["count"].desc()]) + 1
    return table.mutate(rank=rank.cast("int64")).order_by(["rank", "name", "id"])


def window(metrics: ibis.Table, key: str, years: tuple[int, int] | None) -> ibis.Table:
    """Sum Count and Share of a per-year table over `years` (inclusive; all years when None).

    Counts add up across years because each work has one year; they never add up across levels.
    """
    if years is not None:
        metrics = metrics.filter(metrics.year.between(years[0], years[1]))
    return metrics.group_by(key).agg(count=_["count"].sum(), share=_.share.sum())


def ranking(per_year: ibis.Table, key: str, names: ibis.Table, years: tuple[int, int] | None) -> ibis.Table:
    """Sum a per-year table over `years`, attach name and country from `names` (keyed by `key`), and rank.

    `names` has columns `key`, `name` and `country_code`; an entity without a name shows its id.
    """
    totals = window(per_year, key, years)
    named = totals.join(names, key, how="left").select(
        id=totals[key],
        name=names.name.fill_null(totals[key]),
        country_code=totals[key] if key == "country_code" else names.country_code,
        count=totals["count"],
        share=totals.share,
    )
    return apply_ranking_rule(named).select(*COLUMNS)


def rank(
    store: Any,
    *,
    level: str = "institution",
    years: tuple[int, int] | None = None,
    edition: str = "all-articles",
    top: int | None = None,
) -> Ranking:
    """Rank institutions or countries of a built edition over a window of years.

    Examples
    --------
    >>> from sciencecities import demo_store, rank
    >>> r = rank(demo_store(), level="country", top=3)
    >>> r.table.column_names
    ['rank', 'id', 'name', 'country_code', 'count', 'share']
    """
    from sciencecities import engines
    from sciencecities.countries import countries
    from sciencecities.errors import InputError, StoreError

    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", f"use one of {', '.join(LEVELS)}")
    if years is not None and years[0] > years[1]:
        raise InputError(
            f"the window {years[0]}-{years[1]} is empty", "give the first year first, e.g. 2015-2024"
        )
    manifest = store.manifest()
    built = manifest.get("builds", {}).get(edition)
    if built is None:
        raise StoreError(
            f"edition {edition!r} is not built in {store.root}",
            f"run `sciencecities build --edition {edition}`",
        )
    con = engines.connect(store.current, edition)
    if level == "institution":
        names = con.table("institutions").select("institution_id", "name", "country_code")
        expr = ranking(con.table("institution_year"), "institution_id", names, years)
    else:
        names = ibis.memtable(countries()).select("country_code", "name")
        expr = ranking(con.table("country_year"), "country_code", names, years)
    if top is not None:
        expr = expr.filter(expr["rank"] <= top)
    table = expr.to_pyarrow()
    con.disconnect()
    meta = {
        "level": level,
        "years": list(years) if years else "all",
        "edition": edition,
        "options": built["options"],
        "built": built["built"],
        "store": str(store.root),
        "store_version": manifest["version"],
        "sciencecities_version": manifest.get("sciencecities_version"),
        "ranking_rule": "Share rounded to 1e-9, then Count; ties share a rank",
    }
    return Ranking(table, meta)
