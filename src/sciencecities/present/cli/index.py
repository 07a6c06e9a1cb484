"""`sciencecities index`: build a composite innovation-hub index from a framework (`build`) and show how a
unit's score decomposes (`explain`), with tables and charts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import pyarrow as pa
import typer

from sciencecities.index import framework as frameworks
from sciencecities.index.build import TABLES, IndexResult, build_index, explain, load_index, save
from sciencecities.present.cli.common import FormatOpt, StoreOpt, ensure_built, err, out, settings
from sciencecities.present.export import Format, rich_table, write, write_sections
from sciencecities.store import Store

index_app = typer.Typer(
    help="Composite innovation-hub indices: build one from a framework, explain a unit's score.",
    no_args_is_help=True,
)

_SHOWN = 25
"""Units printed in the terminal unless --top says otherwise."""


@index_app.command("build")
def build_cmd(
    framework: Annotated[
        str,
        typer.Argument(help=f"A framework .yaml file, or a shipped one: {', '.join(frameworks.shipped())}."),
    ],
    indicators: Annotated[
        Path | None,
        typer.Option(
            "--indicators",
            help="CSV or Parquet of the framework's `column` indicators, keyed by science-city id or name "
            "[default: the framework's indicators_file].",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Also write every table (and the charts) into this folder."),
    ] = None,
    fmt: FormatOpt = Format.csv,
    store: StoreOpt = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed of the Monte Carlo and Sobol samples.")
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", min=0, help="Monte Carlo samples [default: the framework's].")
    ] = None,
    sobol: Annotated[
        int | None,
        typer.Option("--sobol", min=0, help="Sobol base samples, a power of 2; 0: no sensitivity analysis."),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Units printed in the terminal.")] = _SHOWN,
) -> None:
    """Build the index: screen, impute, treat outliers, normalise, weight, aggregate and tier; then the Monte
    Carlo rank intervals and Sobol sensitivity. Kept in the store for `index explain`, the web API and the report."""
    fw = frameworks.load(framework)
    conf = settings(store=store, edition=fw.scope.edition, boundaries=fw.scope.boundaries)
    data = Store(conf.store)
    ensure_built(data, conf, "city")
    with err.status(f"building the index {fw.name}"):
        result = build_index(data, fw, indicators=indicators, seed=seed, samples=samples, sobol=sobol)
        kept = save(result, data)
    _print_build(result, top)
    err.print(f"kept in the store: {kept}")
    if out_dir is not None:
        written = write_index(result, out_dir, Format.csv if fmt is Format.table else fmt)
        err.print(f"wrote {len(TABLES)} tables ({fmt.value}) and {len(written)} charts to {out_dir}")


def write_index(result: IndexResult, folder: Path, fmt: Format) -> list[Path]:
    """Write the index's tables into `folder` in `fmt` (xlsx: one workbook `index.xlsx`; JSON: `index.json`)
    and its charts as SVG and self-contained HTML under `folder/charts`; returns the chart files."""
    from sciencecities.present.charts import save as save_chart
    from sciencecities.present.charts.index import decomposition, score_intervals

    folder.mkdir(parents=True, exist_ok=True)
    tables = {name: result.arrow(name) for name in TABLES}
    if fmt is Format.xlsx:
        write_sections(tables, fmt, folder / "index.xlsx", result.manifest)
    elif fmt is Format.json:
        write_sections(tables, fmt, folder / "index.json", result.manifest)
    else:
        write_sections(tables, fmt, folder, result.manifest)
    title = result.manifest.get("title") or result.manifest["framework"]
    charts = {
        "scores": score_intervals(result.scores, f"{title}: scores and rank intervals"),
        "decomposition": decomposition(result.tables["components"], result.scores, f"{title}: by dimension"),
    }
    written = []
    for name, chart in charts.items():
        for suffix in (".svg", ".html"):
            written.append(save_chart(chart, folder / "charts" / f"{name}{suffix}"))
    return written


def _print_build(result: IndexResult, top: int) -> None:
    """The ranks with tiers and intervals, the sensitivity indices, and what was left out."""
    manifest = result.manifest
    scores = result.scores
    dims = [c for c in scores.columns if c not in _SCORE_COLUMNS]
    view = scores.head(top).copy()
    low, high = manifest["uncertainty"]["interval"]
    view[f"rank {low:g}-{high:g}%"] = [
        "-" if pd.isna(lo) else (f"{int(lo)}" if lo == hi else f"{int(lo)}-{int(hi)}")
        for lo, hi in zip(view["rank_lo"], view["rank_hi"], strict=True)
    ]
    shown = view[
        [
            "rank",
            "name",
            "country_code",
            "score",
            "tier_label",
            "median_rank",
            f"rank {low:g}-{high:g}%",
            *dims,
        ]
    ]
    title = (
        f"{manifest.get('title') or manifest['framework']}: {manifest['units_scored']} science cities, "
        f"{manifest['steps']['normalisation']['method']} / {manifest['steps']['weighting']['method']} weights / "
        f"{manifest['steps']['aggregation']['method']}"
    )
    shown = shown.assign(median_rank=[f"{m:g}" for m in shown["median_rank"]])
    shown = shown.rename(columns={"tier_label": "tier", "median_rank": "median rank"})
    out.print(rich_table(pa.Table.from_pandas(shown, preserve_index=False), title))
    if len(scores) > top:
        err.print(f"showing ranks 1-{top} of {len(scores)}; use --top N, or --out DIR for every table")
    sensitivity = result.tables["sensitivity"]
    if len(sensitivity):
        out.print(
            rich_table(
                pa.Table.from_pandas(sensitivity, preserve_index=False),
                f"Sobol sensitivity of the mean absolute rank shift ({manifest['sensitivity']['evaluations']} runs)",
            )
        )
    unc = manifest["uncertainty"]
    err.print(
        f"uncertainty: {unc['samples']} Monte Carlo samples (seed {unc['seed']}) over weights x[1 ± "
        f"{unc['weights_spread']:g}], normalisations {', '.join(unc['normalisations'])}, aggregations "
        f"{', '.join(unc['aggregations'])}"
    )
    screened = manifest["screened_out"]
    if screened:
        err.print(
            "left out: " + ", ".join(f"{n} {kind}(s)" for kind, n in screened.items()) + " (table screening)"
        )
    info = manifest.get("indicators_file")
    if info and info.get("illustrative"):
        err.print(
            f"[yellow]note:[/] {Path(info['path']).name} is ILLUSTRATIVE (made up): the ranks show the method only"
        )


_SCORE_COLUMNS = (
    "rank",
    "id",
    "name",
    "country_code",
    "count",
    "score",
    "tier",
    "tier_label",
    "median_rank",
    "rank_lo",
    "rank_hi",
)


@index_app.command("explain")
def explain_cmd(
    unit: Annotated[str, typer.Argument(help="A science city of the index: id (e.g. us-csa-148) or name.")],
    name: Annotated[
        str | None, typer.Option("--framework", help="Which built index [default: the one built last].")
    ] = None,
    fmt: FormatOpt = Format.table,
    out_file: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file.")] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Also draw the decomposition (.svg, .png or .html).")
    ] = None,
    store: StoreOpt = None,
) -> None:
    """How a unit's score decomposes: each dimension, sub-dimension and indicator with its value, normalised
    score, weights and (arithmetic aggregation) the points it adds to the score."""
    conf = settings(store=store)
    result = load_index(Store(conf.store), name)
    found = explain(result, unit)
    row = found.unit
    meta = {"framework": result.manifest["framework"], "unit": _plain(row), "aggregation": found.aggregation}
    title = (
        f"{row['name']} ({row['id']}): rank {row['rank']} of {len(result.scores)}, score {row['score']:.2f}, "
        f"{row['tier_label'] or 'no tier'}"
    )
    if not pd.isna(row["rank_lo"]):
        title += f"; rank interval {int(row['rank_lo'])}-{int(row['rank_hi'])}, median {row['median_rank']:g}"
    parts = found.parts
    if fmt is Format.table:
        depth = {"index": 0, "dimension": 1, "subdimension": 2, "indicator": 3}
        view = parts.assign(
            node_name=["  " * depth[lv] + n for lv, n in zip(parts["level"], parts["node_name"], strict=True)]
        )
        view = view[
            ["node_name", "raw", "imputed", "treated", "score", "weight", "effective_weight", "contribution"]
        ]
        write(pa.Table.from_pandas(view, preserve_index=False), fmt, out_file, meta, out, title)
        if found.aggregation == "arithmetic":
            err.print(
                "contribution = weight in the index x score; the indicators' contributions add up to the score"
            )
        else:
            err.print(
                f"{found.aggregation} aggregation: scores combine by that mean at each level (no additive split)"
            )
    else:
        write(pa.Table.from_pandas(parts, preserve_index=False), fmt, out_file, meta, out, title)
    if chart is not None:
        from sciencecities.present.charts import save as save_chart
        from sciencecities.present.charts.index import unit_parts

        save_chart(unit_parts(parts, title), chart)
        err.print(f"wrote the chart to {chart}")


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row with numpy and pandas scalars as plain Python values (for JSON)."""
    plain = {}
    for key, value in row.items():
        if value is None or (not isinstance(value, str) and pd.isna(value)):
            plain[key] = None
        elif hasattr(value, "item"):
            plain[key] = value.item()
        else:
            plain[key] = value
    return plain
