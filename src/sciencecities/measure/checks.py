"""Invariants checked on every build: Share conservation per work and per level, and Share <= Count."""

from __future__ import annotations

import ibis
from ibis import _

from sciencecities.errors import CheckError
from sciencecities.resolve.subjects import ALL

TOLERANCE = 1e-9


def expected_share(eligible: ibis.Table, *, count_unaffiliated: bool) -> ibis.Table:
    """What each eligible work must hand out: w, or w * affiliated / all authors under count_unaffiliated."""
    if count_unaffiliated:
        value = eligible.weight * eligible.n_affiliated.cast("float64") / eligible.n_authors.cast("float64")
    else:
        value = eligible.weight
    return eligible.filter(eligible.n_affiliated > 0).select("work_id", "year", expected=value)


def check_conservation(
    eligible: ibis.Table,
    credit: ibis.Table,
    work_subjects: ibis.Table,
    levels: dict[str, tuple[ibis.Table, ibis.Table | None]],
    *,
    count_unaffiliated: bool,
) -> dict[str, object]:
    """Raise CheckError naming the works whose institution Shares do not sum to their weight, or the level
    whose total per subject and year differs from the institutions' (less the Share it cannot place).
    `levels` maps a level name to its per-subject-year table and its unplaced-Share table (or None).
    """
    expected = expected_share(eligible, count_unaffiliated=count_unaffiliated)
    given = credit.group_by("work_id").agg(total=_.share.sum())
    joined = expected.join(given, "work_id", how="outer")
    bad = joined.filter(
        (joined.expected.fill_null(0.0) - joined.total.fill_null(0.0)).abs() > TOLERANCE
    ).select(
        work_id=ibis.coalesce(joined.work_id, joined.work_id_right),
        expected=joined.expected,
        total=joined.total,
    )
    broken = bad.order_by("work_id").limit(11).to_pyarrow().to_pylist()
    if broken:
        shown = ", ".join(f"{r['work_id']} ({r['total']} != {r['expected']})" for r in broken[:10])
        raise CheckError(
            f"Share conservation fails for {bad.count().to_pyarrow().as_py()} works: {shown}",
            "this is a bug in the metric code: please report it with these work ids",
        )
    overall = credit.mutate(subject=ibis.literal(ALL)).select("subject", "year", "share")
    by_subject = credit.join(work_subjects, "work_id").select("subject", "year", "share")
    per_year = overall.union(by_subject).group_by(["subject", "year"]).agg(total=_.share.sum())
    institution_total = {(r["subject"], r["year"]): r["total"] for r in per_year.to_pyarrow().to_pylist()}
    unplaced_total = 0.0
    for name, (table, unplaced) in levels.items():
        lost: dict[tuple[str, int], float] = {}
        if unplaced is not None:
            lost = {(r["subject"], r["year"]): r["share"] for r in unplaced.to_pyarrow().to_pylist()}
        unplaced_total = max(unplaced_total, sum(v for (s, _y), v in lost.items() if s == ALL))
        rows = table.group_by(["subject", "year"]).agg(total=_.share.sum(), over=(_.share - _["count"]).max())
        for row in rows.to_pyarrow().to_pylist():
            key = (row["subject"], row["year"])
            want = institution_total.get(key, 0.0) - lost.get(key, 0.0)
            if abs(row["total"] - want) > TOLERANCE * max(1.0, want):
                raise CheckError(
                    f"{name} Shares of {row['subject']} in {row['year']} sum to {row['total']}, "
                    f"institutions to {want}",
                    "this is a bug in the metric code: please report it",
                )
            if row["over"] > TOLERANCE:
                raise CheckError(
                    f"a {name} has Share > Count in {row['subject']} {row['year']}",
                    "this is a bug: please report it",
                )
    total = sum(v for (s, _y), v in institution_total.items() if s == ALL)
    return {
        "conservation": "ok",
        "works_checked": expected.count().to_pyarrow().as_py(),
        "total_share": total,
        "unplaced_share": unplaced_total,
    }
