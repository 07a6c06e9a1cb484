"""The `clusters` boundary set: DBSCAN on Share-weighted places, haversine distances, no point lost.

Expected values are worked out by hand in the comments. On the equator one degree of longitude is
6371.0088 km * pi / 180 = 111.195 km, so 0.05 deg = 5.56 km, 0.1 deg = 11.12 km and 0.2 deg = 22.24 km;
with eps 15 km, points 0.1 deg apart are neighbours and points 0.2 deg apart are not. Away from the equator
a degree of longitude is 111.195 km * cos(latitude).
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import yaml

from sciencecities.errors import InputError
from sciencecities.resolve.geography.clusters import ClusterParams, Clusters, find_clusters
from sciencecities.resolve.geography.model import Unit

Row = tuple[Any, float | None, float | None, float | None, str | None, str | None, int | None]


def _points(rows: list[Row]) -> pa.Table:
    """A points table from (id, latitude, longitude, weight, name, country_code, population) rows."""
    columns = ["id", "latitude", "longitude", "weight", "name", "country_code", "population"]
    types = [pa.int64(), pa.float64(), pa.float64(), pa.float64(), pa.string(), pa.string(), pa.int64()]
    return pa.table(
        {c: pa.array([r[i] for r in rows], t) for i, (c, t) in enumerate(zip(columns, types, strict=True))}
    )


def _on_equator(lons_weights: list[tuple[float, float]], country: str = "EC") -> pa.Table:
    """Points 1, 2, ... on the equator at the given longitudes and weights, no population known."""
    return _points([(i, 0.0, lon, w, f"p{i}", country, None) for i, (lon, w) in enumerate(lons_weights, 1)])


def _unit_of(result: Clusters) -> dict[Any, str | None]:
    """Point id -> unit id (None when unassigned)."""
    return dict(
        zip(result.assignments["id"].to_pylist(), result.assignments["unit_id"].to_pylist(), strict=True)
    )


def _params(min_share: float, **kwargs: Any) -> ClusterParams:
    """eps 15 km and an explicit min_share, so that the tests do not depend on the total weight."""
    return ClusterParams(eps_km=15.0, min_share=min_share, **kwargs)


def test_two_separated_groups_give_two_clusters() -> None:
    # Pairs 5.56 km apart, the pairs 105 km apart. Each point's neighbourhood is its pair:
    # 0.75 + 1.25 = 2 >= 2. Naming by weight (no population): the heavier point of each pair, 2 and 3.
    pts = _on_equator([(0.0, 0.75), (0.05, 1.25), (1.0, 1.25), (1.05, 0.75)])
    result = find_clusters(pts, _params(2.0))
    assert _unit_of(result) == {1: "cluster-EC-2", 2: "cluster-EC-2", 3: "cluster-EC-3", 4: "cluster-EC-3"}
    summary = result.clusters.to_pylist()
    assert [(c["unit_id"], c["kind"], c["n_points"]) for c in summary] == [
        ("cluster-EC-2", "cluster", 2),
        ("cluster-EC-3", "cluster", 2),
    ]  # equal weights (2.0 each): ordered by unit id
    assert [c["weight"] for c in summary] == pytest.approx([2.0, 2.0])


def test_points_chained_within_eps_join_one_cluster_though_the_ends_are_farther_apart() -> None:
    # DBSCAN chaining: 4 points 11.12 km apart. Each has a neighbour within 15 km, so each neighbourhood
    # weighs at least 1 + 1 = 2 = min_share and every point is core; core points within eps of each other
    # share a cluster, so all four are one cluster although points 1 and 4 are 33.4 km apart (> eps).
    result = find_clusters(_on_equator([(0.0, 1.0), (0.1, 1.0), (0.2, 1.0), (0.3, 1.0)]), _params(2.0))
    assert set(_unit_of(result).values()) == {"cluster-EC-1"}  # equal weights: the lowest id names it
    assert result.clusters["n_points"].to_pylist() == [4]
    assert set(result.assignments["rule"].to_pylist()) == {"dbscan core"}


def test_a_heavy_point_forms_a_cluster_alone_and_light_isolated_points_are_noise() -> None:
    # Point 1 weighs 5 = min_share: core by itself. Points 2 and 3 (1 each) are 111 km away from everything.
    pts = _on_equator([(0.0, 5.0), (1.0, 1.0), (2.0, 1.0)])
    result = find_clusters(pts, _params(5.0))
    rows = {r["unit_id"]: r for r in result.clusters.to_pylist()}
    assert rows["cluster-EC-1"]["kind"] == "cluster" and rows["cluster-EC-1"]["n_points"] == 1
    assert rows["cluster-EC-2"]["kind"] == "noise" and rows["cluster-EC-3"]["kind"] == "noise"
    assert result.assignments["rule"].to_pylist() == [
        "dbscan core",
        "dbscan noise, own unit",
        "dbscan noise, own unit",
    ]

    kept_apart = find_clusters(pts, _params(5.0, noise_units=False))
    assert _unit_of(kept_apart) == {1: "cluster-EC-1", 2: None, 3: None}
    assert kept_apart.assignments["reason"].to_pylist() == [None, "noise", "noise"]
    assert kept_apart.clusters["unit_id"].to_pylist() == ["cluster-EC-1"]


@pytest.mark.parametrize(("weight", "clusters"), [(1.0, 2), (0.5, 0)])
def test_weight_decides_density_same_geometry(weight: float, clusters: int) -> None:
    # The geometry of the two-groups test. Weight 1: each pair weighs 2 = min_share, two clusters.
    # Weight 0.5: each pair weighs 1 < 2, no core point, so no cluster; every point is a noise unit.
    pts = _on_equator([(0.0, weight), (0.05, weight), (1.0, weight), (1.05, weight)])
    kinds = find_clusters(pts, _params(2.0)).clusters["kind"].to_pylist()
    assert kinds.count("cluster") == clusters
    assert kinds.count("noise") == 4 - 2 * clusters


def test_a_border_point_joins_the_cluster_of_a_core_point_deterministically() -> None:
    # min_share 2. Neighbourhoods (11.12 km steps; 22.24 km is out of reach), as sums of weights:
    # 1 @-0.1: 1.5+0.5 = 2 core; 2 @0: 1.5+0.5+0.25 = 2.25 core; 3 @0.1: 0.5+0.25+0.5 = 1.25, not core;
    # 4 @0.2: 2.25 core; 5 @0.3: 2 core. Cores 2 and 4 are 22 km apart: two clusters, and point 3 is a
    # border point of both. It goes to the cluster reached first in id order, {1, 2}, named after 1 (heavier).
    # The weights and weight / min_share are exact binary fractions: no rounding touches the threshold.
    pts = _on_equator([(-0.1, 1.5), (0.0, 0.5), (0.1, 0.25), (0.2, 0.5), (0.3, 1.5)])
    result = find_clusters(pts, _params(2.0))
    assert _unit_of(result) == {
        1: "cluster-EC-1",
        2: "cluster-EC-1",
        3: "cluster-EC-1",
        4: "cluster-EC-5",
        5: "cluster-EC-5",
    }
    assert result.assignments["rule"].to_pylist()[2] == "dbscan border"
    for order in ([4, 2, 0, 3, 1], [2, 4, 3, 1, 0]):
        assert find_clusters(pts.take(order), _params(2.0)).assignments.equals(result.assignments)


def test_clusters_join_across_the_antimeridian_by_haversine_distance() -> None:
    # 179.95 and -179.95 are 0.1 deg = 11.12 km apart over the antimeridian; as plain (lat, lon) numbers
    # they would be 359.9 deg apart. 1 + 1 = 2 = min_share: one cluster, centred on lon 180, radius 5.56 km.
    result = find_clusters(_on_equator([(179.95, 1.0), (-179.95, 1.0)], country="FJ"), _params(2.0))
    (cluster,) = result.clusters.to_pylist()
    assert cluster["n_points"] == 2
    assert abs(cluster["longitude"]) == pytest.approx(180.0)
    assert cluster["latitude"] == pytest.approx(0.0, abs=1e-9)
    assert cluster["radius_km"] == pytest.approx(5.56, abs=0.01)


def test_clusters_stay_inside_borders_unless_asked() -> None:
    # Geneva (CH) and Annemasse (FR): dlat 0.00783 deg = 0.87 km, dlon 0.09206 deg * cos(46.2) = 7.09 km,
    # so 7.1 km apart. min_share 20. Per country: Geneva 300 alone is core; Annemasse 10 alone is noise.
    # Across borders: each neighbourhood weighs 310, one cluster named Geneva (more populous), mostly CH.
    pts = _points(
        [
            (2660646, 46.20222, 6.14569, 300.0, "Geneva", "CH", 201741),
            (3037538, 46.19439, 6.23775, 10.0, "Annemasse", "FR", 28275),
        ]
    )
    apart = find_clusters(pts, _params(20.0))
    assert _unit_of(apart) == {2660646: "cluster-CH-2660646", 3037538: "cluster-FR-3037538"}
    assert apart.clusters["kind"].to_pylist() == ["cluster", "noise"]

    joined = find_clusters(pts, _params(20.0, cross_borders=True))
    (cluster,) = joined.clusters.to_pylist()
    assert (cluster["unit_id"], cluster["name"], cluster["country_code"]) == (
        "cluster-CH-2660646",
        "Geneva",
        "CH",
    )
    assert cluster["country_codes"] == ["CH", "FR"]
    assert cluster["weight"] == pytest.approx(310.0)


def test_a_cluster_is_named_after_its_most_populous_place_else_its_heaviest() -> None:
    # Boston and Cambridge, MA are 4.2 km apart (dlat 1.85 km, dlon 0.04584 deg * 82.16 km = 3.77 km).
    # Cambridge carries more Share, Boston more people: the cluster is Boston. With no population known
    # (null, or GeoNames' 0 for unknown) it is named after the heavier Cambridge.
    def pts(boston_population: int | None, cambridge_population: int | None) -> pa.Table:
        return _points(
            [
                (4930956, 42.35843, -71.05977, 600.0, "Boston", "US", boston_population),
                (4931972, 42.3751, -71.10561, 1100.0, "Cambridge", "US", cambridge_population),
            ]
        )

    by_population = find_clusters(pts(653833, 110402), _params(100.0)).clusters.to_pylist()[0]
    assert (by_population["unit_id"], by_population["name"]) == ("cluster-US-4930956", "Boston")
    assert by_population["named_after"] == "4930956"
    for unknown in (None, 0):
        by_weight = find_clusters(pts(unknown, unknown), _params(100.0)).clusters.to_pylist()[0]
        assert (by_weight["unit_id"], by_weight["name"]) == ("cluster-US-4931972", "Cambridge")


def test_centroid_is_weighted_and_radius_reaches_the_farthest_point() -> None:
    # Weights 1 at lon 0 and 3 at lon 0.1: centroid at lon atan2(3 sin 0.1, 1 + 3 cos 0.1) ~ 0.075 deg,
    # which is 0.075 * 111.195 = 8.34 km from the lighter point (the farther one). 1 + 3 = 4 = min_share.
    (cluster,) = find_clusters(_on_equator([(0.0, 1.0), (0.1, 3.0)]), _params(4.0)).clusters.to_pylist()
    assert cluster["longitude"] == pytest.approx(0.075, rel=1e-4)
    assert cluster["radius_km"] == pytest.approx(8.34, abs=0.01)
    assert cluster["weight"] == pytest.approx(4.0)


# Boston-area and Rhode Island places with real GeoNames coordinates and populations, weighted with
# plausible yearly Shares of the institutions there (Harvard and MIT in Cambridge, Tufts in Medford,
# Brandeis in Waltham, UMass Chan and WPI in Worcester, Brown in Providence, URI in Kingston, Woods Hole in
# Falmouth).
_NEW_ENGLAND: list[Row] = [
    (4930956, 42.35843, -71.05977, 600.0, "Boston", "US", 653833),
    (4931972, 42.3751, -71.10561, 1100.0, "Cambridge", "US", 110402),
    (4943629, 42.41843, -71.10616, 40.0, "Medford", "US", 57403),
    (4954380, 42.37649, -71.23561, 30.0, "Waltham", "US", 60632),
    (4956184, 42.26259, -71.80229, 25.0, "Worcester", "US", 181045),
    (5224151, 41.82399, -71.41283, 150.0, "Providence", "US", 190934),
    (5223006, 41.48038, -71.52256, 20.0, "Kingston", "US", 6974),
    (4936174, 41.5515, -70.61475, 45.0, "Falmouth", "US", 3799),
]


def test_boston_cambridge_cluster_and_providence_60_km_away_stays_apart() -> None:
    # eps 15 km, min_share 100. One degree of longitude at 42.4 N is 82.2 km. From Cambridge (1100):
    # Boston 4.2 km, Medford 4.8 km (dlat 0.04333 deg), Waltham 10.7 km (dlon 0.13 deg): all four are core
    # (their neighbourhoods hold Cambridge) and form one cluster of 1770, named Boston (most populous).
    # Providence is 66 km from Boston (dlat 59.4 km, dlon 29.1 km): alone, 150 >= 100, a cluster of one.
    # Worcester (48 km from Waltham, 25), Kingston (39 km from Providence, 20) and Falmouth (45) have no
    # neighbour and less than 100: noise, each its own unit.
    result = find_clusters(_points(_NEW_ENGLAND), _params(100.0))
    summary = [(c["unit_id"], c["name"], c["kind"], c["n_points"]) for c in result.clusters.to_pylist()]
    assert summary == [
        ("cluster-US-4930956", "Boston", "cluster", 4),
        ("cluster-US-5224151", "Providence", "cluster", 1),
        ("cluster-US-4936174", "Falmouth", "noise", 1),
        ("cluster-US-4956184", "Worcester", "noise", 1),
        ("cluster-US-5223006", "Kingston", "noise", 1),
    ]
    assert result.clusters["weight"].to_pylist() == pytest.approx([1770.0, 150.0, 45.0, 25.0, 20.0])
    units = result.units()
    assert units[4931972] == Unit("cluster-US-4930956", "Boston", "US", "dbscan core")
    assert units[4954380] == units[4943629] == units[4931972]
    assert units[5224151] == Unit("cluster-US-5224151", "Providence", "US", "dbscan core")


def test_min_fraction_sets_the_threshold_from_the_total_weight() -> None:
    # Total 2010 * 0.0005 = 1.005: every New England place is dense enough alone, so all are clusters.
    result = find_clusters(_points(_NEW_ENGLAND), ClusterParams(eps_km=15.0))
    assert result.min_share == pytest.approx(1.005)
    assert result.clusters["kind"].to_pylist() == ["cluster"] * 5


def test_same_points_in_any_row_order_or_as_pandas_give_the_same_result() -> None:
    pts = _points(_NEW_ENGLAND)
    expected = find_clusters(pts, _params(100.0))
    for order in ([7, 6, 5, 4, 3, 2, 1, 0], [3, 0, 6, 1, 7, 2, 5, 4]):
        shuffled = find_clusters(pts.take(order), _params(100.0))
        assert shuffled.assignments.equals(expected.assignments)
        assert shuffled.clusters.equals(expected.clusters)
    assert find_clusters(pts.to_pandas(), _params(100.0)).clusters.equals(expected.clusters)


def test_points_that_cannot_be_clustered_are_reported_not_dropped() -> None:
    pts = _points(
        [
            (1, None, 10.0, 1.0, "no latitude", "EC", None),
            (2, 95.0, 10.0, 1.0, "beyond the pole", "EC", None),
            (3, 0.0, 10.0, None, "no weight", "EC", None),
            (4, 0.0, 10.0, 0.0, "zero weight", "EC", None),
            (5, 0.0, 10.0, -1.0, "negative weight", "EC", None),
            (6, 0.0, 10.0, 1.0, "no country", None, None),
            (7, 0.0, 10.0, 1.0, "placed", "EC", None),
        ]
    )
    result = find_clusters(pts, _params(1.0))
    assert result.assignments.num_rows == 7
    assert result.assignments["reason"].to_pylist() == [
        "no coordinates",
        "coordinates out of range",
        "no weight",
        "weight <= 0",
        "weight <= 0",
        "no country code",
        None,
    ]
    assert _unit_of(result) == {1: None, 2: None, 3: None, 4: None, 5: None, 6: None, 7: "cluster-EC-7"}
    assert result.assignments["weight"].to_pylist() == [1.0, 1.0, None, 0.0, -1.0, 1.0, 1.0]


def test_longitude_nan_from_pandas_counts_as_missing() -> None:
    frame = _points([(1, 0.0, 0.0, 1.0, "a", "EC", None)]).to_pandas()
    frame.loc[0, "longitude"] = float("nan")
    assert find_clusters(frame, _params(1.0)).assignments["reason"].to_pylist() == ["no coordinates"]


@pytest.mark.parametrize(
    "change",
    [
        {"eps_km": 0.0},
        {"min_share": 0.0},
        {"min_fraction": 0.0},
        {"min_fraction": 1.5},
    ],
)
def test_meaningless_parameters_are_refused(change: dict[str, float]) -> None:
    with pytest.raises(InputError):
        ClusterParams(**change)


def test_duplicate_ids_and_missing_columns_are_refused() -> None:
    with pytest.raises(InputError, match="unique"):
        find_clusters(_on_equator([(0.0, 1.0)]).take([0, 0]), _params(1.0))
    with pytest.raises(InputError, match="population"):
        find_clusters(_on_equator([(0.0, 1.0)]).drop_columns(["population"]), _params(1.0))


def test_shipped_boundary_file_states_the_code_defaults() -> None:
    text = resources.files("sciencecities").joinpath("data/boundaries/clusters.yaml").read_text("utf-8")
    spec = yaml.safe_load(text)
    assert spec["name"] == "clusters"
    assert (spec["method"]["algorithm"], spec["method"]["metric"]) == ("DBSCAN", "haversine")
    assert ClusterParams(**spec["parameters"]) == ClusterParams()
    assert spec["method"]["earth_radius_km"] == pytest.approx(6371.0088)


def test_string_ids_work_and_give_string_keys() -> None:
    # Institution ids instead of GeoNames ids: same rule, ids kept as text.
    pts = pd.DataFrame(
        {
            "id": ["I2", "I1"],
            "latitude": [0.0, 0.0],
            "longitude": [0.0, 0.05],
            "weight": [1.0, 1.0],
            "name": ["Second", None],
            "country_code": ["EC", "EC"],
            "population": pd.array([None, None], dtype="Int64"),
        }
    )
    result = find_clusters(pts, _params(2.0))
    # Equal weights, no population: the lowest id, I1, names the cluster; it has no name, so its id does.
    assert _unit_of(result) == {"I1": "cluster-EC-I1", "I2": "cluster-EC-I1"}
    assert result.clusters["name"].to_pylist() == ["I1"]
    assert math.isclose(result.clusters["radius_km"][0].as_py(), 2.78, abs_tol=0.01)
