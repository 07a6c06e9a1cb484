"""The `clusters` boundary set: bottom-up science clusters of Share-weighted points by DBSCAN (DESIGN §6).

The rule, as the WIPO Global Innovation Index builds its S&T clusters: a point is a *core* point when the
points within `eps_km` of it (great-circle distance, itself included) carry at least `min_share` of weight;
core points within `eps_km` of each other chain into one cluster, and a point within `eps_km` of a core point
joins that core point's cluster as a *border* point. Every other point is *noise*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from sciencecities.errors import InputError
from sciencecities.resolve.geography.model import Unit

__all__ = ["EARTH_RADIUS_KM", "ClusterParams", "Clusters", "find_clusters"]

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), to turn km into the radians the haversine metric works in."""

_SCHEMA = pa.schema(
    [
        ("id", pa.string()),  # or int64 when the ids are integers (GeoNames ids)
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("weight", pa.float64()),
        ("name", pa.string()),
        ("country_code", pa.string()),
        ("population", pa.int64()),
    ]
)
_SUMMARY = pa.schema(
    [
        ("unit_id", pa.string()),
        ("name", pa.string()),
        ("country_code", pa.string()),
        ("country_codes", pa.list_(pa.string())),
        ("kind", pa.string()),
        ("named_after", pa.string()),
        ("n_points", pa.int64()),
        ("weight", pa.float64()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
        ("radius_km", pa.float64()),
    ]
)
_CORE, _BORDER, _NOISE_UNIT = "dbscan core", "dbscan border", "dbscan noise, own unit"


@dataclass(frozen=True)
class ClusterParams:
    """The method of the `clusters` boundary set; the defaults are those of data/boundaries/clusters.yaml.

    eps_km: the neighbourhood radius. GII uses a radius of about 13 km on street-level inventor and author
    addresses; our points are institution places, often a city centroid, so a little more reach (15 km)
    lets a campus at the edge of a city meet its centre, while staying far below the distances between
    science cities that must stay apart (Boston-Providence 66 km, Oxford-London 82 km).
    min_share: the weight a core point's neighbourhood must reach, in the units of `weight`. None takes
    `min_fraction` of the total weight of the placed points instead, so that the threshold means the same
    for a one-year Nature-Index-sized edition and for ten years of all OpenAlex articles.
    min_fraction: 0.0005, i.e. 0.05% of world Share, about the Share of a city near the foot of a
    top-200 science-city table: a neighbourhood that dense is a science city in its own right.
    cross_borders: False keeps each cluster inside one country, so that a cluster's Share rolls up whole
    into its country (DESIGN §4 conservation at every level) and rankings that report countries stay
    consistent; True clusters across borders as GII does (Geneva with Annemasse) and records every country.
    noise_units: True makes each noise point a unit of its own, so that every placed Share lands in a unit;
    False leaves noise points unassigned with the reason "noise".
    """

    eps_km: float = 15.0
    min_share: float | None = None
    min_fraction: float = 0.0005
    cross_borders: bool = False
    noise_units: bool = True

    def __post_init__(self) -> None:
        """Refuse parameters that make DBSCAN meaningless."""
        if not self.eps_km > 0:
            raise InputError(f"eps_km must be positive, not {self.eps_km}", "give a radius in km, e.g. 15")
        if self.min_share is not None and not self.min_share > 0:
            raise InputError(f"min_share must be positive, not {self.min_share}", "give a Share, or None")
        if not 0 < self.min_fraction <= 1:
            raise InputError(f"min_fraction must be in (0, 1], not {self.min_fraction}", "e.g. 0.0005")


@dataclass(frozen=True)
class Clusters:
    """What find_clusters returns: one row per input point, one row per unit, and the method used.

    `assignments` (key id, sorted by id): id, weight, unit_id, unit_name, unit_country_code, rule,
    cluster_latitude, cluster_longitude, cluster_weight, and reason (null when assigned, else why not).
    `clusters` (key unit_id, by weight descending): unit_id, name, country_code, country_codes (every
    country, by weight), kind ("cluster" or "noise"), named_after (id of the naming point), n_points,
    weight, latitude and longitude (weighted centroid), radius_km (farthest point from the centroid).
    `min_share` is the threshold applied (params.min_share, or min_fraction of the placed weight).
    """

    assignments: pa.Table
    clusters: pa.Table
    params: ClusterParams
    min_share: float

    def units(self) -> dict[Any, Unit]:
        """Point id -> the Unit it falls in, for the points that have one."""
        rows = self.assignments.filter(pc.is_valid(self.assignments["unit_id"])).to_pylist()
        return {r["id"]: Unit(r["unit_id"], r["unit_name"], r["unit_country_code"], r["rule"]) for r in rows}


def find_clusters(points: pa.Table | pd.DataFrame, params: ClusterParams = ClusterParams()) -> Clusters:
    """Cluster Share-weighted points into the units of the `clusters` boundary set.

    `points` has the columns id, latitude, longitude, weight, name, country_code and population, one row
    per point with a unique id: typically a GeoNames place with the summed Share of its institutions.
    Points without coordinates, without weight > 0 or without a country are kept, unassigned, with a
    reason. A unit is named after its most populous point (population > 0), else its heaviest, then its
    lowest id; its id is `cluster-<country>-<id of that point>` and its country is the one holding most of
    its weight. Points are sorted by id before DBSCAN, so any row order gives the same result.
    """
    table = _canonical(points)
    lat = table["latitude"].to_numpy()
    lon = table["longitude"].to_numpy()
    weight = table["weight"].to_numpy()
    country = np.array(table["country_code"].to_pylist(), dtype=object)
    reason = _reasons(lat, lon, weight, country)
    placed = np.flatnonzero(pd.isna(reason))
    min_share = (
        params.min_share if params.min_share is not None else params.min_fraction * weight[placed].sum()
    )
    keys = np.array([str(i) for i in table["id"].to_pylist()], dtype=object)
    names = np.array(table["name"].to_pylist(), dtype=object)
    population = table["population"].to_pandas().to_numpy(float, na_value=0.0).clip(0)  # 0: unknown
    frame = pd.DataFrame(
        {
            "pos": placed,
            "lat": np.radians(lat[placed]),
            "lon": np.radians(lon[placed]),
            "weight": weight[placed],
            "country": country[placed],
            "population": population[placed],
            "key": keys[placed],
            "name": np.where(pd.isna(names), keys, names)[placed],
        }
    )
    frame["label"], frame["core"] = _dbscan(frame, params, float(min_share))
    noise = frame["label"].to_numpy() < 0
    if params.noise_units:
        frame.loc[noise, "label"] = frame["label"].max() + 1 + np.arange(int(noise.sum()))
    else:
        reason[frame["pos"].to_numpy()[noise]] = "noise"
    members = frame[frame["label"] >= 0].copy()
    units = _units(members)
    return Clusters(_assignments(table, reason, members, units), _summary(units), params, float(min_share))


def _canonical(points: pa.Table | pd.DataFrame) -> pa.Table:
    """The columns we use, cast to their types and sorted by id; ids must be unique and present."""
    table = pa.Table.from_pandas(points, preserve_index=False) if isinstance(points, pd.DataFrame) else points
    missing = [c for c in _SCHEMA.names if c not in table.column_names]
    if missing:
        raise InputError(f"points lack the columns {missing}", f"give the columns {_SCHEMA.names}")
    id_type = table.schema.field("id").type
    if pa.types.is_integer(id_type):
        schema = _SCHEMA.set(0, pa.field("id", pa.int64()))
    elif pa.types.is_string(id_type) or pa.types.is_large_string(id_type):
        schema = _SCHEMA
    else:
        raise InputError(
            f"point ids must be integers or text, not {id_type}", "use GeoNames or institution ids"
        )
    try:
        table = table.select(_SCHEMA.names).cast(schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"points do not fit the types {schema}: {exc}", "give numbers and text") from exc
    if table["id"].null_count or pc.count_distinct(table["id"]).as_py() != table.num_rows:
        raise InputError("point ids must be unique and not null", "sum the weight per point first")
    return table.take(pc.sort_indices(table, [("id", "ascending")]))


def _reasons(
    lat: NDArray[np.float64], lon: NDArray[np.float64], weight: NDArray[np.float64], country: NDArray[Any]
) -> NDArray[Any]:
    """Why each point cannot be clustered (the first reason that applies), None for the points that can."""
    checks = [
        (np.isnan(lat) | np.isnan(lon), "no coordinates"),
        (~((np.abs(lat) <= 90) & (np.abs(lon) <= 180)), "coordinates out of range"),
        (np.isnan(weight), "no weight"),
        (weight <= 0, "weight <= 0"),
        (np.array([not c for c in country], dtype=bool), "no country code"),
    ]
    reason = np.full(len(lat), None, dtype=object)
    for failed, why in reversed(checks):  # the first check that fails writes last and wins
        reason[failed] = why
    return reason


def _dbscan(
    frame: pd.DataFrame, params: ClusterParams, min_share: float
) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """DBSCAN labels (-1: noise) and core flags, run per country unless cross_borders, labels numbered across.

    scikit-learn takes an integer min_samples, so weights are divided by min_share and min_samples is 1:
    a neighbourhood is core when its summed weight / min_share >= 1, i.e. its Share >= min_share.
    """
    labels = np.full(len(frame), -1, dtype=np.intp)
    core = np.zeros(len(frame), dtype=bool)
    coords = frame[["lat", "lon"]].to_numpy()
    scaled = frame["weight"].to_numpy() / min_share
    groups = (
        np.zeros(len(frame), dtype=np.intp) if params.cross_borders else pd.factorize(frame["country"])[0]
    )
    from sklearn.cluster import DBSCAN  # imported here: scikit-learn takes a second to import

    model = DBSCAN(
        eps=params.eps_km / EARTH_RADIUS_KM, min_samples=1, metric="haversine", algorithm="ball_tree"
    )
    found = 0
    for rows in pd.Series(groups).groupby(groups).indices.values():
        fitted = model.fit(coords[rows], sample_weight=scaled[rows])
        group_labels = fitted.labels_
        labels[rows] = np.where(group_labels >= 0, group_labels + found, -1)
        core[rows[fitted.core_sample_indices_]] = True
        found += int(group_labels.max()) + 1
    return labels, core


def _units(members: pd.DataFrame) -> pd.DataFrame:
    """One row per unit: name, id and country from its members, total weight, weighted centroid, radius."""
    if members.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in _SUMMARY.names})
    w = members["weight"]
    members["x"] = w * np.cos(members["lat"]) * np.cos(members["lon"])
    members["y"] = w * np.cos(members["lat"]) * np.sin(members["lon"])
    members["z"] = w * np.sin(members["lat"])
    units = members.groupby("label").agg(
        weight=("weight", "sum"),
        n_points=("pos", "size"),
        n_core=("core", "sum"),
        x=("x", "sum"),
        y=("y", "sum"),
        z=("z", "sum"),
    )
    units["latitude"] = np.arctan2(units["z"], np.hypot(units["x"], units["y"]))
    units["longitude"] = np.arctan2(units["y"], units["x"])
    centre = units.loc[members["label"]]
    distance = _haversine_km(
        members["lat"].to_numpy(),
        members["lon"].to_numpy(),
        centre["latitude"].to_numpy(),
        centre["longitude"].to_numpy(),
    )
    units["radius_km"] = pd.Series(distance, index=members.index).groupby(members["label"]).max()
    namer = members.sort_values(
        ["label", "population", "weight", "pos"], ascending=[True, False, False, True]
    )
    namer = namer.drop_duplicates("label").set_index("label")
    by_country = members.groupby(["label", "country"], as_index=False)["weight"].sum()
    by_country = by_country.sort_values(["label", "weight", "country"], ascending=[True, False, True])
    starts = np.flatnonzero(np.diff(by_country["label"].to_numpy(), prepend=-1))
    units["country_codes"] = [list(c) for c in np.split(by_country["country"].to_numpy(), starts[1:])]
    units["country_code"] = units["country_codes"].str[0]
    units["named_after"] = namer["key"]
    units["name"] = namer["name"]
    units["unit_id"] = "cluster-" + units["country_code"] + "-" + units["named_after"]
    units["kind"] = np.where(units["n_core"] > 0, "cluster", "noise")
    units["latitude"] = np.degrees(units["latitude"])
    units["longitude"] = np.degrees(units["longitude"])
    return units


def _haversine_km(
    lat1: NDArray[np.float64], lon1: NDArray[np.float64], lat2: NDArray[np.float64], lon2: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Great-circle distance in km between points given in radians."""
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


def _assignments(
    table: pa.Table, reason: NDArray[Any], members: pd.DataFrame, units: pd.DataFrame
) -> pa.Table:
    """One row per input point, in id order: its Unit fields, its unit's centroid and weight, or why not."""
    n = table.num_rows
    unit = units.loc[members["label"]]
    pos = members["pos"].to_numpy()
    rule = np.where(members["core"], _CORE, np.where(unit["kind"] == "noise", _NOISE_UNIT, _BORDER))
    columns: dict[str, Any] = {"id": table["id"], "weight": table["weight"]}
    for name, values, kind in [
        ("unit_id", unit["unit_id"], pa.string()),
        ("unit_name", unit["name"], pa.string()),
        ("unit_country_code", unit["country_code"], pa.string()),
        ("rule", rule, pa.string()),
        ("cluster_latitude", unit["latitude"], pa.float64()),
        ("cluster_longitude", unit["longitude"], pa.float64()),
        ("cluster_weight", unit["weight"], pa.float64()),
    ]:
        column = np.full(n, None, dtype=object)
        column[pos] = np.asarray(values)
        columns[name] = pa.array(column, kind)
    columns["reason"] = pa.array(reason, pa.string())
    return pa.table(columns)


def _summary(units: pd.DataFrame) -> pa.Table:
    """One row per unit, heaviest first (ties by unit id)."""
    ordered = units.sort_values(["weight", "unit_id"], ascending=[False, True])
    return pa.Table.from_pandas(ordered[_SUMMARY.names], schema=_SUMMARY, preserve_index=False)
