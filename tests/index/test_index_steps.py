"""The Handbook's steps on a 3-unit, 3-indicator example whose results are worked out by hand here."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from sciencecities.errors import InputError
from sciencecities.index.steps import (
    Group,
    aggregate,
    effective_weights,
    flagged,
    impute,
    normalise,
    pca_weights,
    ranks,
    score_tree,
    screen,
    tiers,
    treat,
)

UNITS = ["A", "B", "C"]
X1 = pd.Series([1.0, 2.0, 4.0], index=UNITS, name="x1")
X2 = pd.Series([10.0, 30.0, 20.0], index=UNITS, name="x2")
X3 = pd.Series([5.0, 5.0, 2.0], index=UNITS, name="x3")  # less is better


def test_minmax() -> None:
    assert normalise(X1, "minmax").tolist() == pytest.approx([0, 100 / 3, 100])
    assert normalise(X2, "minmax").tolist() == pytest.approx([0, 100, 50])
    assert normalise(X3, "minmax", -1).tolist() == pytest.approx([0, 0, 100])
    assert normalise(X1, "minmax", scale=(1, 100)).tolist() == pytest.approx([1, 1 + 99 / 3, 100])


def test_zscore() -> None:
    mean, sd = 7 / 3, math.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2 + (4 - 7 / 3) ** 2) / 2)
    expected = [(v - mean) / sd for v in (1, 2, 4)]
    assert normalise(X1, "zscore").tolist() == pytest.approx(expected)
    assert normalise(X1, "zscore", zscore=(100, 10)).tolist() == pytest.approx(
        [100 + 10 * e for e in expected]
    )
    assert normalise(X1, "zscore", -1).tolist() == pytest.approx([-e for e in expected])


def test_rank_averages_ties() -> None:
    assert normalise(X1, "rank").tolist() == pytest.approx([0, 50, 100])
    assert normalise(X3, "rank", -1).tolist() == pytest.approx([25, 25, 100])


def test_distance_to_frontier() -> None:
    assert normalise(X1, "distance_to_frontier").tolist() == pytest.approx([25, 50, 100])
    assert normalise(X3, "distance_to_frontier", -1).tolist() == pytest.approx([40, 40, 100])
    with pytest.raises(InputError, match="values <= 0"):
        normalise(pd.Series([0.0, 1.0], name="zero"), "distance_to_frontier")


def test_goalposts_clip() -> None:
    assert normalise(X1, "goalposts", goalposts=(0, 5)).tolist() == pytest.approx([20, 40, 80])
    assert normalise(X2, "goalposts", goalposts=(0, 20)).tolist() == pytest.approx([50, 100, 100])
    assert normalise(X3, "goalposts", -1, goalposts=(0, 10)).tolist() == pytest.approx([50, 50, 80])
    with pytest.raises(InputError, match="no goalposts"):
        normalise(X1, "goalposts")


M = np.array([[20.0, 50.0, 50.0], [40.0, 100.0, 50.0], [80.0, 100.0, 80.0]])
W = np.array([0.5, 0.25, 0.25])


def test_arithmetic() -> None:
    assert aggregate(M, W, "arithmetic").tolist() == pytest.approx([35, 57.5, 85])


def test_geometric() -> None:
    expected = [20**0.5 * 50**0.25 * 50**0.25, 40**0.5 * 100**0.25 * 50**0.25, 80**0.5 * 100**0.25 * 80**0.25]
    assert aggregate(M, W, "geometric").tolist() == pytest.approx(expected)


def test_harmonic() -> None:
    expected = [
        1 / (0.5 / 20 + 0.25 / 50 + 0.25 / 50),
        1 / (0.5 / 40 + 0.25 / 100 + 0.25 / 50),
        1 / (0.5 / 80 + 0.25 / 100 + 0.25 / 80),
    ]
    assert aggregate(M, W, "harmonic").tolist() == pytest.approx(expected)


def test_geometric_and_harmonic_refuse_zero() -> None:
    for method in ("geometric", "harmonic"):
        with pytest.raises(InputError, match="positive"):
            aggregate(np.array([[0.0, 1.0], [1.0, 2.0]]), np.array([0.5, 0.5]), method)


def test_copeland() -> None:
    # C beats B (0.5 + half of the tie 0.25 + 0.25 = 0.875) and A; B beats A (0.5 + 0.25 + half of 0.25).
    assert aggregate(M, W, "copeland").tolist() == [-2, 0, 2]
    cycle = np.array([[3.0, 1.0, 2.0], [2.0, 3.0, 1.0], [1.0, 2.0, 3.0]])
    assert aggregate(cycle, np.full(3, 1 / 3), "copeland").tolist() == [0, 0, 0]


def test_tree_scores_and_effective_weights() -> None:
    data = pd.DataFrame({"x1": M[:, 0], "x2": M[:, 1], "x3": M[:, 2]}, index=UNITS)
    groups = (
        Group("s1", "subdimension", ("x1", "x2"), (3.0, 1.0)),
        Group("s2", "subdimension", ("x3",), (1.0,)),
        Group("d", "dimension", ("s1", "s2"), (1.0, 1.0)),
        Group("index", "index", ("d",), (1.0,)),
    )
    scored = score_tree(data, groups, "manual", "arithmetic")
    s1 = 0.75 * M[:, 0] + 0.25 * M[:, 1]
    assert scored.values["index"].tolist() == pytest.approx((0.5 * s1 + 0.5 * M[:, 2]).tolist())
    assert effective_weights(groups, scored.weights) == pytest.approx(
        {"index": 1, "d": 1, "s1": 0.5, "s2": 0.5, "x1": 0.375, "x2": 0.125, "x3": 0.5}
    )
    equal = score_tree(data, groups, "equal", "arithmetic")
    assert equal.weights["x1"] == pytest.approx(0.5)
    noisy = score_tree(data, groups, "manual", "arithmetic", {"s1": np.array([2.0, 1.0])})
    assert noisy.weights["x1"] == pytest.approx(6 / 7)


def test_ranks_share_ties() -> None:
    assert ranks(np.array([3.0, 5.0, 5.0 + 1e-12, 1.0])).tolist() == [3, 1, 1, 4]


def test_imputation() -> None:
    data = pd.DataFrame(
        {"x": [1.0, np.nan, 3.0, 10.0], "y": [np.nan, np.nan, 2.0, 4.0]}, index=["a1", "a2", "b1", "b2"]
    )
    groups = pd.Series(["a", "a", "b", "b"], index=data.index)
    mean, mask, _ = impute(data, "mean")
    assert mean.loc["a2", "x"] == pytest.approx(14 / 3) and mean.loc["a1", "y"] == pytest.approx(3)
    assert mask.loc["a2", "x"] and not mask.loc["a1", "x"]
    median, _, _ = impute(data, "median")
    assert median.loc["a2", "x"] == 3
    grouped, _, _ = impute(data, "group_mean", groups)
    assert grouped.loc["a2", "x"] == 1  # the mean of group a
    assert grouped.loc["a1", "y"] == 3  # group a has no y: the overall mean
    kept, _, dropped = impute(data, "none")
    assert list(kept.index) == ["b1", "b2"]
    assert dropped["id"].tolist() == ["a1", "a2"] and "missing x, y" in dropped["reason"].iloc[1]


def test_screening() -> None:
    data = pd.DataFrame(
        {"x": [1.0, 2.0, 3.0, 4.0], "y": [1.0, np.nan, np.nan, np.nan], "z": [1.0, np.nan, 2.0, 3.0]},
        index=list("abcd"),
    )
    screened = screen(data, min_indicator_coverage=0.5, min_unit_coverage=0.66)
    assert list(screened.data.columns) == ["x", "z"]
    assert list(screened.data.index) == ["a", "c", "d"]
    assert screened.dropped[["kind", "id"]].values.tolist() == [["indicator", "y"], ["unit", "b"]]


def test_winsorisation_and_log() -> None:
    values = pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 100])
    assert flagged(values, 2.0, 3.5)
    done = treat(values, "winsorise")
    assert done.values.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 9]
    assert done.winsorised == 1 and not flagged(done.values, 2.0, 3.5)
    assert treat(values, "log").values.tolist() == pytest.approx(np.log(values).tolist())
    shifted = treat(pd.Series([0.0, 1.0, 3.0]), "log").values
    assert shifted.tolist() == pytest.approx([0, math.log(2), math.log(4)])
    assert treat(pd.Series([1.0, 2.0, 3.0]), "winsorise").action == "none"


def test_pca_weights() -> None:
    rng = np.random.default_rng(1)
    base = rng.normal(size=50)
    values = np.column_stack([base, base + rng.normal(scale=0.3, size=50), rng.normal(size=50), np.ones(50)])
    weights = pca_weights(values)
    assert weights.sum() == pytest.approx(1) and (weights >= 0).all()
    assert weights[3] == 0  # no variance, no weight
    assert pca_weights(values[:, [0, 3]]).tolist() == pytest.approx([0.5, 0.5])


def test_tiers() -> None:
    scores = pd.Series([80.0, 60.0, 30.0, 10.0, 75.0])
    assert tiers(scores, "thresholds", (75, 50, 25)).tolist() == [1, 2, 3, 4, 1]
    clustered = tiers(pd.Series([100.0, 99.0, 98.0, 10.0, 11.0]), "kmeans", k=2)
    assert clustered.tolist() == [1, 1, 1, 2, 2]
    assert tiers(scores, "none").isna().all()
