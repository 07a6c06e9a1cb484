"""Builds `institution_year` and `country_year`: Count and Share per entity and year, dedup-first."""

from __future__ import annotations

import ibis
from ibis import _


def institution_year(credit: ibis.Table) -> ibis.Table:
    """Count = works with the institution; Share = sum of its credit (credit is already one row per work)."""
    return credit.group_by(["institution_id", "year"]).agg(count=_.count(), share=_.share.sum())


def country_year(credit: ibis.Table, institutions: ibis.Table) -> ibis.Table:
    """Collapse credit to (work, country) first, then count distinct works and sum Share per country."""
    located = credit.join(institutions.select("institution_id", "country_code"), "institution_id", how="left")
    per_work = (
        located.filter(located.country_code.notnull())
        .group_by(["work_id", "year", "country_code"])
        .agg(share=_.share.sum())
    )
    return per_work.group_by(["country_code", "year"]).agg(count=_.count(), share=_.share.sum())


def unplaced_share(credit: ibis.Table, institutions: ibis.Table) -> ibis.Table:
    """Share per year of institutions without a country (left out of country tables; shown by audit)."""
    located = credit.join(institutions.select("institution_id", "country_code"), "institution_id", how="left")
    return located.filter(located.country_code.isnull()).group_by("year").agg(share=_.share.sum())
