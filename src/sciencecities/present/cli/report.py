"""`sciencecities report --out DIR`: the static offline report of a year."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sciencecities.present.cli.common import (
    BoundariesOpt,
    EditionOpt,
    StoreOpt,
    ensure_built,
    err,
    out,
    settings,
)
from sciencecities.store import Store

__all__ = ["report_cmd"]


def report_cmd(
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder to write the report into (index.html).")
    ],
    year: Annotated[
        int | None, typer.Option("--year", help="The year to report [default: the latest].")
    ] = None,
    top: Annotated[int, typer.Option("--top", help="Rows of the ranking tables and charts.")] = 20,
    intervals: Annotated[
        bool,
        typer.Option(
            "--intervals/--no-intervals", help="95% stability intervals in the city and country tables."
        ),
    ] = True,
    resamples: Annotated[
        int, typer.Option("--resamples", help="Bootstrap resamples for the intervals.")
    ] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the resamples.")] = 0,
    boundaries: BoundariesOpt = None,
    store: StoreOpt = None,
    edition: EditionOpt = None,
) -> None:
    """Write a static HTML report (highlights, tables, charts, method and coverage) that works offline."""
    from sciencecities.present.report import build_report  # imported here: charts load Altair

    conf = settings(store=store, edition=edition, boundaries=boundaries)
    data = Store(conf.store)
    name = ensure_built(data, conf, "city")
    with err.status(f"writing the report of {name} into {out_dir}"):
        report = build_report(
            data,
            out_dir,
            year=year,
            edition=name,
            boundaries=conf.boundaries,
            top=top,
            resamples=resamples if intervals else None,
            seed=seed,
        )
    out.print(f"report of {report.year}: {report.index} ({len(report.files)} files)")
