"""The ranking rule of DESIGN §4: Share rounded to 1e-9, then Count, then name; ties share a rank."""

from __future__ import annotations

import ibis
import pyarrow as pa

from sciencecities.rank.ranking import apply_ranking_rule


def _ranked(rows: list[tuple[str, str, int, float]]) -> list[tuple[str, int]]:
    table = ibis.memtable(pa.table({
        "id": [r[0] for r in rows], "name": [r[1] for r in rows],
        "count": pa.array([r[2] for r in rows], pa.int64()), "share": [r[3] for r in rows],
    }))
    out = apply_ranking_rule(table).to_pyarrow().to_pylist()
    return [(r["id"], r["rank"]) for r in out]


def test_ties_share_a_rank_and_skip_the_next() -> None:
    got = _ranked([("a", "Alpha", 3, 2.0), ("b", "Beta", 3, 2.0), ("c", "Gamma", 5, 1.0), ("d", "Delta", 9, 3.0)])
    assert got == [("d", 1), ("a", 2), ("b", 2), ("c", 4)]


def test_share_differences_below_1e9_are_ties_broken_by_count_then_name() -> None:
    x = 0.1 + 0.2
    got = _ranked([("a", "Zeta", 2, 0.3), ("b", "Alpha", 2, x), ("c", "Mid", 3, 0.3 - 1e-12)])
    assert got == [("c", 1), ("b", 2), ("a", 2)]


def test_real_share_difference_wins_over_count() -> None:
    got = _ranked([("a", "A", 100, 1.0), ("b", "B", 1, 1.000001)])
    assert got == [("b", 1), ("a", 2)]
