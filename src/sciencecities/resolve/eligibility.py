"""Builds `eligible_works`: the works an edition counts, with year, weight and author counts."""

from __future__ import annotations

import ibis
from ibis import _

from sciencecities.editions import Edition


def eligible_works(works: ibis.Table, affiliations: ibis.Table, edition: Edition) -> ibis.Table:
    """One row per counted work: `year`, `weight` (1 for all-articles), `n_affiliated`, `n_authors`.

    n_affiliated is the number of authors with at least one institution (DESIGN §4: n_a).
    """
    rules = edition.eligibility
    keep = works.type.isin(list(rules.types)) & works.publication_year.notnull()
    if rules.exclude_retracted:
        keep &= ~works.is_retracted.fill_null(False)
    if rules.exclude_paratext:
        keep &= ~works.is_paratext.fill_null(False)
    affiliated = (
        affiliations.select("work_id", "author_position")
        .distinct()
        .group_by("work_id")
        .agg(n_affiliated=_.count())
    )
    chosen = works.filter(keep)
    return chosen.left_join(affiliated, "work_id").select(
        work_id=chosen.work_id,
        year=chosen.publication_year,
        weight=ibis.literal(1.0),
        n_affiliated=affiliated.n_affiliated.fill_null(0),
        n_authors=chosen.n_authors,
    )


def skipped_works(works: ibis.Table, edition: Edition) -> ibis.Table:
    """Works the edition does not count, one row each with the first reason that excludes it."""
    rules = edition.eligibility
    reason = ibis.cases(
        (works.type.isnull(), "type missing"),
        (~works.type.isin(list(rules.types)), "type " + works.type),
        (works.is_retracted.fill_null(False) & rules.exclude_retracted, "retracted"),
        (works.is_paratext.fill_null(False) & rules.exclude_paratext, "paratext"),
        (works.publication_year.isnull(), "no publication year"),
        else_=ibis.null("string"),
    )
    return works.select("work_id", reason=reason).filter(_.reason.notnull())
