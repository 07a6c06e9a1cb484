"""Charts of a composite index: scores beside each unit's Monte Carlo rank interval, and how scores decompose
into dimensions (or one unit's into indicators)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from sciencecities.present.charts._data import frame, inline, labels, positive

_STEP = 16
"""Pixels per unit."""


def score_intervals(scores: pd.DataFrame, title: str, n: int = 30) -> alt.HConcatChart:
    """The units ranked 1..n of an index (`scores` of `build_index`): bars of their score, and beside them the
    interval of their rank over the Monte Carlo samples (rule from rank_lo to rank_hi, a dot at the median
    rank, a tick at the rank of the nominal choices), coloured by tier.

    Examples
    --------
    >>> from sciencecities import demo_store
    >>> from sciencecities.index import build_index
    >>> scores = build_index(demo_store(), "innovation-hubs", samples=20, sobol=0).scores
    >>> score_intervals(scores, "Innovation hubs", n=5).to_dict()["hconcat"][0]["mark"]["type"]
    'bar'
    """
    positive(n, "n")
    df = frame(
        scores,
        ("rank", "id", "name", "score", "tier_label", "median_rank", "rank_lo", "rank_hi"),
        "index chart",
    )
    df = df[df["rank"] <= n].sort_values(["rank", "name", "id"]).copy()
    df["label"] = df["rank"].astype(str) + ". " + labels(df)
    df["tier_label"] = df["tier_label"].fillna("no tier")
    order = list(df["label"])
    y = alt.Y("label:N", sort=order, title=None)
    colour = alt.Color("tier_label:N", title="Tier", sort=list(dict.fromkeys(df["tier_label"])))
    tips = [
        alt.Tooltip("name:N", title="Name"),
        alt.Tooltip("rank:Q", title="Rank"),
        alt.Tooltip("score:Q", title="Score", format=",.2f"),
        alt.Tooltip("tier_label:N", title="Tier"),
        alt.Tooltip("median_rank:Q", title="Median rank"),
        alt.Tooltip("rank_lo:Q", title="Rank, low"),
        alt.Tooltip("rank_hi:Q", title="Rank, high"),
    ]
    base = alt.Chart(inline(df))
    bars = base.mark_bar().encode(x=alt.X("score:Q", title="Score"), y=y, color=colour, tooltip=tips)
    top = (
        int(max(df["rank_hi"].max(), df["rank"].max()))
        if df["rank_hi"].notna().any()
        else int(df["rank"].max())
    )
    x = alt.X(
        "rank_lo:Q", title="Rank interval (Monte Carlo) and median", scale=alt.Scale(domain=[1, max(top, 2)])
    )
    rule = base.mark_rule(strokeWidth=2).encode(x=x, x2="rank_hi:Q", y=y, color=colour, tooltip=tips)
    dots = base.mark_point(filled=True, size=40).encode(x="median_rank:Q", y=y, color=colour, tooltip=tips)
    ticks = base.mark_tick(color="black", thickness=1).encode(x="rank:Q", y=y, tooltip=tips)
    intervals = alt.layer(rule, dots, ticks).properties(width=300, height=alt.Step(_STEP))
    chart: alt.HConcatChart = alt.hconcat(
        bars.properties(width=260, height=alt.Step(_STEP)), intervals, title=title
    ).resolve_scale(y="shared")
    return chart


def decomposition(components: pd.DataFrame, scores: pd.DataFrame, title: str, n: int = 20) -> alt.Chart:
    """Each of the units ranked 1..n split into its dimensions: stacked bars of the points each dimension adds
    to the score (weight in the index x dimension score) when the index is an arithmetic mean; otherwise
    (`contribution` is null) the dimension scores side by side."""
    positive(n, "n")
    df = frame(components, ("id", "node", "node_name", "level", "score", "contribution"), "decomposition")
    ranked = frame(scores, ("rank", "id", "name"), "decomposition")
    ranked = ranked[ranked["rank"] <= n].sort_values(["rank", "name", "id"]).copy()
    ranked["label"] = ranked["rank"].astype(str) + ". " + labels(ranked)
    parts = df[(df["level"] == "dimension") & df["id"].isin(ranked["id"])].merge(
        ranked[["id", "label"]], on="id"
    )
    y = alt.Y("label:N", sort=list(ranked["label"]), title=None)
    colour = alt.Color("node_name:N", title="Dimension")
    tips = [
        alt.Tooltip("label:N", title="Unit"),
        alt.Tooltip("node_name:N", title="Dimension"),
        alt.Tooltip("score:Q", title="Dimension score", format=",.2f"),
    ]
    if parts["contribution"].notna().all():
        tips.append(alt.Tooltip("contribution:Q", title="Points in the index", format=",.2f"))
        x = alt.X("contribution:Q", title="Points added to the index score", stack="zero")
        chart: alt.Chart = (
            alt.Chart(inline(parts), title=title).mark_bar().encode(x=x, y=y, color=colour, tooltip=tips)
        )
    else:
        chart = (
            alt.Chart(inline(parts), title=title)
            .mark_bar()
            .encode(
                x=alt.X("score:Q", title="Dimension score"),
                y=y,
                yOffset="node_name:N",
                color=colour,
                tooltip=tips,
            )
        )
    return chart.properties(width=420, height=alt.Step(_STEP))


def unit_parts(parts: pd.DataFrame, title: str) -> alt.Chart:
    """One unit's indicators (rows of `explain(...).parts`): bars of their contribution to the score when the
    index is an arithmetic mean, else of their normalised scores, coloured by dimension; imputed values say so."""
    df = frame(parts, ("node", "node_name", "level", "parent", "score", "contribution"), "unit decomposition")
    parent = dict(zip(df["node"], df["parent"], strict=True))
    name = dict(zip(df["node"], df["node_name"], strict=True))

    def dimension(node: str) -> str:
        while parent.get(node) not in (None, "index") and not pd.isna(parent.get(node)):
            node = parent[node]
        return name.get(node, node)

    rows = df[df["level"] == "indicator"].copy()
    rows["dimension"] = [dimension(node) for node in rows["node"]]
    if "imputed" in rows.columns:
        rows["node_name"] = [
            f"{n} (imputed)" if pd.notna(flag) and bool(flag) else n
            for n, flag in zip(rows["node_name"], rows["imputed"], strict=True)
        ]
    field = "contribution" if rows["contribution"].notna().all() else "score"
    label = "Points added to the index score" if field == "contribution" else "Normalised score"
    chart: alt.Chart = (
        alt.Chart(inline(rows), title=title)
        .mark_bar()
        .encode(
            x=alt.X(f"{field}:Q", title=label),
            y=alt.Y("node_name:N", sort=list(rows["node_name"]), title=None),
            color=alt.Color("dimension:N", title="Dimension"),
            tooltip=[
                alt.Tooltip("node_name:N", title="Indicator"),
                alt.Tooltip("raw:Q", title="Value", format=",.3f"),
                alt.Tooltip("score:Q", title="Normalised", format=",.2f"),
                alt.Tooltip("effective_weight:Q", title="Weight in the index", format=".3f"),
            ],
        )
        .properties(width=420, height=alt.Step(_STEP))
    )
    return chart
