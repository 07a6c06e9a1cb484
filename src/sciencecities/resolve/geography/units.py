"""Builds `institution_units` and `institution_groups`: the science city of every placed institution in each
boundary set, and the groups it is in (DESIGN §6: institution -> place -> science city -> country -> groups).

Geography always uses the institution as listed on the authorship, never its parent's headquarters.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from sciencecities.resolve.geography.boundaries import BoundarySet, Groups
from sciencecities.resolve.geography.clusters import ClusterParams, find_clusters
from sciencecities.resolve.geography.gazetteer import Gazetteer
from sciencecities.resolve.geography.model import Place
from sciencecities.tables import INSTITUTION_GROUPS, INSTITUTION_UNITS

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


def concat_units(tables: Sequence[pa.Table]) -> pa.Table:
    """The units of every boundary set in one table, ordered by set and institution."""
    table = pa.concat_tables(tables) if tables else INSTITUTION_UNITS.schema.empty_table()
    return table.sort_by([("boundaries", "ascending"), ("institution_id", "ascending")])
