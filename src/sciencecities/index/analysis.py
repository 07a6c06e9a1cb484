"""How far an index can be trusted: correlations and Cronbach's alpha per dimension, a seeded Monte Carlo
over weights, normalisation and aggregation (each unit's median rank and rank interval), and variance-based
(Sobol) sensitivity of the ranks to each of those choices."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from sciencecities.errors import InputError
from sciencecities.index.steps import Group, Scored, normalise, ranks, score_tree


@dataclass
class Model:
    """The index as a function of the choices the analysis varies: the imputed and treated indicators are
    fixed; normalisation, aggregation and the weights' noise are arguments. Goalposts apply to the imputed
    values before outlier treatment (the goalposts clip outliers themselves)."""

    imputed: pd.DataFrame
    treated: pd.DataFrame
    groups: tuple[Group, ...]
    directions: dict[str, int]
    goalposts: dict[str, tuple[float, float] | None]
    scale: tuple[float, float]
    zscore: tuple[float, float]
    weighting: str
    _normalised: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def normalised(self, method: str) -> pd.DataFrame:
        """The indicators normalised by `method` (computed once per method)."""
        if method not in self._normalised:
            source = self.imputed if method == "goalposts" else self.treated
            self._normalised[method] = pd.DataFrame(
                {
                    c: normalise(
                        source[c],
                        method,
                        self.directions[c],
                        scale=self.scale,
                        zscore=self.zscore,
                        goalposts=self.goalposts[c],
                    )
                    for c in self.treated.columns
                },
                index=self.treated.index,
            )
        return self._normalised[method]

    def score(
        self, normalisation: str, aggregation: str, noise: dict[str, np.ndarray] | None = None
    ) -> Scored:
        """Every node's scores under these choices."""
        return score_tree(self.normalised(normalisation), self.groups, self.weighting, aggregation, noise)

    def ranks(
        self, normalisation: str, aggregation: str, noise: dict[str, np.ndarray] | None = None
    ) -> np.ndarray:
        """The units' ranks under these choices (in the order of the data's index)."""
        return ranks(self.score(normalisation, aggregation, noise).values["index"])

    def check(self, normalisations: tuple[str, ...], aggregations: tuple[str, ...], where: str) -> None:
        """Every pair of options computes, or an InputError names the pair that does not."""
        for normalisation in normalisations:
            for aggregation in aggregations:
                try:
                    self.score(normalisation, aggregation)
                except InputError as exc:
                    raise InputError(
                        f"{where}: normalisation {normalisation} with aggregation {aggregation}: {exc.message}",
                        exc.hint,
                    ) from None

    def noise(self, rng: np.random.Generator, spread: float) -> dict[str, np.ndarray]:
        """One draw of weight factors, uniform in [1 - spread, 1 + spread], one per child of each group."""
        return {g.id: rng.uniform(1 - spread, 1 + spread, len(g.children)) for g in self.groups}


def correlations(normalised: pd.DataFrame, scored: Scored, dimensions: dict[str, list[str]]) -> pd.DataFrame:
    """Pearson and Spearman correlations of the normalised indicators within each dimension, pair by pair, and
    of each indicator with its dimension's score and with the index (one row per pair)."""
    rows = []
    for dimension, indicators in dimensions.items():
        present = [i for i in indicators if i in normalised.columns]
        for a, b in combinations(present, 2):
            rows.append((dimension, a, b, *_correlation(normalised[a].to_numpy(), normalised[b].to_numpy())))
        for a in present:
            for b in (dimension, "index"):
                rows.append((dimension, a, b, *_correlation(normalised[a].to_numpy(), scored.values[b])))
    return pd.DataFrame(rows, columns=["dimension", "a", "b", "pearson", "spearman"])


def _correlation(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None]:
    """Pearson and Spearman coefficients; None when either side does not vary."""
    if len(x) < 2 or np.std(x) == 0 or np.std(y) == 0:
        return (None, None)
    pearson = float(np.corrcoef(x, y)[0, 1])
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()
    spearman = float(np.corrcoef(rx, ry)[0, 1]) if np.std(rx) and np.std(ry) else None
    return (pearson, spearman)


def cronbach_alpha(values: pd.DataFrame) -> float | None:
    """Cronbach's alpha of the columns: k / (k - 1) * (1 - sum of the columns' variances / variance of their
    sum); None with fewer than two columns or a constant sum."""
    k = values.shape[1]
    if k < 2 or len(values) < 2:
        return None
    total = values.sum(axis=1).var(ddof=1)
    if not total:
        return None
    return float(k / (k - 1) * (1 - values.var(ddof=1).sum() / total))


def alphas(
    normalised: pd.DataFrame, groups: tuple[Group, ...], members: dict[str, list[str]]
) -> pd.DataFrame:
    """Cronbach's alpha of the normalised indicators of each dimension and sub-dimension (one row each)."""
    rows = []
    for group in groups:
        if group.level == "index":
            continue
        indicators = [i for i in members[group.id] if i in normalised.columns]
        rows.append((group.level, group.id, len(indicators), cronbach_alpha(normalised[indicators])))
    return pd.DataFrame(rows, columns=["level", "id", "indicators", "alpha"])


@dataclass(frozen=True)
class Uncertain:
    """The Monte Carlo ranks (samples x units), the choices of each sample, and per unit the nominal rank,
    median rank and the rank interval."""

    ranks: np.ndarray
    choices: pd.DataFrame
    summary: pd.DataFrame


def monte_carlo(
    model: Model,
    nominal: tuple[str, str],
    normalisations: tuple[str, ...],
    aggregations: tuple[str, ...],
    *,
    samples: int,
    spread: float,
    seed: int,
    interval: tuple[float, float] = (5.0, 95.0),
) -> Uncertain:
    """Draw `samples` sets of choices with a seeded generator (normalisation and aggregation uniformly among
    the options, every weight times a uniform factor in [1 - spread, 1 + spread]) and rank the units under
    each; the interval's bounds are the `interval` percentiles of each unit's ranks (lower and higher ranks
    observed, so a unit always ranked first has [1, 1])."""
    rng = np.random.default_rng(seed)
    index = model.treated.index
    nominal_ranks = model.ranks(*nominal)
    drawn = np.empty((samples, len(index)), dtype=int)
    chosen = []
    for s in range(samples):
        normalisation = normalisations[rng.integers(len(normalisations))]
        aggregation = aggregations[rng.integers(len(aggregations))]
        noise = model.noise(rng, spread) if spread > 0 else None
        drawn[s] = model.ranks(normalisation, aggregation, noise)
        chosen.append((s, normalisation, aggregation))
    summary = pd.DataFrame({"id": index, "nominal_rank": nominal_ranks})
    if samples:
        summary["median_rank"] = np.median(drawn, axis=0)
        summary["rank_lo"] = np.percentile(drawn, interval[0], axis=0, method="lower").astype(int)
        summary["rank_hi"] = np.percentile(drawn, interval[1], axis=0, method="higher").astype(int)
        summary["mean_rank"] = drawn.mean(axis=0)
    else:
        for column in ("median_rank", "rank_lo", "rank_hi", "mean_rank"):
            summary[column] = np.nan
    choices = pd.DataFrame(chosen, columns=["sample", "normalisation", "aggregation"])
    return Uncertain(drawn, choices, summary)


@dataclass(frozen=True)
class Sensitivity:
    """Sobol first-order (S1) and total (ST) indices of each factor: for the mean absolute rank shift from the
    nominal ranks (`summary`), and for each unit's rank (`units`; null where the rank never changes)."""

    summary: pd.DataFrame
    units: pd.DataFrame
    factors: tuple[str, ...]
    evaluations: int


def sobol(
    model: Model,
    nominal: tuple[str, str],
    normalisations: tuple[str, ...],
    aggregations: tuple[str, ...],
    *,
    base: int,
    spread: float,
    seed: int,
) -> Sensitivity:
    """Variance-based sensitivity (Saltelli sampling, Jansen estimators, via SALib) of the ranks to each
    choice that varies: `weights` (a uniform variable picking one of `base` seeded draws of weight factors),
    `normalisation` and `aggregation` (uniform variables mapped onto the options). `base` (a power of 2)
    base samples make base x (factors + 2) evaluations."""
    from SALib.analyze import sobol as analyse
    from SALib.sample import sobol as sample

    factors = tuple(
        name
        for name, varies in (
            ("weights", spread > 0),
            ("normalisation", len(normalisations) > 1),
            ("aggregation", len(aggregations) > 1),
        )
        if varies
    )
    empty = pd.DataFrame(columns=["factor", "S1", "S1_conf", "ST", "ST_conf"])
    if not factors or base == 0:
        return Sensitivity(empty, pd.DataFrame(columns=["id", "factor", "S1", "ST"]), factors, 0)
    rng = np.random.default_rng(seed)
    draws = [model.noise(rng, spread) for _ in range(base)] if spread > 0 else []
    problem = {"num_vars": len(factors), "names": list(factors), "bounds": [[0.0, 1.0]] * len(factors)}
    points = sample.sample(problem, base, calc_second_order=False, seed=seed)
    nominal_ranks = model.ranks(*nominal)
    outputs = np.empty((len(points), len(nominal_ranks)))
    for row, point in enumerate(points):
        picked = dict(zip(factors, point, strict=True))
        normalisation = _pick(normalisations, picked.get("normalisation"))
        aggregation = _pick(aggregations, picked.get("aggregation"))
        noise = draws[int(min(picked["weights"] * base, base - 1))] if "weights" in picked else None
        outputs[row] = model.ranks(normalisation, aggregation, noise)
    shift = np.abs(outputs - nominal_ranks).mean(axis=1)
    summary = _indices(analyse, problem, shift, seed)
    summary = empty if summary is None else summary
    unit_rows = []
    for j, unit in enumerate(model.treated.index):
        found = _indices(analyse, problem, outputs[:, j], seed)
        for position, factor in enumerate(factors):
            if found is None:
                unit_rows.append((unit, factor, None, None))
            else:
                unit_rows.append((unit, factor, found["S1"].iloc[position], found["ST"].iloc[position]))
    units = pd.DataFrame(unit_rows, columns=["id", "factor", "S1", "ST"])
    return Sensitivity(summary, units, factors, len(points))


def _pick(options: tuple[str, ...], u: float | None) -> str:
    """The option a uniform variable in [0, 1] stands for (the first when the choice does not vary)."""
    if u is None:
        return options[0]
    return options[min(int(u * len(options)), len(options) - 1)]


def _indices(analyse: object, problem: dict[str, object], y: np.ndarray, seed: int) -> pd.DataFrame | None:
    """S1, ST and their 95% bootstrap half-widths per factor; None when `y` does not vary."""
    if np.ptp(y) == 0:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # bootstrap resamples of a near-constant output
        found = analyse.analyze(  # type: ignore[attr-defined]
            problem, y, calc_second_order=False, num_resamples=100, seed=seed, print_to_console=False
        )
    return pd.DataFrame(
        {
            "factor": problem["names"],
            "S1": found["S1"],
            "S1_conf": found["S1_conf"],
            "ST": found["ST"],
            "ST_conf": found["ST_conf"],
        }
    )
