"""Charts of rankings and trends: the top entities as bars, and their ranks over the years (a bump chart)."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd

from sciencecities.present.charts._data import Rows, countries, frame, inline, labels, positive, tooltip

_BAR_STEP = 18
"""Pixels per bar."""


def top_bars(table: Rows, title: str, n: int = 20) -> alt.Chart:
    """Horizontal bars of Share for the entities ranked 1..n of a ranking (`rank`, `id`, `name`,
    `country_code`, `share`, `count`; ties share a rank, so there may be more than n bars), in rank order and
    coloured by country; the tooltip adds the ranking's other metrics.

    Examples
    --------
    >>> from sciencecities import demo_store, rank
    >>> chart = top_bars(rank(demo_store(), level="city").table, "Science cities", n=5)
    >>> chart.to_dict()["encoding"]["x"]["field"]
    'share'
    """
    positive(n, "n")
    df = frame(table, ("rank", "id", "name", "country_code", "share", "count"), "top bars")
    df = df[df["rank"] <= n].sort_values(["rank", "name", "id"])
    df["label"] = df["rank"].astype(str) + ". " + labels(df)
    df["country_code"] = countries(df)
    fields = ("rank", "name", "country_code", "count", "share", "adjusted_share", "change", "contribution")
    chart: alt.Chart = (
        alt.Chart(inline(df), title=title)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", title="Share"),
            y=alt.Y("label:N", sort=list(df["label"]), title=None),
            color=alt.Color("country_code:N", title="Country", legend=alt.Legend(symbolLimit=20)),
            tooltip=tooltip(df, fields),
        )
        .properties(width=480, height=alt.Step(_BAR_STEP))
    )
    return chart


def _leaders(df: pd.DataFrame, n: int) -> list[str]:
    """The ids of the n entities ranked best in the last year of the trend; entities absent that year come
    after, by their best rank, then by name."""
    last = df[df["year"] == df["year"].max()].set_index("id")["rank"]
    entities = df.groupby("id").agg(name=("name", "first"), best=("rank", "min")).reset_index()
    entities["last"] = entities["id"].map(last).fillna(math.inf)
    return list(entities.sort_values(["last", "best", "name", "id"])["id"].head(n))


def bump(trend: Rows, title: str, n: int = 10) -> alt.LayerChart:
    """Each entity's rank over the years (rank 1 at the top) as lines with points, named at its last year;
    `trend` has the columns of `sciencecities.trend` (`id`, `name`, `year`, `rank`, ...). Shows the n
    entities ranked best in the trend's last year.

    Examples
    --------
    >>> from sciencecities import demo_store, trend
    >>> chart = bump(trend(demo_store(), level="country", top=5).table, "Countries")
    >>> chart.to_dict()["layer"][0]["encoding"]["y"]["scale"]["reverse"]
    True
    """
    positive(n, "n")
    df = frame(trend, ("id", "name", "year", "rank"), "bump chart")
    chosen = _leaders(df, n)
    df = df[df["id"].isin(chosen)].sort_values(["id", "year"])
    entities = df.drop_duplicates("id")
    label_of = dict(zip(entities["id"], labels(entities), strict=True))
    df["label"] = df["id"].map(label_of)
    ends = df.drop_duplicates("id", keep="last")
    years = alt.Scale(domain=[int(df["year"].min()), int(df["year"].max())], nice=False)
    x = alt.X("year:Q", title="Year", scale=years, axis=alt.Axis(format="d", tickMinStep=1))
    y = alt.Y(
        "rank:Q",
        title="Rank",
        scale=alt.Scale(reverse=True, zero=False, domainMin=1, nice=False),
        axis=alt.Axis(format="d", tickMinStep=1),
    )
    color = alt.Color("label:N", legend=None, sort=[label_of[i] for i in chosen])
    fields = ("name", "year", "rank", "count", "share", "adjusted_share")
    lines = (
        alt.Chart(inline(df))
        .mark_line(point=True)
        .encode(x=x, y=y, color=color, detail="id:N", tooltip=tooltip(df, fields))
    )
    names = (
        alt.Chart(inline(ends)).mark_text(align="left", dx=6).encode(x=x, y=y, color=color, text="label:N")
    )
    return alt.LayerChart(layer=[lines, names], title=title).properties(
        width=560, height=max(200, 30 * len(chosen))
    )
