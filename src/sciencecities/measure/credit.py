"""Builds `credit`: each eligible work's weight split over its institutions (DESIGN §4, Share)."""

from __future__ import annotations

import ibis
from ibis import _


def credit(eligible: ibis.Table, affiliations: ibis.Table, *, count_unaffiliated: bool = False) -> ibis.Table:
    """One row per (work, institution): share = sum over its authors i of w / (n_a * |I_i|).

    n_a counts the authors with an institution, or all authors when `count_unaffiliated` (the
    unaffiliated authors' share is then lost). Works without an affiliated author get no rows.
    """
    per_author = affiliations.group_by(["work_id", "author_position"]).agg(n_institutions=_.count())
    rows = affiliations.join(per_author, ["work_id", "author_position"]).join(eligible, "work_id")
    n_a = rows.n_authors if count_unaffiliated else rows.n_affiliated
    piece = rows.weight / (n_a.cast("float64") * rows.n_institutions.cast("float64"))
    return rows.mutate(piece=piece).group_by(["work_id", "institution_id", "year"]).agg(share=_.piece.sum())
