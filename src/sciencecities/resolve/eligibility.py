"""Builds `eligible_works`: the works an edition counts, with year, weight, journal and author counts."""

from __future__ import annotations

import ibis
from ibis import _

from sciencecities.editions import Edition
from sciencecities.resolve import subjects


def _basic_rules(works: ibis.Table, edition: Edition) -> ibis.Value:
    rules = edition.eligibility
    keep = works.type.isin(list(rules.types)) & works.publication_year.notnull()
    if rules.exclude_retracted:
        keep &= ~works.is_retracted.fill_null(False)
    if rules.exclude_paratext:
        keep &= ~works.is_paratext.fill_null(False)
    return keep


def _in_journals(works: ibis.Table, journal_sources: ibis.Table) -> ibis.Table:
    """Works with the journal (or null) their source matched, and the topic ids used for subject routing."""
    matched = works.left_join(journal_sources.select("source_id", "journal"), "source_id")
    return matched.select(
        *[matched[c] for c in works.columns],
        journal=matched.journal,
        field=matched.primary_topic_field,
        domain=matched.primary_topic_domain,
    )


def eligible_works(
    works: ibis.Table, affiliations: ibis.Table, journal_sources: ibis.Table, edition: Edition
) -> ibis.Table:
    """One row per counted work: year, weight, source_id, journal, n_affiliated and n_authors.

    n_affiliated is the number of authors with at least one institution (DESIGN §4: n_a). With a journal
    set, only works of its journals count; flagged-only journals only when `include_flagged`; articles of
    multidisciplinary journals only when their topic is inside the edition's subjects (or unclassified).
    The weight is 1, or `astronomy_weight` for astronomy journals under the legacy weighted method.
    """
    chosen = _in_journals(works, journal_sources)
    chosen = chosen.filter(_basic_rules(chosen, edition))
    weight = ibis.literal(1.0)
    if edition.has_journal_list:
        chosen = chosen.filter(chosen.journal.notnull())
        if not edition.eligibility.include_flagged and edition.eligibility.flagged_only_journals:
            chosen = chosen.filter(~chosen.journal.isin(list(edition.eligibility.flagged_only_journals)))
        chosen = chosen.anti_join(subjects.outside_subjects(chosen, edition), "work_id")
        if edition.weights.legacy and edition.weights.astronomy_journals:
            astronomy = chosen.journal.isin(list(edition.weights.astronomy_journals))
            weight = astronomy.ifelse(edition.weights.astronomy_weight, 1.0)
    affiliated = (
        affiliations.select("work_id", "author_position")
        .distinct()
        .group_by("work_id")
        .agg(n_affiliated=_.count())
    )
    joined = chosen.left_join(affiliated, "work_id")
    return joined.select(
        work_id=chosen.work_id,
        year=chosen.publication_year,
        weight=weight.cast("float64"),
        source_id=chosen.source_id,
        journal=chosen.journal,
        n_affiliated=affiliated.n_affiliated.fill_null(0),
        n_authors=chosen.n_authors,
    )


def skipped_works(works: ibis.Table, journal_sources: ibis.Table, edition: Edition) -> ibis.Table:
    """Works the edition does not count, one row each with the first reason that excludes it."""
    rules = edition.eligibility
    placed = _in_journals(works, journal_sources)
    outside = subjects.outside_subjects(placed.filter(placed.journal.notnull()), edition)
    placed = placed.left_join(outside, "work_id")
    cases = [
        (placed.type.isnull(), ibis.literal("type missing")),
        (~placed.type.isin(list(rules.types)), "type " + placed.type),
        (placed.is_retracted.fill_null(False) & rules.exclude_retracted, ibis.literal("retracted")),
        (placed.is_paratext.fill_null(False) & rules.exclude_paratext, ibis.literal("paratext")),
        (placed.publication_year.isnull(), ibis.literal("no publication year")),
    ]
    if edition.has_journal_list:
        flagged = list(rules.flagged_only_journals) if not rules.include_flagged else []
        cases += [
            (placed.source_id.isnull(), ibis.literal("no source")),
            (placed.journal.isnull(), ibis.literal("source not in the journal set")),
            (placed.journal.isin(flagged), "flagged-only journal " + placed.journal),
            (placed.route.notnull(), "outside the edition's subjects (" + placed.route + ")"),
        ]
    reason = ibis.cases(*cases, else_=ibis.null("string"))
    return placed.select("work_id", reason=reason).filter(_.reason.notnull())
