"""`sciencecities chart KIND --out FILE`: one chart of the rankings as PNG, SVG or self-contained HTML."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from sciencecities.errors import InputError
from sciencecities.present.cli.common import (
    BoundariesOpt,
    EditionOpt,
    LevelOpt,
    StoreOpt,
    SubjectOpt,
    YearOpt,
    YearsOpt,
    ensure_built,
    err,
    parse_years,
    settings,
    span,
)
from sciencecities.store import Store

__all__ = ["chart_cmd"]


class Kind(str, Enum):
    """The charts the verb draws."""

    top = "top"
    bump = "bump"
    map = "map"
    subjects = "subjects"
    network = "network"


def chart_cmd(
    kind: Annotated[
        Kind, typer.Argument(help="top (bars), bump (ranks over years), map, subjects (--city), network.")
    ],
    out_file: Annotated[
        Path, typer.Option("--out", "-o", help="The picture: .png, .svg or .html (offline).")
    ],
    level: LevelOpt = "city",
    year: YearOpt = None,
    years: YearsOpt = None,
    subject: SubjectOpt = None,
    city: Annotated[str | None, typer.Option("--city", help="The science city of a subjects chart.")] = None,
    top: Annotated[int, typer.Option("--top", help="How many entities (bars, lines, pairs).")] = 20,
    boundaries: BoundariesOpt = None,
    store: StoreOpt = None,
    edition: EditionOpt = None,
) -> None:
    """Draw a chart of a built edition and save it; the format follows the file's suffix."""
    from sciencecities.present import charts  # imported here: Altair and vl-convert take a second to load
    from sciencecities.rank.collaboration import collaboration
    from sciencecities.rank.profile import city_profile
    from sciencecities.rank.queries import city_locations, rank, trend

    conf = settings(store=store, edition=edition, boundaries=boundaries)
    data = Store(conf.store)
    name = ensure_built(data, conf, "city")
    window = parse_years(year, years)
    where = f"{name}, {span(window)}" + (f", {subject}" if subject else "")
    common = {"edition": name, "boundaries": conf.boundaries}
    if kind is Kind.top:
        ranked = rank(data, level=level, years=window, subject=subject, **common)
        drawing = charts.top_bars(ranked.table, f"{level.capitalize()} ranking by Share, {where}", n=top)
    elif kind is Kind.bump:
        rows = trend(data, level=level, years=window, subject=subject, top=top, **common)
        drawing = charts.bump(rows.table, f"Rank by year, {where}", n=top)
    elif kind is Kind.map:
        ranked = rank(data, level="city", years=window, subject=subject, **common)
        located = ranked.table.join(city_locations(data, **common), "id", join_type="left outer")
        drawing = charts.world_map(located.sort_by("rank"), f"Science cities by Share, {where}", n=top)
    elif kind is Kind.subjects:
        if city is None:
            raise InputError("a subjects chart is a city's", "add --city NAME, e.g. --city Boston")
        profile = city_profile(data, city, years=window, **common)
        rows = profile.subjects.select(["name", "share", "world_fraction", "specialisation"]).rename_columns(
            ["subject", "share", "world_share", "specialisation"]
        )
        drawing = charts.subject_profile(rows, f"{profile.city.name}: specialisation by subject, {name}")
    else:
        pairs = collaboration(data, level=level, years=window, subject=subject, top=top, **common)
        nodes = rank(data, level=level, years=window, subject=subject, **common).table
        drawing = charts.network(pairs.table, nodes, f"Collaboration, {level} level, {where}")
    saved = charts.save(drawing, out_file)
    err.print(f"wrote {saved}")
