"""The steps of the JRC/OECD Handbook as pure functions on a units x indicators frame (index: unit ids):
screening, imputation, outlier treatment, normalisation, weighting, aggregation, ranking and tiers.

Each returns its result and, where it changes or drops something, a record of what and why."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sciencecities.errors import InputError


@dataclass(frozen=True)
class Screened:
    """What screening kept, and one row per unit or indicator left out (kind, id, reason)."""

    data: pd.DataFrame
    dropped: pd.DataFrame


def screen(data: pd.DataFrame, min_indicator_coverage: float, min_unit_coverage: float) -> Screened:
    """Leave out the indicators with values for fewer than `min_indicator_coverage` of the units, then the units
    with values for fewer than `min_unit_coverage` of the indicators left (both as fractions)."""
    rows = []
    coverage = data.notna().mean(axis=0)
    low = [c for c in data.columns if coverage[c] < min_indicator_coverage]
    for column in low:
        rows.append(
            (
                "indicator",
                column,
                f"values for {coverage[column]:.0%} of the units (< {min_indicator_coverage:.0%})",
            )
        )
    kept = data.drop(columns=low)
    if kept.shape[1]:
        units = kept.notna().mean(axis=1)
        gone = units[units < min_unit_coverage]
        for unit, fraction in gone.items():
            rows.append(
                ("unit", unit, f"values for {fraction:.0%} of the indicators (< {min_unit_coverage:.0%})")
            )
        kept = kept.drop(index=gone.index)
    return Screened(kept, pd.DataFrame(rows, columns=["kind", "id", "reason"]))


def impute(
    data: pd.DataFrame, method: str, groups: pd.Series | None = None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Fill missing values by the indicator's `mean` or `median`, the `group_mean` (mean over the units of the
    same group in `groups`, the indicator's mean where the group has none), or `none`: units with a missing
    value are left out. Returns the data, a mask of the imputed cells, and the units left out (kind, id, reason)."""
    missing = data.isna()
    dropped = pd.DataFrame(columns=["kind", "id", "reason"])
    if method == "none":
        gaps = missing.any(axis=1)
        names = [", ".join(data.columns[missing.loc[u]]) for u in data.index[gaps]]
        dropped = pd.DataFrame(
            {
                "kind": "unit",
                "id": list(data.index[gaps]),
                "reason": [f"missing {n} (imputation: none)" for n in names],
            },
            columns=["kind", "id", "reason"],
        )
        return data.loc[~gaps], missing.loc[~gaps] & False, dropped
    if method == "mean":
        filled = data.fillna(data.mean())
    elif method == "median":
        filled = data.fillna(data.median())
    elif method == "group_mean":
        if groups is None:
            raise InputError("group_mean imputation needs a group per unit", "name the group column")
        means = data.groupby(groups.reindex(data.index)).transform("mean")
        filled = data.fillna(means).fillna(data.mean())
    else:
        raise InputError(f"unknown imputation {method!r}", "use mean, median, group_mean or none")
    return filled, missing, dropped


@dataclass(frozen=True)
class Treated:
    """An indicator after outlier treatment: the values, what was done, and the shape before and after."""

    values: pd.Series
    action: str
    winsorised: int
    skew_before: float
    kurtosis_before: float
    skew_after: float
    kurtosis_after: float


def _shape(values: pd.Series) -> tuple[float, float]:
    """Sample skewness and excess kurtosis (pandas' bias-corrected estimators); 0 when undefined."""
    skew, kurt = values.skew(), values.kurt()
    return (0.0 if pd.isna(skew) else float(skew), 0.0 if pd.isna(kurt) else float(kurt))


def flagged(values: pd.Series, skew: float, kurtosis: float) -> bool:
    """COINr's outlier rule: |skewness| > skew and kurtosis > kurtosis."""
    s, k = _shape(values)
    return abs(s) > skew and k > kurtosis


def log_transform(values: pd.Series) -> pd.Series:
    """ln(x) when every value is positive, else ln(x - min + 1) (defined for any values, order kept)."""
    if (values > 0).all():
        return np.log(values)
    return np.log(values - values.min() + 1)


def treat(
    values: pd.Series, how: str, skew: float = 2.0, kurtosis: float = 3.5, max_winsorised: int = 5
) -> Treated:
    """Treat one indicator: `none`; `log` (always); `winsorise`: while flagged (see `flagged`) and at most
    `max_winsorised` times, set the most extreme value on the side of the skew to the next one in, then take
    the log if the indicator is still flagged."""
    before = _shape(values)
    result, action, count = values.astype(float), "none", 0
    if how == "log":
        result, action = log_transform(result), "log"
    elif how == "winsorise":
        while flagged(result, skew, kurtosis) and count < max_winsorised:
            high = _shape(result)[0] > 0
            ordered = result.sort_values(ascending=not high)
            extreme, inner = ordered.iloc[0], ordered.iloc[1]
            if extreme == inner:
                break
            count += int((result == extreme).sum())
            result = result.where(result != extreme, inner)
            action = f"winsorised {count}"
        if flagged(result, skew, kurtosis):
            result, action = log_transform(values.astype(float)), "log (winsorising was not enough)"
    elif how != "none":
        raise InputError(f"unknown transformation {how!r}", "use none, log or winsorise")
    after = _shape(result)
    return Treated(result, action, count, before[0], before[1], after[0], after[1])


def normalise(
    values: pd.Series,
    method: str,
    direction: int = 1,
    *,
    scale: tuple[float, float] = (0.0, 100.0),
    zscore: tuple[float, float] = (0.0, 1.0),
    goalposts: tuple[float, float] | None = None,
) -> pd.Series:
    """One indicator on a common scale where more is better (a `direction` of -1 turns it round):

    - minmax: lo + (x - min) / (max - min) * (hi - lo), with (lo, hi) = `scale` (the middle when all equal);
    - zscore: m + s * (x - mean) / sd (sample sd), with (m, s) = `zscore` (m when all equal);
    - rank: lo + (r - 1) / (n - 1) * (hi - lo), r the rank from worst (ties averaged);
    - distance_to_frontier: hi * x / max(x) (hi * min(x) / x when less is better); needs x > 0;
    - goalposts: lo + clip((x - low) / (high - low), 0, 1) * (hi - lo) with the indicator's `goalposts`.
    """
    lo, hi = scale
    x = values.astype(float)
    if method == "distance_to_frontier":
        if (x <= 0).any():
            raise InputError(
                f"distance to frontier divides by the best value: indicator {values.name!r} has values <= 0",
                "use another normalisation (minmax, goalposts) or transform the indicator",
            )
        return hi * x / x.max() if direction > 0 else hi * x.min() / x
    x = x * direction
    if method == "minmax":
        span = x.max() - x.min()
        return pd.Series((lo + hi) / 2, index=x.index) if span == 0 else lo + (x - x.min()) / span * (hi - lo)
    if method == "zscore":
        sd = x.std(ddof=1)
        if not sd or math.isnan(sd):
            return pd.Series(zscore[0], index=x.index)
        return zscore[0] + zscore[1] * (x - x.mean()) / sd
    if method == "rank":
        n = len(x)
        if n == 1:
            return pd.Series(hi, index=x.index)
        return lo + (x.rank(method="average") - 1) / (n - 1) * (hi - lo)
    if method == "goalposts":
        if goalposts is None:
            raise InputError(
                f"indicator {values.name!r} has no goalposts", "add goalposts: [low, high] to it"
            )
        low, high = goalposts
        share = ((values.astype(float) - low) / (high - low)).clip(0, 1)
        return lo + (share if direction > 0 else 1 - share) * (hi - lo)
    raise InputError(
        f"unknown normalisation {method!r}", "use minmax, zscore, rank, distance_to_frontier or goalposts"
    )


def pca_weights(values: np.ndarray) -> np.ndarray:
    """Weights of the columns of `values` (units x children) from principal components (Handbook, Nicoletti et
    al.): components of the correlation matrix with eigenvalue > 1 (at least the first) are kept; each child
    goes with the kept component where its squared loading (scaled to unity) is largest, and weighs that
    scaled squared loading times the component's share of the kept variance; the weights are scaled to sum to 1.
    Children without variance weigh 0; with fewer than two varying children the weights are equal."""
    k = values.shape[1]
    sd = values.std(axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(k)
    varying = sd > 1e-12
    if varying.sum() < 2:
        return np.full(k, 1.0 / k)
    z = (values[:, varying] - values[:, varying].mean(axis=0)) / sd[varying]
    corr = np.corrcoef(z, rowvar=False)
    eigenvalues, vectors = np.linalg.eigh(corr)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, vectors = eigenvalues[order], vectors[:, order]
    kept = max(1, int((eigenvalues > 1).sum()))
    loadings = vectors[:, :kept] * np.sqrt(np.clip(eigenvalues[:kept], 0, None))
    squared = loadings**2
    scaled = squared / squared.sum(axis=0)
    explained = eigenvalues[:kept] / eigenvalues[:kept].sum()
    best = scaled.argmax(axis=1)
    inner = scaled[np.arange(len(best)), best] * explained[best]
    weights = np.zeros(k)
    weights[varying] = inner
    return weights / weights.sum()


def aggregate(values: np.ndarray, weights: np.ndarray, method: str) -> np.ndarray:
    """Each unit's score from its children's values (units x children) and weights summing to 1:

    - arithmetic: sum w x;  geometric: prod x^w;  harmonic: 1 / sum (w / x)  (both need x > 0);
    - copeland: for every other unit, the weight of the children where this unit is higher (half the weight of
      ties) against the weight where it is lower; the score is wins minus losses (in [-(n-1), n-1]).
    """
    if method == "arithmetic":
        return values @ weights
    if method in ("geometric", "harmonic"):
        if (values <= 0).any():
            raise InputError(
                f"{method} aggregation needs positive values, and some normalised values are <= 0",
                "normalise onto a positive range (e.g. normalisation range [1, 100]) or aggregate arithmetically",
            )
        if method == "geometric":
            return np.exp(np.log(values) @ weights)
        return 1.0 / ((1.0 / values) @ weights)
    if method == "copeland":
        higher = (values[:, None, :] > values[None, :, :]).astype(float)
        equal = (values[:, None, :] == values[None, :, :]).astype(float)
        support = (higher + 0.5 * equal) @ weights
        against = support.T
        wins = (support > against + 1e-12).sum(axis=1)
        losses = (support < against - 1e-12).sum(axis=1)
        return (wins - losses).astype(float)
    raise InputError(f"unknown aggregation {method!r}", "use arithmetic, geometric, harmonic or copeland")


def ranks(scores: np.ndarray) -> np.ndarray:
    """Ranks by score, highest first, of scores rounded to 1e-9; ties share the best rank (1, 2, 2, 4)."""
    return pd.Series(np.round(scores, 9)).rank(ascending=False, method="min").to_numpy().astype(int)


def tiers(
    scores: pd.Series, method: str, thresholds: tuple[float, ...] = (), k: int = 4, seed: int = 0
) -> pd.Series:
    """Tier 1 (best) to n of each score: by `thresholds` (descending; score >= thresholds[0] is tier 1, ...,
    below the last is tier len + 1), or by `kmeans` clusters of the scores (at most `k`, seeded) numbered from
    the cluster with the highest centre; `none`: no tiers (nulls)."""
    if method == "none":
        return pd.Series(pd.NA, index=scores.index, dtype="Int64")
    if method == "thresholds":
        tier = np.full(len(scores), len(thresholds) + 1)
        for position, threshold in reversed(list(enumerate(thresholds, start=1))):
            tier[scores.to_numpy() >= threshold] = position
        return pd.Series(tier, index=scores.index, dtype="Int64")
    if method == "kmeans":
        from sklearn.cluster import KMeans

        distinct = int(np.unique(np.round(scores.to_numpy(), 9)).size)
        clusters = max(1, min(k, distinct))
        if clusters == 1:
            return pd.Series(1, index=scores.index, dtype="Int64")
        model = KMeans(n_clusters=clusters, n_init=10, random_state=seed)
        labels = model.fit_predict(scores.to_numpy().reshape(-1, 1))
        order = np.argsort(-model.cluster_centers_.ravel())
        tier_of = {cluster: position + 1 for position, cluster in enumerate(order)}
        return pd.Series([tier_of[label] for label in labels], index=scores.index, dtype="Int64")
    raise InputError(f"unknown tier method {method!r}", "use thresholds, kmeans or none")


@dataclass(frozen=True)
class Group:
    """A node that aggregates: its id, level (subdimension, dimension, index), children and their weights as
    the framework gives them (used by manual weighting)."""

    id: str
    level: str
    children: tuple[str, ...]
    weights: tuple[float, ...]


@dataclass(frozen=True)
class Scored:
    """The scores of every node (indicators, sub-dimensions, dimensions, `index`) per unit, each child's
    weight within its parent, and the weights each aggregation used."""

    values: dict[str, np.ndarray]
    weights: dict[str, float]


def score_tree(
    normalised: pd.DataFrame,
    groups: tuple[Group, ...],
    weighting: str,
    aggregation: str,
    noise: dict[str, np.ndarray] | None = None,
) -> Scored:
    """Aggregate normalised indicators up the tree (`groups` bottom-up, the last one `index`): each group's
    weights are equal, the framework's (manual) or PCA-based on its children's values, multiplied by `noise`
    (per group, one factor per child) and scaled to sum to 1."""
    values = {c: normalised[c].to_numpy(dtype=float) for c in normalised.columns}
    weights: dict[str, float] = {}
    for group in groups:
        children = np.column_stack([values[c] for c in group.children])
        if weighting == "equal":
            w = np.full(len(group.children), 1.0 / len(group.children))
        elif weighting == "manual":
            w = np.asarray(group.weights, dtype=float)
        elif weighting == "pca":
            w = pca_weights(children)
        else:
            raise InputError(f"unknown weighting {weighting!r}", "use equal, manual or pca")
        if noise is not None and group.id in noise:
            w = w * noise[group.id]
        w = w / w.sum()
        values[group.id] = aggregate(children, w, aggregation)
        weights.update(zip(group.children, (float(v) for v in w), strict=True))
    return Scored(values, weights)


def effective_weights(groups: tuple[Group, ...], weights: dict[str, float]) -> dict[str, float]:
    """Each node's weight in the index: the product of the weights on its path up to `index` (which is 1)."""
    effective = {"index": 1.0}
    for group in reversed(groups):
        for child in group.children:
            effective[child] = effective[group.id] * weights[child]
    return effective
