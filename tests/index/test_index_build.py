"""Frameworks, users' indicator files and whole builds on the demo store, checked against hand-computed scores."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
import pytest

from sciencecities import Store
from sciencecities.errors import InputError, StoreError
from sciencecities.index import build_index, explain, framework, load_index, save

UNITS = ["us-csa-148", "us-csa-408", "gb-london", "us-csa-488", "us-csa-548"]
"""The demo's science cities with 12 or more nature-index articles."""


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


FRAMEWORK = """
    name: small
    scope: {{edition: nature-index, boundaries: metro, min_count: 12}}
    indicators_file: small.csv
    dimensions:
      - id: d1
        weight: 2
        subdimensions:
          - id: s1
            indicators:
              - {{id: x1, source: {{column: a}}, weight: 3}}
              - {{id: x2, source: {{column: b}}}}
      - id: d2
        subdimensions:
          - id: s2
            indicators:
              - {{id: x3, source: {{column: c}}, direction: -1}}
    steps:
      outliers: {{method: none}}
      imputation: {{method: {imputation}}}
      normalisation: {{method: minmax}}
      weighting: {{method: manual}}
      aggregation: {{method: arithmetic}}
      tiers: {{method: thresholds, thresholds: [60, 45]}}
      uncertainty: {{samples: 20, sobol: 8, normalisations: [minmax, rank], aggregations: [arithmetic, copeland]}}
"""

DATA = """
    # made-up values for the test
    id,name,a,b,c
    us-csa-148,Boston,10,5,2
    us-csa-408,New York,20,,4
    gb-london,London,30,1,6
    us-csa-488,SF,40,3,8
    us-csa-548,Baltimore,50,9,10
    cn-hubei-wuhan,Wuhan,1,1,1
    nowhere,Atlantis,1,2,3
"""


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    write(tmp_path / "small.csv", DATA)
    return write(tmp_path / "small.yaml", FRAMEWORK.format(imputation="mean"))


def test_hand_computed_scores(demo: Store, small: Path) -> None:
    result = build_index(demo, small)
    scores = result.scores.set_index("id")
    # minmax: x1 [0, 25, 50, 75, 100]; x2 with New York's imputed mean 4.5: [50, 43.75, 0, 25, 100];
    # x3 (less is better) [100, 75, 50, 25, 0]; s1 = 0.75 x1 + 0.25 x2; index = 2/3 s1 + 1/3 x3
    expected = {
        "us-csa-148": 2 / 3 * 12.5 + 100 / 3,
        "us-csa-408": 2 / 3 * (18.75 + 43.75 / 4) + 75 / 3,
        "gb-london": 2 / 3 * 37.5 + 50 / 3,
        "us-csa-488": 2 / 3 * (56.25 + 6.25) + 25 / 3,
        "us-csa-548": 2 / 3 * 100,
    }
    assert scores["score"].to_dict() == pytest.approx(expected)
    assert scores["rank"].to_dict() == {
        "us-csa-548": 1,
        "us-csa-488": 2,
        "us-csa-408": 3,
        "us-csa-148": 4,
        "gb-london": 4,
    }
    assert scores["tier"].to_dict() == {
        "us-csa-548": 1,
        "us-csa-488": 2,
        "us-csa-408": 3,
        "us-csa-148": 3,
        "gb-london": 3,
    }
    parts = result.tables["components"]
    imputed = parts[(parts["node"] == "x2") & parts["imputed"]]
    assert imputed["id"].tolist() == ["us-csa-408"] and imputed["treated"].tolist() == [4.5]
    screening = result.tables["screening"]
    assert screening[screening["kind"] == "file row"]["id"].tolist() == ["nowhere"]
    assert result.manifest["indicators_file"]["unmatched"] == 1
    assert result.manifest["steps"]["uncertainty"]["samples"] == 20
    assert result.tables["samples"]["normalisation"].isin(["minmax", "rank"]).all()
    first = explain(result, "Baltimore-Washington")
    assert first.parts["contribution"][first.parts["level"] == "indicator"].sum() == pytest.approx(200 / 3)


def test_no_imputation_screens_the_unit_out(demo: Store, tmp_path: Path) -> None:
    write(tmp_path / "small.csv", DATA)
    path = write(tmp_path / "small.yaml", FRAMEWORK.format(imputation="none"))
    result = build_index(demo, path)
    assert "us-csa-408" not in set(result.scores["id"])
    screening = result.tables["screening"].set_index("id")
    assert "missing x2" in screening.loc["us-csa-408", "reason"]


def test_same_seed_same_index(demo: Store, small: Path) -> None:
    a, b = build_index(demo, small, seed=5), build_index(demo, small, seed=5)
    for name in ("scores", "sensitivity", "sensitivity_units", "samples"):
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    c = build_index(demo, small, seed=6, samples=200)
    d = build_index(demo, small, seed=7, samples=200)
    assert not c.tables["samples"].equals(d.tables["samples"])


def test_kept_in_the_store_and_read_back(demo: Store, small: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="no index is built"):
        load_index(store)
    result = build_index(demo, small)
    save(result, store)
    save(result, store)  # replaces the one before
    again = load_index(store, "small")
    pd.testing.assert_frame_equal(again.scores, result.scores)
    assert again.manifest["framework_sha256"] == framework.load(small).checksum


def test_shipped_example_builds(demo: Store) -> None:
    result = build_index(demo, "innovation-hubs", samples=40, sobol=16)
    scores = result.scores
    assert len(scores) == result.manifest["units_scored"] > 20
    assert scores["rank"].is_monotonic_increasing and scores["rank"].iloc[0] == 1
    assert scores["tier"].notna().all() and scores["rank_lo"].le(scores["rank_hi"]).all()
    assert {"talent", "actors", "environment"} <= set(scores.columns)
    assert set(result.tables["sensitivity"]["factor"]) == {"weights", "normalisation", "aggregation"}
    assert result.manifest["indicators_file"]["illustrative"] is True
    assert result.tables["alpha"]["id"].tolist()[:3] == ["research_output", "talent_density", "talent"]


def test_bad_framework_names_the_file_and_key(tmp_path: Path) -> None:
    text = FRAMEWORK.format(imputation="mean").replace("direction: -1", "direction: down")
    path = write(tmp_path / "bad.yaml", text)
    with pytest.raises(InputError) as caught:
        framework.load(path)
    assert str(path) in caught.value.message
    assert "dimensions.1.subdimensions.0.indicators.0.direction" in caught.value.message
    broken = write(tmp_path / "broken.yaml", "name: x\ndimensions: [\n  - {id: a\n")
    with pytest.raises(InputError, match=r"broken.yaml:\d+: not valid YAML"):
        framework.load(broken)
    unknown = write(tmp_path / "unknown.yaml", text.replace("direction: down", "metric_x: 1"))
    with pytest.raises(InputError, match="metric_x"):
        framework.load(unknown)
    with pytest.raises(InputError, match="no framework"):
        framework.load("no-such-framework")


def test_goalposts_needed_and_ids_unique(tmp_path: Path) -> None:
    text = FRAMEWORK.format(imputation="mean")
    with pytest.raises(InputError, match="goalposts"):
        framework.load(write(tmp_path / "g.yaml", text.replace("method: minmax", "method: goalposts")))
    with pytest.raises(InputError, match="used twice"):
        framework.load(write(tmp_path / "d.yaml", text.replace("id: x3", "id: x1")))


def test_bad_indicator_file(demo: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "small.yaml", FRAMEWORK.format(imputation="mean"))
    write(tmp_path / "small.csv", DATA.replace("40,3,8", "40,three,8"))
    with pytest.raises(InputError, match=r"small.csv: line 6, column b: 'three' is not a number"):
        build_index(demo, path)
    write(tmp_path / "small.csv", DATA.replace("id,name,a,b,c", "id,name,a,bb,c"))
    with pytest.raises(InputError, match="does not have"):
        build_index(demo, path)
    write(tmp_path / "small.csv", DATA + "    gb-london,London,1,1,1\n")
    with pytest.raises(InputError, match="lines 5 and 10 are both for gb-london"):
        build_index(demo, path)


def test_file_keyed_by_name(demo: Store, tmp_path: Path) -> None:
    rows = DATA.replace("id,name", "code,name").replace("Boston", "Boston metropolitan area")
    rows = rows.replace("New York,", "new york metropolitan area,").replace(
        "London,", "London metropolitan area,"
    )
    rows = rows.replace("SF,", "San Francisco Bay Area,").replace("Baltimore,", "Baltimore-Washington,")
    write(tmp_path / "small.csv", rows)
    result = build_index(demo, write(tmp_path / "small.yaml", FRAMEWORK.format(imputation="mean")))
    assert result.scores.set_index("id").loc["us-csa-548", "rank"] == 1


def test_pca_weights_sum_to_one_in_every_group(demo: Store, tmp_path: Path) -> None:
    write(tmp_path / "small.csv", DATA)
    text = FRAMEWORK.format(imputation="mean").replace("method: manual", "method: pca")
    result = build_index(demo, write(tmp_path / "small.yaml", text))
    weights = result.tables["weights"]
    assert result.manifest["steps"]["weighting"]["method"] == "pca"
    for _, group in weights.dropna(subset=["parent"]).groupby("parent"):
        assert group["weight"].sum() == pytest.approx(1)
    indicators = weights[weights["level"] == "indicator"]
    assert indicators["effective_weight"].sum() == pytest.approx(1)


def test_an_impossible_pair_of_options_is_named(demo: Store, tmp_path: Path) -> None:
    write(tmp_path / "small.csv", DATA)
    text = FRAMEWORK.format(imputation="mean").replace(
        "normalisations: [minmax, rank], aggregations: [arithmetic, copeland]",
        "normalisations: [minmax, zscore], aggregations: [arithmetic, geometric]",
    )
    with pytest.raises(
        InputError, match="steps.uncertainty: normalisation minmax with aggregation geometric: .* positive"
    ):
        build_index(demo, write(tmp_path / "small.yaml", text))
