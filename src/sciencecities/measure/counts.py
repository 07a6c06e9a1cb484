"""Builds the per-level tables (`institution_year`, `country_year`) and `article_totals`, dedup-first.

Every table holds the overall rows (subject 'all') and one set of rows per subject: an article counts in each
subject table its journal (or topic) names, with its full weight (DESIGN §5).
"""

from __future__ import annotations

import ibis
from ibis import _

from sciencecities.resolve.subjects import ALL


def _with_subjects(rows: ibis.Table, work_subjects: ibis.Table) -> ibis.Table:
    """Each row once as subject 'all' and once per subject of its work."""
    overall = rows.mutate(subject=ibis.literal(ALL))
    by_subject = rows.join(work_subjects, "work_id")
    return overall.union(by_subject.select(*overall.columns))


def institution_year(credit: ibis.Table, work_subjects: ibis.Table) -> ibis.Table:
    """Count = works with the institution; Share = sum of its credit (credit is already one row per work)."""
    rows = _with_subjects(credit, work_subjects)
    return rows.group_by(["institution_id", "subject", "year"]).agg(count=_.count(), share=_.share.sum())


def located_year(credit: ibis.Table, work_subjects: ibis.Table, located: ibis.Table, key: str) -> ibis.Table:
    """Count and Share per `key` (a column of `located`, keyed by institution_id), subject and year.

    Collapses credit to (work, entity) first, so Count is distinct articles; institutions whose `key` is null
    are left out (see `unlocated_share`).
    """
    joined = credit.join(located.select("institution_id", key), "institution_id")
    per_work = (
        joined.filter(joined[key].notnull()).group_by(["work_id", "year", key]).agg(share=_.share.sum())
    )
    rows = _with_subjects(per_work, work_subjects)
    return rows.group_by([key, "subject", "year"]).agg(count=_.count(), share=_.share.sum())


def institution_countries(institutions: ibis.Table, places: ibis.Table) -> ibis.Table:
    """institution_id -> country: the institution's own country code, else the country of its place (an
    institution without a code but placed in Ottawa counts for Canada)."""
    joined = institutions.select("institution_id", "country_code").left_join(
        places.select("institution_id", "place_country_code"), "institution_id"
    )
    return joined.select(
        institutions.institution_id,
        country_code=ibis.coalesce(institutions.country_code, places.place_country_code),
    )


def country_year(credit: ibis.Table, work_subjects: ibis.Table, countries: ibis.Table) -> ibis.Table:
    """Count and Share per country (see `institution_countries`), subject and year."""
    return located_year(credit, work_subjects, countries, "country_code")


def unlocated_share(
    credit: ibis.Table, work_subjects: ibis.Table, located: ibis.Table, key: str
) -> ibis.Table:
    """Share per subject and year of institutions with no `key` (left out of that level; shown by audit)."""
    joined = credit.join(located.select("institution_id", key), "institution_id", how="left")
    lost = joined.filter(joined[key].isnull()).select("work_id", "year", "share")
    return _with_subjects(lost, work_subjects).group_by(["subject", "year"]).agg(share=_.share.sum())


def article_totals(eligible: ibis.Table, work_subjects: ibis.Table) -> ibis.Table:
    """N(y) per subject: eligible articles and their summed weight, the denominator of Adjusted Share."""
    rows = _with_subjects(eligible.select("work_id", "year", "weight"), work_subjects)
    return rows.group_by(["subject", "year"]).agg(articles=_.count(), weighted=_.weight.sum())
