"""Robustness analysis on constructed data whose rank stability is known in advance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sciencecities.index.analysis import Model, cronbach_alpha, monte_carlo, sobol
from sciencecities.index.steps import Group

NORMALISATIONS = ("minmax", "zscore", "rank", "distance_to_frontier", "goalposts")
AGGREGATIONS = ("arithmetic", "geometric", "harmonic", "copeland")


def model(data: pd.DataFrame, goalposts: dict[str, tuple[float, float]] | None = None) -> Model:
    """Two dimensions: d1 = (x1, x2), d2 = (x3); positive ranges so every aggregation applies."""
    groups = (
        Group("d1", "dimension", ("x1", "x2"), (1.0, 1.0)),
        Group("d2", "dimension", ("x3",), (1.0,)),
        Group("index", "index", ("d1", "d2"), (1.0, 1.0)),
    )
    posts = goalposts or {c: (0.0, float(data[c].max()) * 1.5) for c in data.columns}
    return Model(
        imputed=data,
        treated=data,
        groups=groups,
        directions={c: 1 for c in data.columns},
        goalposts=posts,
        scale=(1.0, 100.0),
        zscore=(100.0, 10.0),
        weighting="manual",
    )


def constructed() -> pd.DataFrame:
    """Unit top dominates every indicator; a and b are near-equal and trade off; the rest are far behind."""
    return pd.DataFrame(
        {
            "x1": [100.0, 60.0, 58.0, 20.0, 15.0, 10.0],
            "x2": [100.0, 58.0, 60.0, 15.0, 20.0, 12.0],
            "x3": [100.0, 59.0, 61.0, 12.0, 10.0, 20.0],
        },
        index=["top", "a", "b", "c", "d", "e"],
    )


def test_cronbach_alpha_by_hand() -> None:
    # var a = 1, var b = 4, var(a + b) = 9: alpha = 2 * (1 - 5/9)
    assert cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3], "b": [2.0, 4, 6]})) == pytest.approx(8 / 9)
    assert cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3]})) is None


def run(m: Model, seed: int, samples: int = 150) -> pd.DataFrame:
    return monte_carlo(
        m, ("minmax", "arithmetic"), NORMALISATIONS, AGGREGATIONS, samples=samples, spread=0.5, seed=seed
    ).summary.set_index("id")


def test_dominant_unit_is_always_first_and_near_ties_are_wide() -> None:
    summary = run(model(constructed()), seed=3)
    assert summary.loc["top", ["rank_lo", "rank_hi", "median_rank"]].tolist() == [1, 1, 1]
    for unit in ("a", "b"):
        assert summary.loc[unit, "rank_lo"] == 2 and summary.loc[unit, "rank_hi"] == 3
    for unit in ("c", "d", "e"):
        assert summary.loc[unit, "rank_lo"] >= 4


def test_same_seed_same_result_other_seed_differs() -> None:
    m = model(constructed())
    first, again, other = run(m, 7), run(m, 7), run(m, 8)
    pd.testing.assert_frame_equal(first, again)
    a = monte_carlo(
        m, ("minmax", "arithmetic"), NORMALISATIONS, AGGREGATIONS, samples=100, spread=0.5, seed=7
    )
    b = monte_carlo(
        m, ("minmax", "arithmetic"), NORMALISATIONS, AGGREGATIONS, samples=100, spread=0.5, seed=8
    )
    assert not np.array_equal(a.ranks, b.ranks)
    assert not first["mean_rank"].equals(other["mean_rank"])


def test_sobol_a_choice_that_cannot_change_ranks_has_no_effect() -> None:
    data = constructed()
    # goalposts at each indicator's observed minimum and maximum make goalposts the same as min-max
    posts = {c: (float(data[c].min()), float(data[c].max())) for c in data.columns}
    m = model(data, posts)
    found = sobol(
        m, ("minmax", "arithmetic"), ("minmax", "goalposts"), ("arithmetic",), base=32, spread=0.6, seed=1
    )
    summary = found.summary.set_index("factor")
    assert set(found.factors) == {"weights", "normalisation"}
    assert summary.loc["normalisation", "ST"] == pytest.approx(0, abs=1e-9)
    assert summary.loc["weights", "ST"] > 0.5
    top = found.units[found.units["id"] == "top"]
    assert top["ST"].isna().all()  # its rank never changes


def test_sobol_finds_the_choice_that_matters() -> None:
    m = model(constructed())
    found = sobol(
        m, ("minmax", "arithmetic"), ("minmax",), ("arithmetic", "copeland"), base=32, spread=0.0, seed=2
    )
    assert found.factors == ("aggregation",)
    assert found.evaluations == 32 * 3
    assert found.summary.set_index("factor").loc["aggregation", "ST"] > 0.9
