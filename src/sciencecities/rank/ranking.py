"""Rankings: Count, Share and Adjusted Share per entity over a window of years, with the previous window's rank
and the change in Adjusted Share; ordered by the rule of DESIGN §4."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute as pc
from ibis import _

LEVELS = ("institution", "city", "country", "group")
"""The levels that can be ranked; a city is a unit of the chosen boundary set (DESIGN §6)."""

COLUMNS = (
    "rank",
    "previous_rank",
    "id",
    "name",
    "country_code",
    "count",
    "share",
    "adjusted_share",
    "adjusted_share_previous",
    "change",
)
CITY_COLUMNS = (*COLUMNS, "contribution")
"""City rankings add the contribution to the location's Share: Share(city) / Share(its country) * 100."""
TREND_COLUMNS = ("id", "name", "country_code", "year", "rank", "count", "share", "adjusted_share")

Years = tuple[int, int]


@dataclass(frozen=True)
class Ranking:
    """A ranked table and the metadata that says how it was made (edition, options, years, store version)."""

    table: pa.Table
    meta: dict[str, Any]


def append_columns(table: pa.Table, extra: pa.Table, columns: tuple[str, ...]) -> pa.Table:
    """`table` with `columns` of `extra` appended at the end, matched by ``id`` (nulls where `extra` has no
    row; columns of those names already in `table` are replaced). Appending keeps every ranking's own
    columns a prefix of the result.

    >>> ranking = pa.table({"rank": [1, 2], "id": ["A", "B"]})
    >>> append_columns(ranking, pa.table({"id": ["B"], "x": [0.5]}), ("x",))["x"].to_pylist()
    [None, 0.5]
    """
    kept = table.drop_columns([c for c in columns if c in table.column_names])
    positions = pc.index_in(kept["id"], value_set=extra["id"])
    for column in columns:
        kept = kept.append_column(column, extra[column].take(positions))
    return kept


def apply_ranking_rule(table: ibis.Table, partition: str | None = None) -> ibis.Table:
    """Rank by Share rounded to 1e-9, then Count; ties in both share a rank (1, 2, 2, 4); name orders ties.

    With `partition` (e.g. 'year'), each partition is ranked on its own.
    """
    share_key = table.share.round(9)
    window = ibis.window(
        group_by=[partition] if partition else None, order_by=[share_key.desc(), table["count"].desc()]
    )
    rank = ibis.rank().over(window) + 1
    ordered = [partition, "rank", "name", "id"] if partition else ["rank", "name", "id"]
    return table.mutate(rank=rank.cast("int64")).order_by(ordered)


def adjusted(per_year: ibis.Table, totals: ibis.Table, subject: str, base_year: int) -> ibis.Table:
    """The subject's rows with `adjusted_share` = Share(E, y) * N(B) / N(y) (DESIGN §4), N from `totals`;
    null when the subject has no articles in the base year."""
    rows = per_year.filter(per_year.subject == subject)
    n = totals.filter(totals.subject == subject).select("year", n_year=_.weighted)
    n_base = n.filter(n.year == base_year).n_year.max()
    joined = rows.join(n, "year")
    return joined.mutate(adjusted_share=joined.share * n_base / joined.n_year)


def window(metrics: ibis.Table, key: str, years: Years | None) -> ibis.Table:
    """Sum Count, Share and Adjusted Share of a per-year table over `years` (inclusive; all when None).

    Counts add up across years because each work has one year; they never add up across levels.
    """
    if years is not None:
        metrics = metrics.filter(metrics.year.between(years[0], years[1]))
    return metrics.group_by(key).agg(
        count=_["count"].sum(), share=_.share.sum(), adjusted_share=_.adjusted_share.sum()
    )


def _named(totals: ibis.Table, key: str, names: ibis.Table) -> ibis.Table:
    named = totals.join(names, key, how="left")
    return named.select(
        id=totals[key],
        name=names.name.fill_null(totals[key]),
        country_code=totals[key] if key == "country_code" else names.country_code,
        count=totals["count"],
        share=totals.share,
        adjusted_share=totals.adjusted_share,
    )


def ranking(
    per_year: ibis.Table,
    key: str,
    names: ibis.Table,
    years: Years | None,
    previous: Years | None = None,
) -> ibis.Table:
    """Rank the window `years` of a per-year table (with adjusted_share); beside it the rank and Adjusted
    Share of the window `previous`, and the change `adjusted_share / adjusted_share_previous - 1`.

    `names` has columns `key`, `name` and `country_code`; an entity without a name shows its id.
    """
    current = apply_ranking_rule(_named(window(per_year, key, years), key, names))
    if previous is None:
        return current.select(
            "rank",
            previous_rank=ibis.null("int64"),
            id=_.id,
            name=_.name,
            country_code=_.country_code,
            count=_["count"],
            share=_.share,
            adjusted_share=_.adjusted_share,
            adjusted_share_previous=ibis.null("float64"),
            change=ibis.null("float64"),
        ).order_by(["rank", "name", "id"])
    before = apply_ranking_rule(_named(window(per_year, key, previous), key, names)).select(
        id_before=_.id, previous_rank=_["rank"], adjusted_share_previous=_.adjusted_share
    )
    joined = current.left_join(before, current.id == before.id_before)
    change = ibis.ifelse(
        joined.adjusted_share_previous > 0,
        joined.adjusted_share / joined.adjusted_share_previous - 1,
        ibis.null("float64"),
    )
    return joined.select(*COLUMNS[:-1], change=change).order_by(["rank", "name", "id"])


def contribution(ranked: ibis.Table, countries: ibis.Table, years: Years | None) -> ibis.Table:
    """Add `contribution` = Share(city) / Share(its country) * 100 over the same window (DESIGN §4);
    `countries` is the country_year rows of the same subject."""
    shares = window(countries.mutate(adjusted_share=countries.share), "country_code", years).select(
        country=_.country_code, country_share=_.share
    )
    joined = ranked.left_join(shares, ranked.country_code == shares.country)
    value = ibis.ifelse(
        joined.country_share > 0, joined.share / joined.country_share * 100, ibis.null("float64")
    )
    return joined.select(*ranked.columns, contribution=value).order_by(["rank", "name", "id"])


def trend(per_year: ibis.Table, key: str, names: ibis.Table, years: Years | None) -> ibis.Table:
    """One row per entity and year: rank within the year, Count, Share and Adjusted Share."""
    if years is not None:
        per_year = per_year.filter(per_year.year.between(years[0], years[1]))
    named = per_year.join(names, key, how="left")
    rows = named.select(
        id=per_year[key],
        name=names.name.fill_null(per_year[key]),
        country_code=per_year[key] if key == "country_code" else names.country_code,
        year=per_year.year,
        count=per_year["count"],
        share=per_year.share,
        adjusted_share=per_year.adjusted_share,
    )
    return apply_ranking_rule(rows, partition="year").select(*TREND_COLUMNS).order_by(["id", "year"])


def previous_window(years: Years | None, vs: Years | None = None) -> Years | None:
    """The window to compare with: `vs` when given, else the window of the same length just before."""
    if vs is not None or years is None:
        return vs
    length = years[1] - years[0] + 1
    return (years[0] - length, years[1] - length)
