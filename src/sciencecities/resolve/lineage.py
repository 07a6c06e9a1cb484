"""Institution roll-up through OpenAlex `lineage`: which top-level institutions each institution counts for
(Nature Index practice: a Chinese Academy of Sciences institute counts for CAS; geography never rolls up)."""

from __future__ import annotations

import pyarrow as pa

SCHEMA = pa.schema([("institution_id", pa.string()), ("parent_id", pa.string())])
"""One row per institution and top-level institution it counts for (itself when it has no parent)."""


def top_level(institutions: pa.Table) -> pa.Table:
    """Map every institution to the top-level institutions of its lineage.

    A top-level institution has no parent of its own: its lineage is empty or only itself, or it is not in
    the store (we cannot know its parents). An institution with two top-level ancestors (Argonne: the US
    Department of Energy and the University of Chicago) counts for both, so rolled-up Shares do not add up
    to the world's.
    """
    lineage = dict(
        zip(institutions["institution_id"].to_pylist(), institutions["lineage"].to_pylist(), strict=True)
    )

    def is_top(iid: str) -> bool:
        parents = lineage.get(iid)
        return parents is None or all(p == iid for p in parents)

    rows: list[tuple[str, str]] = []
    for iid, parents in lineage.items():
        ancestors = [p for p in dict.fromkeys(parents or []) if p != iid and is_top(p)]
        rows.extend((iid, p) for p in (ancestors or [iid]))
    return pa.table(
        {"institution_id": [r[0] for r in rows], "parent_id": [r[1] for r in rows]}, schema=SCHEMA
    )
