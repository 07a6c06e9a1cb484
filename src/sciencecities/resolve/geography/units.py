"""Builds `institution_units` and `institution_groups`: the science city of every placed institution in each
boundary set, and the groups it is in (DESIGN §6: institution -> place -> science city -> country -> groups).

Geography always uses the institution as listed on the authorship, never its parent's headquarters.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sciencecities.resolve.geography.boundaries import BoundarySet, Groups
from sciencecities.resolve.geography.clusters import EARTH_RADIUS_KM, ClusterParams, find_clusters
from sciencecities.resolve.geography.gazetteer import Gazetteer
from sciencecities.resolve.geography.model import Place
from sciencecities.tables import INSTITUTION_GROUPS, INSTITUTION_UNITS, UNIT_POPULATION

GROUPS_REFERENCE = "metro"
"""The boundary set whose unit ids groups may list (the shipped groups name `metro` units), whatever set a
ranking or a locate uses: a group holds the same places under every boundary set."""

CLUSTERS = "clusters"
"""Name of the boundary set drawn from Share-weighted places (DBSCAN) rather than place by place."""


def placed(places: pa.Table, gazetteer: Gazetteer) -> tuple[list[str], list[Place]]:
    """The institutions of `institution_places` that have a place, and their gazetteer places, in order."""
    rows = places.filter(pc.is_valid(places["geonames_id"])).select(["institution_id", "geonames_id"])
    ids: list[str] = []
    found: list[Place] = []
    for iid, gid in zip(rows["institution_id"].to_pylist(), rows["geonames_id"].to_pylist(), strict=True):
        place = gazetteer.place(int(gid))
        if place is not None:
            ids.append(iid)
            found.append(place)
    return ids, found


def institution_units(places: pa.Table, gazetteer: Gazetteer, boundary_set: BoundarySet) -> pa.Table:
    """One row per placed institution: its unit in `boundary_set` and the rule that decided."""
    ids, found = placed(places, gazetteer)
    units = boundary_set.assign_many(found)
    return pa.Table.from_pydict(
        {
            "boundaries": [boundary_set.name] * len(ids),
            "institution_id": ids,
            "unit_id": [u.id for u in units],
            "unit_name": [u.name for u in units],
            "country_code": [u.country_code for u in units],
            "rule": [u.rule for u in units],
        },
        schema=INSTITUTION_UNITS.schema,
    )


def cluster_units(places: pa.Table, share: pa.Table, params: ClusterParams) -> tuple[pa.Table, pa.Table]:
    """Units of the `clusters` set: DBSCAN over places weighted by the summed Share of their institutions.

    `share` has institution_id and share (the edition's credit summed over all years). Returns the
    institution_units rows and the cluster summary (see `Clusters.clusters`). Institutions whose place carries
    no Share get no cluster: they hold nothing to count.
    """
    located = places.filter(pc.is_valid(places["geonames_id"])).join(
        share, "institution_id", join_type="left outer"
    )
    weights = located.group_by(
        ["geonames_id", "place_name", "place_country_code", "latitude", "longitude", "population"]
    ).aggregate([("share", "sum")])
    points = pa.table(
        {
            "id": weights["geonames_id"],
            "latitude": weights["latitude"],
            "longitude": weights["longitude"],
            "weight": pc.fill_null(weights["share_sum"], 0.0),
            "name": weights["place_name"],
            "country_code": weights["place_country_code"],
            "population": weights["population"],
        }
    )
    clusters = find_clusters(points, params)
    unit_of = clusters.units()
    rows = [
        (iid, unit_of[gid])
        for iid, gid in zip(
            located["institution_id"].to_pylist(), located["geonames_id"].to_pylist(), strict=True
        )
        if gid in unit_of
    ]
    table = pa.Table.from_pydict(
        {
            "boundaries": [CLUSTERS] * len(rows),
            "institution_id": [iid for iid, _ in rows],
            "unit_id": [u.id for _, u in rows],
            "unit_name": [u.name for _, u in rows],
            "country_code": [u.country_code for _, u in rows],
            "rule": [u.rule for _, u in rows],
        },
        schema=INSTITUTION_UNITS.schema,
    )
    return table, clusters.clusters


def institution_groups(
    places: pa.Table, gazetteer: Gazetteer, groups: Groups, reference: BoundarySet
) -> pa.Table:
    """One row per placed institution and group it is in; groups that list units use `reference`'s units
    (the shipped groups name `metro` units), whatever boundary set a ranking uses."""
    ids, found = placed(places, gazetteer)
    names = {g.id: g.name for g in groups.groups}
    rows = [
        (gid, names[gid], iid)
        for iid, place, unit in zip(ids, found, reference.assign_many(found), strict=True)
        for gid in groups.groups_of(unit, place)
    ]
    return pa.Table.from_pydict(
        {
            "group_id": [r[0] for r in rows],
            "group_name": [r[1] for r in rows],
            "institution_id": [r[2] for r in rows],
        },
        schema=INSTITUTION_GROUPS.schema,
    )


NOT_COUNTED = frozenset({"PPLX", "PPLH", "PPLQ", "PPLW", "PPLCH"})
"""GeoNames feature codes left out of populations: sections of a place (already in its total) and historical,
abandoned or destroyed places."""


def _population_rows(name: str, units: list[str | None], places: list[Place], source: str) -> pa.Table:
    totals: dict[str, list[int]] = {}
    for unit, place in zip(units, places, strict=True):
        if unit is None or place.feature_code in NOT_COUNTED:
            continue
        total = totals.setdefault(unit, [0, 0])
        total[0] += place.population
        total[1] += 1
    ordered = sorted(totals)
    return pa.Table.from_pydict(
        {
            "boundaries": [name] * len(ordered),
            "unit_id": ordered,
            "population": [totals[u][0] for u in ordered],
            "places": [totals[u][1] for u in ordered],
            "source": [source] * len(ordered),
        },
        schema=UNIT_POPULATION.schema,
    )


def unit_population(gazetteer: Gazetteer, boundary_set: BoundarySet, wanted: set[str]) -> pa.Table:
    """Population of the `wanted` units of a place-by-place set: the GeoNames populations of all their places
    summed (sections, historical and abandoned places left out). An approximation: GeoNames lists some city
    districts as places of their own (counted twice) and lacks others."""
    places = gazetteer.all_places()
    units = [u if u in wanted else None for u in _units_of_all(gazetteer, boundary_set)]
    return _population_rows(boundary_set.name, units, places, "geonames")


@functools.cache
def _units_of_all(gazetteer: Gazetteer, boundary_set: BoundarySet) -> tuple[str, ...]:
    """The unit id of every gazetteer place (cached: sets and gazetteer are immutable within a process)."""
    return tuple(u.id for u in boundary_set.assign_many(gazetteer.all_places()))


def cluster_population(
    gazetteer: Gazetteer, clustered: pa.Table, places: pa.Table, eps_km: float
) -> pa.Table:
    """Population of the `clusters` units: every GeoNames place within `eps_km` of a place of a cluster joins
    the nearest such cluster (as a DBSCAN border point would), then populations are summed."""
    from sklearn.neighbors import BallTree  # imported here: scikit-learn takes a second to import

    members = clustered.join(places.select(["institution_id", "geonames_id"]), "institution_id")
    point_unit = dict(zip(members["geonames_id"].to_pylist(), members["unit_id"].to_pylist(), strict=True))
    if not point_unit:
        return UNIT_POPULATION.schema.empty_table()
    points = [p for p in (gazetteer.place(g) for g in point_unit) if p is not None]
    tree = BallTree(np.radians([[p.latitude, p.longitude] for p in points]), metric="haversine")
    everywhere = gazetteer.all_places()
    distance, nearest = tree.query(gazetteer.radians(), k=1)
    near = np.flatnonzero(distance[:, 0] * EARTH_RADIUS_KM <= eps_km)
    units: list[str | None] = [None] * len(everywhere)
    for i in near:
        point = points[nearest[i, 0]]
        if everywhere[i].country_code == point.country_code:
            units[i] = point_unit[point.geonames_id]
    return _population_rows(CLUSTERS, units, everywhere, "geonames")


def concat_units(tables: Sequence[pa.Table]) -> pa.Table:
    """The units of every boundary set in one table, ordered by set and institution."""
    table = pa.concat_tables(tables) if tables else INSTITUTION_UNITS.schema.empty_table()
    return table.sort_by([("boundaries", "ascending"), ("institution_id", "ascending")])
