"""Build a composite index from a framework: gather the indicators, run the Handbook's steps, analyse its
robustness, and keep every table with a manifest of each choice, seed and version; `explain` decomposes a
unit's score.

A built index lives in the store at ``ROOT/index/<framework name>/`` (Parquet tables and manifest.json),
beside the store's versions, so that `index explain`, the web API and the report find the latest one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sciencecities import __version__
from sciencecities.errors import InputError, StoreError
from sciencecities.index import analysis
from sciencecities.index import framework as frameworks
from sciencecities.index.framework import Framework
from sciencecities.index.indicators import bibliometric, read_user_file, units_in_scope
from sciencecities.index.steps import (
    Group,
    effective_weights,
    flagged,
    impute,
    ranks,
    screen,
    tiers,
    treat,
)
from sciencecities.rank.names import Candidate, find
from sciencecities.store import Store, now_iso

TABLES = (
    "scores",
    "components",
    "weights",
    "data",
    "screening",
    "treatment",
    "correlations",
    "alpha",
    "sensitivity",
    "sensitivity_units",
    "samples",
)
"""The tables of a built index, in the order they are written."""

_FOLDER = "index"


@dataclass(frozen=True)
class IndexResult:
    """A built index: its tables (`TABLES`; `scores` has one row per unit ordered by rank) and its manifest
    (the framework, every choice, seeds, sample sizes, inputs and versions)."""

    tables: dict[str, pd.DataFrame]
    manifest: dict[str, Any]

    @property
    def scores(self) -> pd.DataFrame:
        """One row per unit: rank, id, name, country_code, count, score, tier, the rank interval and the
        dimension scores, ordered by rank."""
        return self.tables["scores"]

    def arrow(self, name: str) -> pa.Table:
        """A table as Arrow (for export)."""
        return pa.Table.from_pandas(self.tables[name], preserve_index=False)


def build_index(
    store: Store,
    framework: Framework | str | Path,
    *,
    indicators: Path | None = None,
    seed: int | None = None,
    samples: int | None = None,
    sobol: int | None = None,
) -> IndexResult:
    """Build the index of `framework` (an object, a shipped name or a YAML path) on a built edition of `store`,
    with the user's `indicators` file (default: the framework's own `indicators_file`). `seed`, `samples` and
    `sobol` override the framework's uncertainty settings.

    Examples
    --------
    >>> from sciencecities import demo_store
    >>> result = build_index(demo_store(), "innovation-hubs", samples=20, sobol=0)
    >>> list(result.scores.columns[:4])
    ['rank', 'id', 'name', 'country_code']
    """
    fw = framework if isinstance(framework, Framework) else frameworks.load(framework)
    settings = fw.steps.uncertainty.model_copy(
        update={k: v for k, v in {"seed": seed, "samples": samples, "sobol": sobol}.items() if v is not None}
    )
    fw = fw.model_copy(update={"steps": fw.steps.model_copy(update={"uncertainty": settings})})
    scope = units_in_scope(store, fw)
    units = scope.units
    raw = bibliometric(store, fw, units)
    file_info: dict[str, Any] | None = None
    unmatched = pd.DataFrame(columns=["line", "key", "reason"])
    columns = fw.columns()
    if columns:
        path = indicators if indicators is not None else fw.default_indicators_file()
        if path is None:
            raise InputError(
                f"framework {fw.name} reads the column(s) {', '.join(columns)} of an indicators file",
                "give the file with --indicators FILE (CSV or Parquet keyed by science-city id or name)",
            )
        user = read_user_file(path, columns, scope.known)
        unmatched = user.unmatched
        values = user.values.reindex(units.index)
        for indicator in fw.indicators():
            if indicator.source.column is not None:
                raw[indicator.id] = values[indicator.source.column]
        file_info = {
            "path": str(Path(path).resolve()),
            "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
            "rows": user.rows,
            "unmatched": len(unmatched),
            "illustrative": "ILLUSTRATIVE" in Path(path).name.upper(),
        }
    order = [i.id for i in fw.indicators()]
    raw = raw[order]
    steps = fw.steps
    dropped = [pd.DataFrame({"kind": "file row", "id": unmatched["key"], "reason": unmatched["reason"]})]
    if steps.screening.enabled:
        screened = screen(raw, steps.screening.min_indicator_coverage, steps.screening.min_unit_coverage)
        data, gone = screened.data, screened.dropped
        dropped.append(gone)
    else:
        data = raw
    groups, pruned = _groups(fw, list(data.columns))
    dropped.append(pruned)
    group_column = steps.imputation.group
    if steps.imputation.method == "group_mean" and group_column not in units.columns:
        raise InputError(
            f"group_mean imputation groups by {group_column!r}, which the units do not have",
            f"use one of {', '.join(units.columns)}",
        )
    imputed, mask, gone = impute(data, steps.imputation.method, units[group_column].reindex(data.index))
    dropped.append(gone)
    if imputed.empty or imputed.shape[1] == 0:
        raise InputError(
            f"no unit or no indicator is left after screening and imputation ({steps.imputation.method})",
            "lower the screening thresholds, choose an imputation, or supply more data",
        )
    treated, treatment = _treat(fw, imputed)
    model = analysis.Model(
        imputed=imputed,
        treated=treated,
        groups=groups,
        directions={i.id: i.direction for i in fw.indicators()},
        goalposts={i.id: i.goalposts for i in fw.indicators()},
        scale=steps.normalisation.range,
        zscore=steps.normalisation.zscore,
        weighting=steps.weighting.method,
    )
    nominal = (steps.normalisation.method, steps.aggregation.method)
    model.check((nominal[0],), (nominal[1],), "steps")
    scored = model.score(*nominal)
    normalised = model.normalised(nominal[0])
    options = (
        settings.normalisations or (nominal[0],),
        settings.aggregations or (nominal[1],),
    )
    model.check(*options, "steps.uncertainty")
    uncertain = analysis.monte_carlo(
        model,
        nominal,
        *options,
        samples=settings.samples,
        spread=settings.weights,
        seed=settings.seed,
        interval=settings.interval,
    )
    sensitivity = analysis.sobol(
        model, nominal, *options, base=settings.sobol, spread=settings.weights, seed=settings.seed
    )
    members = _members(fw)
    dims = {d.id: members[d.id] for d in fw.dimensions if d.id in scored.values}
    tables = {
        "scores": _scores(fw, units.loc[imputed.index], scored, uncertain.summary, dims),
        "components": _components(
            fw, units, raw, imputed, mask, treated, normalised, scored, groups, nominal[1]
        ),
        "weights": _weights(groups, scored),
        "data": pd.concat(
            [
                units.loc[raw.index, ["id", "name", "country_code"]].reset_index(drop=True),
                raw.reset_index(drop=True),
            ],
            axis=1,
        ),
        "screening": pd.concat([d for d in dropped if not d.empty] or [dropped[0]], ignore_index=True),
        "treatment": treatment,
        "correlations": analysis.correlations(normalised, scored, dims),
        "alpha": analysis.alphas(normalised, groups, members),
        "sensitivity": sensitivity.summary,
        "sensitivity_units": sensitivity.units,
        "samples": uncertain.choices,
    }
    manifest = _manifest(store, fw, file_info, tables, uncertain, sensitivity, options, len(units))
    return IndexResult(tables, manifest)


def _members(fw: Framework) -> dict[str, list[str]]:
    """The indicators under each dimension and sub-dimension."""
    found: dict[str, list[str]] = {}
    for d in fw.dimensions:
        found[d.id] = []
        for s in d.subdimensions:
            found[s.id] = [i.id for i in s.indicators]
            found[d.id].extend(found[s.id])
    return found


def _groups(fw: Framework, kept: list[str]) -> tuple[tuple[Group, ...], pd.DataFrame]:
    """The aggregation tree bottom-up (sub-dimensions, dimensions, then `index`) over the indicators kept; a
    group left without children is dropped and reported."""
    groups, gone, dimensions = [], [], []
    for d in fw.dimensions:
        subs = []
        for s in d.subdimensions:
            children = [i for i in s.indicators if i.id in kept]
            if not children:
                gone.append(("subdimension", s.id, "no indicator left after screening"))
                continue
            groups.append(
                Group(s.id, "subdimension", tuple(i.id for i in children), tuple(i.weight for i in children))
            )
            subs.append(s)
        if not subs:
            gone.append(("dimension", d.id, "no sub-dimension left after screening"))
            continue
        groups.append(Group(d.id, "dimension", tuple(s.id for s in subs), tuple(s.weight for s in subs)))
        dimensions.append(d)
    if not dimensions:
        raise InputError("screening left no indicator", "lower steps.screening.min_indicator_coverage")
    groups.append(
        Group("index", "index", tuple(d.id for d in dimensions), tuple(d.weight for d in dimensions))
    )
    return tuple(groups), pd.DataFrame(gone, columns=["kind", "id", "reason"])


def _treat(fw: Framework, imputed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each indicator after its own transformation, or the outlier step's (log only when flagged)."""
    rule = fw.steps.outliers
    treated = {}
    rows = []
    for indicator in fw.indicators():
        if indicator.id not in imputed.columns:
            continue
        values = imputed[indicator.id]
        how = indicator.transform or rule.method
        if indicator.transform is None and how == "log" and not flagged(values, rule.skew, rule.kurtosis):
            how = "none"
        done = treat(values, how, rule.skew, rule.kurtosis, rule.max_winsorised)
        treated[indicator.id] = done.values
        rows.append(
            (
                indicator.id,
                indicator.transform or f"outliers: {rule.method}",
                done.action,
                done.winsorised,
                done.skew_before,
                done.kurtosis_before,
                done.skew_after,
                done.kurtosis_after,
            )
        )
    columns = [
        "indicator",
        "rule",
        "action",
        "winsorised",
        "skew",
        "kurtosis",
        "skew_after",
        "kurtosis_after",
    ]
    return pd.DataFrame(treated, index=imputed.index), pd.DataFrame(rows, columns=columns)


def _scores(
    fw: Framework,
    units: pd.DataFrame,
    scored: analysis.Scored,
    uncertain: pd.DataFrame,
    dims: dict[str, list[str]],
) -> pd.DataFrame:
    """One row per unit: rank, id, name, country_code, count, score, tier (and its label), the Monte Carlo
    median rank and interval, then each dimension's score; ordered by rank, then name."""
    steps = fw.steps
    score = pd.Series(scored.values["index"], index=units.index)
    tier = tiers(score, steps.tiers.method, steps.tiers.thresholds, steps.tiers.k, steps.uncertainty.seed)
    table = pd.DataFrame(
        {
            "rank": ranks(score.to_numpy()),
            "id": units["id"].to_numpy(),
            "name": units["name"].to_numpy(),
            "country_code": units["country_code"].to_numpy(),
            "count": units["count"].to_numpy(),
            "score": score.to_numpy(),
            "tier": tier.to_numpy(),
        }
    )
    labels = steps.tiers.labels
    table["tier_label"] = [
        None if pd.isna(t) else (labels[int(t) - 1] if labels else f"tier {int(t)}") for t in table["tier"]
    ]
    summary = uncertain.set_index("id")
    for column in ("median_rank", "rank_lo", "rank_hi"):
        table[column] = summary[column].reindex(table["id"]).to_numpy()
    for dimension in dims:
        table[dimension] = scored.values[dimension]
    return table.sort_values(["rank", "name", "id"]).reset_index(drop=True)


def _components(
    fw: Framework,
    units: pd.DataFrame,
    raw: pd.DataFrame,
    imputed: pd.DataFrame,
    mask: pd.DataFrame,
    treated: pd.DataFrame,
    normalised: pd.DataFrame,
    scored: analysis.Scored,
    groups: tuple[Group, ...],
    aggregation: str,
) -> pd.DataFrame:
    """One row per unit and node (indicator, sub-dimension, dimension, index): the raw, imputed and treated
    value (indicators), the score (normalised value for an indicator), the weight within its parent, the
    weight in the index, and, for arithmetic aggregation, the points it adds to the index."""
    parent = {c: g.id for g in groups for c in g.children}
    level = {g.id: g.level for g in groups}
    names = {i.id: i.name or i.id for i in fw.indicators()}
    for d in fw.dimensions:
        names[d.id] = d.name or d.id
        for s in d.subdimensions:
            names[s.id] = s.name or s.id
    names["index"] = fw.title or fw.name
    effective = effective_weights(groups, scored.weights)
    frames = []
    for node in [*treated.columns, *(g.id for g in groups)]:
        is_indicator = node in treated.columns
        score = scored.values[node]
        frame = pd.DataFrame(
            {
                "id": imputed.index,
                "node": node,
                "node_name": names.get(node, node),
                "level": "indicator" if is_indicator else level[node],
                "parent": parent.get(node),
                "raw": raw.loc[imputed.index, node].to_numpy() if is_indicator else np.nan,
                "imputed": mask.loc[imputed.index, node].to_numpy() if is_indicator else False,
                "treated": treated[node].to_numpy() if is_indicator else np.nan,
                "score": score,
                "weight": scored.weights.get(node, 1.0),
                "effective_weight": effective[node],
                "contribution": effective[node] * score if aggregation == "arithmetic" else np.nan,
            }
        )
        frames.append(frame)
    table = pd.concat(frames, ignore_index=True)
    table.insert(1, "name", units["name"].reindex(table["id"]).to_numpy())
    return table


def _weights(groups: tuple[Group, ...], scored: analysis.Scored) -> pd.DataFrame:
    """One row per node: its level, parent, weight within the parent and weight in the index."""
    effective = effective_weights(groups, scored.weights)
    by_id = {g.id: g for g in groups}
    rows: list[tuple[str, str, str | None, float, float]] = []

    def walk(node: str, parent: str | None) -> None:
        group = by_id.get(node)
        weight = scored.weights.get(node, 1.0)
        rows.append((node, group.level if group else "indicator", parent, weight, effective[node]))
        for child in group.children if group else ():
            walk(child, node)

    walk("index", None)
    return pd.DataFrame(rows, columns=["node", "level", "parent", "weight", "effective_weight"])


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _manifest(
    store: Store,
    fw: Framework,
    file_info: dict[str, Any] | None,
    tables: dict[str, pd.DataFrame],
    uncertain: analysis.Uncertain,
    sensitivity: analysis.Sensitivity,
    options: tuple[tuple[str, ...], tuple[str, ...]],
    in_scope: int,
) -> dict[str, Any]:
    """Every choice, seed, input and version, so the index can be rebuilt and compared."""
    screening = tables["screening"]
    return {
        "framework": fw.name,
        "title": fw.title,
        "framework_file": str(fw.origin) if fw.origin else None,
        "framework_sha256": fw.checksum,
        "scope": fw.scope.model_dump(),
        "steps": fw.steps.model_dump(mode="json"),
        "indicators": [
            {
                "id": i.id,
                "source": i.source.label,
                "direction": i.direction,
                "weight": i.weight,
                "transform": i.transform,
            }
            for i in fw.indicators()
        ],
        "indicators_file": file_info,
        "units_in_scope": in_scope,
        "units_scored": len(tables["scores"]),
        "screened_out": {str(k): int(v) for k, v in screening["kind"].value_counts().items()},
        "uncertainty": {
            "samples": len(uncertain.ranks),
            "normalisations": list(options[0]),
            "aggregations": list(options[1]),
            "weights_spread": fw.steps.uncertainty.weights,
            "seed": fw.steps.uncertainty.seed,
            "interval": list(fw.steps.uncertainty.interval),
        },
        "sensitivity": {
            "factors": list(sensitivity.factors),
            "base_samples": fw.steps.uncertainty.sobol,
            "evaluations": sensitivity.evaluations,
            "method": "Saltelli sampling, Sobol S1 and ST (Jansen) via SALib",
        },
        "store": str(store.root),
        "store_version": store.manifest().get("version"),
        "built": now_iso(),
        "versions": {
            "sciencecities": __version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "SALib": _version("SALib"),
            "scikit-learn": _version("scikit-learn"),
        },
    }


def folder(store: Store, name: str) -> Path:
    """Where the index `name` is kept in the store."""
    return store.root / _FOLDER / name


def save(result: IndexResult, store: Store) -> Path:
    """Keep the index in the store (``ROOT/index/<name>/``: one Parquet file per table and manifest.json),
    replacing the one built before, so that a reader sees the old or the new index, never half of one."""
    target = folder(store, result.manifest["framework"])
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".staging-{uuid.uuid4().hex[:12]}"
    staging.mkdir()
    try:
        for name in TABLES:
            pq.write_table(result.arrow(name), staging / f"{name}.parquet")
        (staging / "manifest.json").write_text(json.dumps(result.manifest, indent=2, default=str) + "\n")
        if target.exists():
            old = target.parent / f".old-{uuid.uuid4().hex[:12]}"
            os.rename(target, old)
            os.rename(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def built_names(store: Store) -> list[str]:
    """The indices kept in the store, the most recently built first."""
    root = store.root / _FOLDER
    if not root.is_dir():
        return []
    found = []
    for manifest in root.glob("*/manifest.json"):
        found.append((json.loads(manifest.read_text()).get("built", ""), manifest.parent.name))
    return [name for _, name in sorted(found, reverse=True)]


def load_index(store: Store, name: str | None = None) -> IndexResult:
    """The index `name` kept in the store (default: the one built last); a StoreError says how to build one."""
    names = built_names(store)
    if not names:
        raise StoreError(
            f"no index is built in the store {store.root}",
            "build one: sciencecities index build innovation-hubs --store ...",
        )
    chosen = name or names[0]
    if chosen not in names:
        raise StoreError(f"no index {chosen!r} in the store {store.root}", f"built: {', '.join(names)}")
    base = folder(store, chosen)
    manifest = json.loads((base / "manifest.json").read_text())
    tables = {t: pq.read_table(base / f"{t}.parquet").to_pandas() for t in TABLES}
    return IndexResult(tables, manifest)


@dataclass(frozen=True)
class Explanation:
    """How one unit's score decomposes: its row of `scores`, and one row per node of the tree (dimension,
    sub-dimension, indicator, in framework order) with value, score, weights and contribution."""

    unit: dict[str, Any]
    parts: pd.DataFrame
    aggregation: str


def explain(result: IndexResult, unit: str) -> Explanation:
    """The decomposition of `unit`'s score (an id or a name, as `rank --city` takes it).

    With arithmetic aggregation the contributions (weight in the index x score) add up to the score; with
    the other aggregations the table gives each level's scores and weights, which combine as that mean does.
    """
    scores = result.scores
    candidates = [Candidate(row["id"], row["name"], row["country_code"]) for row in scores.to_dict("records")]
    try:
        found = find(unit, candidates, "city")
    except InputError as exc:
        raise InputError(
            f"{exc.message} among the {len(candidates)} science cities of the index {result.manifest['framework']}",
            exc.hint
            if "ambiguous" in exc.message
            else "see the scores table (`sciencecities index build ... --out DIR`)",
        ) from None
    row = scores[scores["id"] == found.id].iloc[0].to_dict()
    parts = result.tables["components"]
    parts = parts[parts["id"] == found.id].drop(columns=["id", "name"])
    order = {node: position for position, node in enumerate(_tree_order(result))}
    parts = parts.assign(_order=parts["node"].map(order)).sort_values("_order").drop(columns="_order")
    return Explanation(row, parts.reset_index(drop=True), result.manifest["steps"]["aggregation"]["method"])


def _tree_order(result: IndexResult) -> list[str]:
    """Nodes top-down, depth first: index, dimension, its sub-dimensions, each with its indicators."""
    weights = result.tables["weights"]
    children: dict[str, list[str]] = {}
    for node, parent in zip(weights["node"], weights["parent"], strict=True):
        if parent is not None and not pd.isna(parent):
            children.setdefault(parent, []).append(node)
    ordered: list[str] = []

    def walk(node: str) -> None:
        ordered.append(node)
        for child in children.get(node, []):
            walk(child)

    walk("index")
    return ordered


def describe(manifest: dict[str, Any]) -> str:
    """The choices of a built index in one paragraph (for the report)."""
    steps, uncertainty = manifest["steps"], manifest["uncertainty"]
    low, high = uncertainty["interval"]
    text = (
        f"Built {manifest['built']} by `sciencecities index build {manifest['framework']}` on "
        f"{manifest['units_scored']} science cities: {steps['normalisation']['method']} normalisation, "
        f"{steps['weighting']['method']} weights, {steps['aggregation']['method']} aggregation, tiers by "
        f"{steps['tiers']['method']}. rank_lo-rank_hi: the {low:g}-{high:g}% rank interval over "
        f"{uncertainty['samples']} Monte Carlo samples (seed {uncertainty['seed']}) of weights, normalisations "
        f"({', '.join(uncertainty['normalisations'])}) and aggregations ({', '.join(uncertainty['aggregations'])})."
    )
    if (manifest.get("indicators_file") or {}).get("illustrative"):
        text += " Its non-bibliometric indicators are ILLUSTRATIVE (made up): the ranks show the method only."
    return text
