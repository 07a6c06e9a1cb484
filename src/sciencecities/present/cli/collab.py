"""`sciencecities collab`: pairs of institutions, science cities or countries ranked by collaboration score,
as a table, a CSV edge list or a GraphML network."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
import typer

from sciencecities.present.cli.common import (
    BoundariesOpt,
    EditionOpt,
    FormatOpt,
    OutOpt,
    StoreOpt,
    SubjectOpt,
    YearOpt,
    YearsOpt,
    ensure_built,
    err,
    out,
    parse_years,
    settings,
    span,
)
from sciencecities.present.export import Format, write
from sciencecities.rank.collaboration import LEVELS, check_level, collaboration
from sciencecities.rank.queries import rank
from sciencecities.store import Store

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["collab_cmd", "network"]

_SHOWN = 25
"""Ranks printed in the terminal when --top is not given."""


def collab_cmd(
    level: Annotated[
        str, typer.Option("--level", help=f"Pairs of what: {', '.join(LEVELS)} [default: city].")
    ] = "city",
    year: YearOpt = None,
    years: YearsOpt = None,
    subject: SubjectOpt = None,
    boundaries: BoundariesOpt = None,
    entity: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Only the partners of this entity: an id (e.g. us-csa-148, US, I136199984) or a name.",
        ),
    ] = None,
    top: Annotated[int | None, typer.Option("--top", help="Only ranks 1..N (ties at N included).")] = None,
    fmt: FormatOpt = Format.table,
    out_file: OutOpt = None,
    graphml: Annotated[
        Path | None,
        typer.Option(
            "--graphml",
            help="Also write the network as GraphML: nodes with name, country, Count and Share; edges with "
            "articles and score.",
        ),
    ] = None,
    store: StoreOpt = None,
    edition: EditionOpt = None,
) -> None:
    """Pairs that co-author articles, ranked by collaboration score (the sum of both sides' Shares of their
    joint articles), with the articles; `--format csv --out FILE` writes the edge list."""
    check_level(level)
    conf = settings(store=store, edition=edition, boundaries=boundaries)
    window = parse_years(year, years)
    data = Store(conf.store)
    name = ensure_built(data, conf, level)
    result = collaboration(
        data,
        level=level,
        years=window,
        subject=subject,
        edition=name,
        boundaries=conf.boundaries,
        top=top,
        entity=entity,
    )
    meta = result.meta
    title = f"{level} collaboration, {name}, {meta['subject']}, {span(window)}"
    if meta["entity"]:
        title += f", partners of {meta['entity']['name']} ({meta['entity']['id']})"
    if meta["boundaries"]:
        title += f", boundaries {meta['boundaries']}"
    table = (
        _terminal_view(result.table, top, meta["entity"] is not None) if fmt is Format.table else result.table
    )
    write(table, fmt, out_file, meta, out, title)
    if result.table.num_rows == 0:
        err.print(
            f"[yellow]no pairs:[/] {name} has no co-authored articles of {meta['subject']} in {span(window)}"
        )
    elif fmt is Format.table and top is None and table.num_rows < result.table.num_rows:
        err.print(f"showing ranks 1-{_SHOWN} of {result.table.num_rows} pairs; use --top N, or --format csv")
    if out_file is not None:
        err.print(f"wrote {result.table.num_rows} pairs to {out_file}")
    if graphml is not None:
        import networkx as nx

        entities = rank(
            data,
            level=level,
            years=window,
            subject=meta["subject"],
            edition=name,
            boundaries=conf.boundaries,
        )
        graph = network(result.table, entities.table, meta)
        nx.write_graphml(graph, graphml)
        size = f"{graph.number_of_nodes()} nodes, {graph.number_of_edges()} edges"
        err.print(f"wrote the network ({size}) to {graphml}")


def _terminal_view(table: pa.Table, top: int | None, partners: bool) -> pa.Table:
    """The pairs as shown in the terminal: names without ids (the partners' side only when the entity is in
    the title), ranks 1-25 unless --top is given."""
    if top is None:
        table = table.filter(pc.less_equal(table["rank"], _SHOWN))
    hidden = ["id_a", "name_a", "country_code_a", "id_b"] if partners else ["id_a", "id_b"]
    return table.drop_columns(hidden)


def network(pairs: pa.Table, entities: pa.Table, meta: dict[str, Any]) -> nx.Graph:
    """The collaboration network of a `collaboration` table: a node per entity of its pairs, with name,
    country_code, Count and Share from `entities` (a `rank` table of the same level, window and subject), and
    an edge per pair with articles and score; the graph carries the method (edition, level, subject, years).

    GraphML has no null: a missing country_code is written as ''.
    """
    import networkx as nx

    ranked = {row["id"]: row for row in entities.to_pylist()}
    years = meta["years"]
    graph = nx.Graph(
        edition=meta["edition"],
        level=meta["level"],
        subject=meta["subject"],
        years=years if isinstance(years, str) else f"{years[0]}-{years[1]}",
        boundaries=meta["boundaries"] or "",
    )
    for row in pairs.to_pylist():
        for side in ("a", "b"):
            node = row[f"id_{side}"]
            if node not in graph:
                graph.add_node(
                    node,
                    name=row[f"name_{side}"],
                    country_code=row[f"country_code_{side}"] or "",
                    count=ranked[node]["count"],
                    share=ranked[node]["share"],
                )
        graph.add_edge(row["id_a"], row["id_b"], articles=row["articles"], score=row["score"])
    return graph
