"""The collaboration network: entities as circles sized by Share, linked by lines as wide as their score,
placed by a seeded spring layout so the same tables always give the same picture."""

from __future__ import annotations

import altair as alt
import networkx as nx
import pandas as pd

from sciencecities.errors import InputError
from sciencecities.present.charts._data import Rows, countries, frame, inline, labels, positive, tooltip

SEED = 6
"""Seed of the spring layout: fixed, so the same tables give the same picture on every run."""

LARGEST_NODE = 1200
"""Area in square pixels of the circle of the largest Share."""


def _layout(edges: pd.DataFrame, ids: list[str]) -> dict[str, tuple[float, float]]:
    """Positions in [-1, 1]² for `ids` from a Fruchterman-Reingold spring layout where pairs with a higher
    score pull harder; nodes and pairs are sorted first so that input order cannot move anything."""
    graph = nx.Graph()
    graph.add_nodes_from(sorted(ids))
    strongest = float(edges["score"].max()) or 1.0
    weighted = sorted(zip(edges["id_a"], edges["id_b"], edges["score"] / strongest, strict=True))
    graph.add_weighted_edges_from(weighted)
    positions = nx.spring_layout(graph, seed=SEED, weight="weight")
    return {node: (float(xy[0]), float(xy[1])) for node, xy in positions.items()}


def network(pairs: Rows, nodes: Rows, title: str, labelled: int = 15) -> alt.LayerChart:
    """A node-link diagram of collaboration: `pairs` (`id_a`, `name_a`, `id_b`, `name_b`, `articles`,
    `score`) are lines as wide as their score, `nodes` (`id`, `name`, `country_code`, `share`) are circles
    with area proportional to Share, coloured by country; the `labelled` nodes of largest Share are named.

    Every id of `pairs` needs a row in `nodes`; nodes without pairs are drawn too, apart from the rest.
    """
    positive(labelled, "labelled")
    edges = frame(pairs, ("id_a", "name_a", "id_b", "name_b", "articles", "score"), "collaboration network")
    points = frame(nodes, ("id", "name", "country_code", "share"), "collaboration network")
    repeated = sorted(points.loc[points["id"].duplicated(), "id"].astype(str).unique())
    if repeated:
        raise InputError(
            f"the nodes of the collaboration network repeat the ids {', '.join(repeated[:5])}",
            "pass one node row per id",
        )
    unknown = sorted((set(edges["id_a"]) | set(edges["id_b"])) - set(points["id"]))
    if unknown:
        raise InputError(
            f"{len(unknown)} ids of the pairs have no node: {', '.join(map(str, unknown[:5]))}",
            "pass a node row (id, name, country_code, share) for every id in the pairs",
        )
    where = _layout(edges, list(points["id"]))
    points["x"] = points["id"].map(lambda i: where[i][0])
    points["y"] = points["id"].map(lambda i: where[i][1])
    points["label"] = labels(points)
    points["country_code"] = countries(points)
    points = points.sort_values(["share", "id"], ascending=[False, True])
    for end in ("a", "b"):
        edges[f"x_{end}"] = edges[f"id_{end}"].map(lambda i: where[i][0])
        edges[f"y_{end}"] = edges[f"id_{end}"].map(lambda i: where[i][1])
    edges = edges.sort_values("score")

    square = alt.Scale(domain=[-1.15, 1.15], nice=False, zero=False)  # the layout's [-1, 1] and a margin
    x = alt.X("x:Q", axis=None, scale=square)
    y = alt.Y("y:Q", axis=None, scale=square)
    links = (
        alt.Chart(inline(edges))
        .mark_rule(color="#7f7f7f", opacity=0.5)
        .encode(
            x=alt.X("x_a:Q", axis=None, scale=square),
            y=alt.Y("y_a:Q", axis=None, scale=square),
            x2="x_b:Q",
            y2="y_b:Q",
            strokeWidth=alt.StrokeWidth("score:Q", title="Score", scale=alt.Scale(range=[0.5, 6])),
            tooltip=[
                alt.Tooltip("name_a:N", title="Between"),
                alt.Tooltip("name_b:N", title="and"),
                alt.Tooltip("articles:Q", title="Articles", format=",d"),
                alt.Tooltip("score:Q", title="Score", format=",.2f"),
            ],
        )
    )
    largest = float(points["share"].max()) or 1.0
    circles = (
        alt.Chart(inline(points))
        .mark_circle(opacity=0.9, stroke="white", strokeWidth=0.5)
        .encode(
            x=x,
            y=y,
            size=alt.Size(
                "share:Q", title="Share", scale=alt.Scale(domain=[0, largest], range=[0, LARGEST_NODE])
            ),
            color=alt.Color("country_code:N", title="Country", legend=alt.Legend(symbolLimit=20)),
            tooltip=tooltip(points, ("name", "country_code", "count", "share", "adjusted_share")),
        )
    )
    names = (
        alt.Chart(inline(points.head(labelled)))
        .mark_text(fontSize=10, dy=-10)
        .encode(x=x, y=y, text="label:N")
    )
    return alt.LayerChart(layer=[links, circles, names], title=title).properties(
        width=640, height=640, view=alt.ViewBackground(stroke=None)
    )
