"""The world map of science cities: a circle per city, its area proportional to Share, over country outlines
shipped with the project (`data/geo/world/`, Natural Earth via world-atlas 2.0.2)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import altair as alt
import pandas as pd

from sciencecities.errors import InputError
from sciencecities.present.charts._data import Rows, countries, frame, inline, positive, tooltip

OUTLINES = "countries-110m.json"
"""The TopoJSON of country outlines in `data/geo/world/` (see its PROVENANCE.md)."""

NO_CHANGE = "#9a9a9a"
"""The colour of cities without a change (no previous window) on a map coloured by change."""

LARGEST_CIRCLE = 1600
"""Area in square pixels of the circle of the largest Share on the map."""


@cache
def _topology() -> dict[str, Any]:
    path = resources.files("sciencecities").joinpath("data/geo/world", OUTLINES)
    topology: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return topology


def world_outlines() -> alt.Chart:
    """Country outlines in light grey, the shipped TopoJSON inlined into the spec (no URL to fetch)."""
    data = alt.InlineData(values=_topology(), format=alt.TopoDataFormat(type="topojson", feature="countries"))
    outlines: alt.Chart = alt.Chart(data).mark_geoshape(fill="#e6e6e6", stroke="white", strokeWidth=0.5)
    return outlines


def world_map(cities: Rows, title: str, n: int | None = None) -> alt.LayerChart:
    """Science cities on the world (Equal Earth projection) as circles whose area is proportional to Share,
    coloured by country, or by `change` (red for a fall, blue for a rise, grey for none known) when that
    column has values.

    `cities` has `id`, `name`, `country_code`, `share`, `latitude` and `longitude`; `n` keeps the n of
    largest Share. Larger circles are drawn first, so small ones stay visible (cities without a change go
    below the others). Cities without coordinates cannot be placed: the subtitle says how many were left out.
    """
    df = frame(cities, ("id", "name", "country_code", "share", "latitude", "longitude"), "world map")
    if n is not None:
        positive(n, "n")
        df = df.sort_values(["share", "name", "id"], ascending=[False, True, True]).head(n)
    placed = df["latitude"].notna() & df["longitude"].notna()
    if not placed.any():
        raise InputError(
            f"none of the {len(df)} cities has coordinates to place it on the world map",
            "give each city a latitude and longitude, e.g. the mean of its institutions' places",
        )
    unplaced = int((~placed).sum())
    df = df[placed].sort_values("share", ascending=False)
    df["country_code"] = countries(df)
    largest = float(df["share"].max()) or 1.0
    size = alt.Size("share:Q", title="Share", scale=alt.Scale(domain=[0, largest], range=[0, LARGEST_CIRCLE]))
    fields = ("name", "country_code", "rank", "count", "share", "adjusted_share", "change")

    def circles(rows: pd.DataFrame, color: Any) -> alt.Chart:
        chart: alt.Chart = (
            alt.Chart(inline(rows))
            .mark_circle(opacity=0.75, stroke="white", strokeWidth=0.5)
            .encode(
                longitude="longitude:Q",
                latitude="latitude:Q",
                size=size,
                color=color,
                tooltip=tooltip(rows, fields),
            )
        )
        return chart

    notes = [f"{unplaced} of {unplaced + len(df)} without coordinates not shown"] if unplaced else []
    if "change" in df.columns and df["change"].notna().any():
        # Vega-Lite drops nulls on a continuous colour scale: cities without a change get a layer of their own.
        known = df["change"].notna()
        widest = float(df["change"].abs().max()) or 1.0  # symmetric, so equal changes get equal colours
        change = alt.Scale(scheme="redblue", domain=[-widest, widest])
        layers = [circles(df[known], alt.Color("change:Q", title="Change in Adjusted Share", scale=change))]
        if not known.all():
            layers.insert(0, circles(df[~known], alt.value(NO_CHANGE)))
            notes.append("grey: no change known")
    else:
        layers = [
            circles(df, alt.Color("country_code:N", title="Country", legend=alt.Legend(symbolLimit=20)))
        ]
    subtitle = "; ".join(notes) or alt.Undefined
    return (
        alt.LayerChart(layer=[world_outlines(), *layers], title=alt.TitleParams(title, subtitle=subtitle))
        .project("equalEarth")
        .properties(width=800, height=420)
    )
