"""Collaboration between entities (DESIGN §4): the articles two entities co-author, and their score.

The score of A and B is the sum, over the articles with both, of Share(a, A) + Share(a, B): it weighs an
article by what the pair itself contributed to it, so a 300-institution consortium paper counts for little.
"""

from __future__ import annotations

import ibis
from ibis import _

from sciencecities.resolve.subjects import ALL

COLUMNS = ("id_a", "id_b", "articles", "score", "share_a", "share_b")
"""The columns of `pairs`: one row per unordered pair, id_a < id_b."""


def pairs(
    credit: ibis.Table,
    work_subjects: ibis.Table,
    located: ibis.Table | None,
    key: str,
    subject: str,
    years: tuple[int, int] | None,
) -> ibis.Table:
    """Co-authored articles and collaboration score per pair of entities.

    Grain: one row per unordered pair (id_a < id_b) with at least one article of `subject` ('all' for every
    work) in `years` (inclusive; all when None) credited to both. `located` maps institution_id to `key` (None
    at the institution level, where `key` is institution_id); institutions whose `key` is null are left out.

    Dedup-first (DESIGN §7): credit is collapsed to one row per (work, entity) with the summed share, so two
    institutions of one city are not a pair of that city with itself, and a work counts once per pair. Then
    `articles` = the works with both, `share_a` and `share_b` = each side's Share summed over those works, and
    `score` = share_a + share_b.

    Examples
    --------
    >>> import ibis
    >>> import pyarrow as pa
    >>> credit = ibis.memtable(
    ...     pa.table({"work_id": ["W1"] * 3, "institution_id": ["I1", "I2", "I3"], "year": [2020] * 3,
    ...               "share": [0.5, 0.25, 0.25]})
    ... )
    >>> subjects = ibis.memtable(pa.table({"work_id": ["W1"], "subject": ["chemistry"]}))
    >>> located = ibis.memtable(
    ...     pa.table({"institution_id": ["I1", "I2", "I3"], "country_code": ["US", "US", "GB"]})
    ... )
    >>> pairs(credit, subjects, located, "country_code", "all", None).to_pyarrow().to_pylist()
    [{'id_a': 'GB', 'id_b': 'US', 'articles': 1, 'score': 1.0, 'share_a': 0.25, 'share_b': 0.75}]
    """
    rows = credit
    if years is not None:
        rows = rows.filter(rows.year.between(years[0], years[1]))
    if subject != ALL:
        chosen = work_subjects.filter(work_subjects.subject == subject)
        rows = rows.filter(rows.work_id.isin(chosen.work_id))
    if located is not None:
        joined = rows.join(located.select("institution_id", key), "institution_id")
        rows = joined.filter(joined[key].notnull())
    per_work = rows.group_by(["work_id", key]).agg(share=_.share.sum())
    side_a = per_work.select(work_a=_.work_id, id_a=_[key], share_a=_.share)
    side_b = per_work.select(work_b=_.work_id, id_b=_[key], share_b=_.share)
    both = side_a.join(side_b, [side_a.work_a == side_b.work_b, side_a.id_a < side_b.id_b])
    return both.group_by(["id_a", "id_b"]).agg(
        articles=_.count(),
        score=(_.share_a + _.share_b).sum(),
        share_a=_.share_a.sum(),
        share_b=_.share_b.sum(),
    )
