"""Institution roll-up through lineage: the parent map and the rolled-up ranking."""

from __future__ import annotations

import math
from collections import defaultdict

import pyarrow as pa

from sciencecities import Store, rank
from sciencecities.resolve.lineage import SCHEMA, top_level


def test_each_institution_counts_for_its_top_level_ancestors() -> None:
    institutions = pa.Table.from_pylist(
        [
            {"institution_id": "CAS", "lineage": ["CAS"]},
            {"institution_id": "USTC", "lineage": ["USTC", "CAS"]},
            {"institution_id": "IOP", "lineage": ["IOP", "CAS"]},
            {"institution_id": "OSC", "lineage": ["OSC", "DOE"]},  # DOE not in the store: top-level
            {"institution_id": "ANL", "lineage": ["ANL", "DOE", "OSC", "UCHI"]},
            {"institution_id": "UCHI", "lineage": None},
            {"institution_id": "LONE", "lineage": []},
        ]
    )
    mapped = top_level(institutions)
    assert mapped.schema == SCHEMA
    parents = defaultdict(set)
    for row in mapped.to_pylist():
        parents[row["institution_id"]].add(row["parent_id"])
    assert parents == {
        "CAS": {"CAS"},
        "USTC": {"CAS"},
        "IOP": {"CAS"},
        "OSC": {"DOE"},
        "ANL": {"DOE", "UCHI"},  # OSC has a parent itself, so it is not top-level
        "UCHI": {"UCHI"},
        "LONE": {"LONE"},
    }


def test_rolled_up_share_is_the_childrens_sum_and_count_is_distinct_articles(demo: Store) -> None:
    edition = "all-articles"
    plain = {r["id"]: r for r in rank(demo, level="institution", edition=edition).table.to_pylist()}
    rolled = {r["id"]: r for r in rank(demo, level="institution", edition=edition, rollup=True).table.to_pylist()}
    mapped = top_level(demo.read("institutions"))
    children: dict[str, list[str]] = defaultdict(list)
    for row in mapped.to_pylist():
        if row["institution_id"] in plain:
            children[row["parent_id"]].append(row["institution_id"])
    assert set(rolled) == set(children)
    families = 0
    for parent, kids in children.items():
        assert math.isclose(rolled[parent]["share"], sum(plain[k]["share"] for k in kids), rel_tol=1e-12)
        counts = [plain[k]["count"] for k in kids]
        assert max(counts) <= rolled[parent]["count"] <= sum(counts)
        families += len(kids) > 1
    assert families > 0  # the sample has parents with several children: the test can see a roll-up
