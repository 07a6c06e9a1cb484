"""Size-independent indicators: Share per article, international and company co-authorship, MNCS and
PP(top 10%), per entity over a window of years (issue 10, point 3), dedup-first like `counts`.

Definitions (grain: one row per entity; the same eligible articles as its Count and Share):

- **share_per_article** = Share / Count: the entity's average fractional credit on its articles.
- **international_fraction** = (articles of the entity whose institutions lie in two or more countries) /
  Count. The countries are those of *all* institutions on the article (`counts.institution_countries`:
  the institution's country code, else its place's), not only the entity's own; institutions without a
  country are ignored, so an article with one known country is not international.
- **company_fraction** = (articles of the entity with at least one institution of OpenAlex type
  ``company`` among all institutions on the article) / Count.
  Both proportions count articles fully (an article counts 1 in the numerator and in Count whatever the
  entity's Share on it), as the Leiden Ranking's collaboration indicators do.
- **Normalised citation score** of a work, ``ncs = c / mean(c)``: its OpenAlex ``cited_by_count`` over the
  mean ``cited_by_count`` of the edition's eligible works with the same ``primary_topic_subfield`` and
  publication year (its field-year). The reference set is the edition's eligible works (for a journal-list
  edition: the works of those journals, not all of OpenAlex), whatever the subject and window asked for.
  Left out of all citation indicators: works without a subfield, works without ``cited_by_count``, and
  the works of a field-year whose mean is zero (no work in it is cited, so nothing can be normalised).
  ``cited_by_count`` counts citations up to the snapshot (the store keeps no ``counts_by_year``), so the
  citation window is open-ended; it is about the same for the works of one field-year, which are compared.
- **Top 10% weight** of a work within its field-year of N scored works: with ``above`` the number of works
  cited strictly more and ``tied`` the number cited exactly as often (itself included),
  ``top10 = clip((N / 10 - above) / tied, 0, 1)``. A work above the 90th-percentile threshold gets 1, one
  below it 0, and the works tied at the threshold share the rest of the top-10% mass equally, so the
  weights of a field-year sum to exactly N / 10. This is the fractional tie rule of the CWTS Leiden
  Ranking methodology (leidenranking.com, Information > Indicators: a publication tied at the threshold
  belongs to the top 10% only partly), from Waltman & Schreiber 2013, "On the calculation of
  percentile-based bibliometric indicators", JASIST 64(2), 372-379.
- **MNCS** of an entity = ``sum(share * ncs) / sum(share)`` and **PP(top 10%)** =
  ``sum(share * top10) / sum(share)`` (a proportion in [0, 1]), both over the entity's scored articles,
  with the entity's fractional Share on each as weight: the fractional-counting MNCS and PP(top 10%) of
  the Leiden Ranking (Waltman et al. 2012, "The Leiden Ranking 2011/2012: data collection, indicators,
  and interpretation", JASIST 63(12), 2419-2432).
- **citation_articles**: the entity's scored articles (full count). An entity with fewer than
  `min_articles` of them is not ranked on the citation indicators: ``mncs`` and ``pp_top10`` are null and
  ``citation_ranked`` is false (a PP(top 10%) of a few articles says little: on 50 articles its standard
  error is still about 0.04 at the world level of 0.1; the Leiden Ranking itself sets a size threshold
  for a university to be listed at all).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
from ibis import _

from sciencecities.resolve.subjects import ALL

TOP_FRACTION = 0.1
"""The top share of a field-year that PP(top 10%) counts."""

COMPANY = "company"
"""The OpenAlex institution type of firms (``institutions.type``)."""

DEFAULT_MIN_ARTICLES = 50
"""Scored articles an entity needs to be ranked on MNCS and PP(top 10%) (see the module docstring)."""

CITATION_METHOD = (
    "cited_by_count over the mean of the edition's eligible works of the same OpenAlex subfield and year; "
    "MNCS and PP(top 10%) fractionally counted, ties at the top-10% threshold split (Waltman & Schreiber 2013)"
)
"""One line naming the citation method, for the metadata of a ranking with size-independent indicators."""

COLUMNS = (
    "count",
    "share",
    "share_per_article",
    "international_fraction",
    "company_fraction",
    "citation_articles",
    "mncs",
    "pp_top10",
    "citation_ranked",
)
"""The columns `located_indicators` gives beside the entity key."""


def restricted(
    credit: ibis.Table,
    work_subjects: ibis.Table,
    subject: str = ALL,
    years: tuple[int, int] | None = None,
) -> ibis.Table:
    """The credit rows of the works in `years` (inclusive; all when None) that count in `subject` ('all':
    every work)."""
    if years is not None:
        credit = credit.filter(credit.year.between(years[0], years[1]))
    if subject != ALL:
        chosen = work_subjects.filter(work_subjects.subject == subject)
        credit = credit.filter(credit.work_id.isin(chosen.work_id))
    return credit


def top_share(rows: ibis.Table, by: Sequence[str], value: str, fraction: float = TOP_FRACTION) -> ibis.Table:
    """`rows` with column `top`: each row's part in the top `fraction` of its group `by`, ordered by `value`
    (higher is better), ties at the threshold split equally so that a group of N rows sums to N * fraction.

    ``top = clip((N * fraction - above) / tied, 0, 1)`` with ``above`` the rows of the group with a higher
    `value` and ``tied`` those with the same (itself included). Rows with a null `value` are dropped.
    """
    by = list(by)
    known = rows.filter(rows[value].notnull())
    levels = known.group_by([*by, value]).agg(tied=_.count())
    down = ibis.cumulative_window(group_by=by, order_by=ibis.desc(levels[value]))
    levels = levels.mutate(
        down_to=levels.tied.sum().over(down),
        n=levels.tied.sum().over(ibis.window(group_by=by)),
    )
    mass = levels.n.cast("float64") / (1.0 / fraction)  # N / 10 exactly for the default
    above = (levels.down_to - levels.tied).cast("float64")
    top = ibis.ifelse(
        above + levels.tied <= mass,
        1.0,
        ibis.ifelse(above >= mass, 0.0, (mass - above) / levels.tied.cast("float64")),
    )
    weights = levels.select(*by, value, top=top)
    return known.join(weights, [*by, value])


def citation_scores(eligible: ibis.Table, works: ibis.Table) -> ibis.Table:
    """One row per scored eligible work: work_id, subfield, year, citations, field_mean, ncs and top10
    (see the module docstring for who is left out)."""
    known = eligible.select("work_id", "year").join(
        works.select("work_id", subfield=works.primary_topic_subfield, citations=works.cited_by_count),
        "work_id",
    )
    known = known.filter(known.subfield.notnull() & (known.subfield != "") & known.citations.notnull())
    means = known.group_by(["subfield", "year"]).agg(field_mean=known.citations.cast("float64").mean())
    scored = known.join(means, ["subfield", "year"])
    scored = scored.filter(scored.field_mean > 0)
    scored = scored.mutate(ncs=scored.citations.cast("float64") / scored.field_mean)
    ranked = top_share(scored, ["subfield", "year"], "citations")
    return ranked.rename(top10="top")


def work_indicators(
    credit: ibis.Table, countries: ibis.Table, institutions: ibis.Table, scores: ibis.Table
) -> ibis.Table:
    """One row per credited work: work_id, international (institutions in >= 2 known countries), company
    (a ``company`` institution on it), and its ncs and top10 (null when not scored).

    `countries` maps institution_id -> country_code (`counts.institution_countries`); `scores` is
    `citation_scores`.
    """
    located = credit.select("work_id", "institution_id").join(
        countries.select("institution_id", "country_code"), "institution_id"
    )
    per_country = located.filter(located.country_code.notnull()).select("work_id", "country_code").distinct()
    n_countries = per_country.group_by("work_id").agg(n_countries=_.count())
    firms = institutions.filter(institutions.type == COMPANY).select("institution_id")
    with_firm = (
        credit.select("work_id", "institution_id")
        .join(firms, "institution_id")
        .select("work_id")
        .distinct()
        .select(firm_work=_.work_id)
    )
    works = credit.select("work_id").distinct()
    step = works.left_join(n_countries, works.work_id == n_countries.work_id).select(
        works.work_id, n_countries=n_countries.n_countries
    )
    step = step.left_join(with_firm, step.work_id == with_firm.firm_work).select(
        step.work_id, step.n_countries, company=with_firm.firm_work.notnull()
    )
    scored = scores.select(scored_work=_.work_id, ncs=_.ncs, top10=_.top10)
    step = step.left_join(scored, step.work_id == scored.scored_work)
    return step.select(
        "work_id",
        international=step.n_countries.fill_null(0) >= 2,
        company=step.company,
        ncs=step.ncs,
        top10=step.top10,
    )


def located_indicators(
    credit: ibis.Table,
    per_work: ibis.Table,
    located: ibis.Table | None,
    key: str,
    *,
    min_articles: int = DEFAULT_MIN_ARTICLES,
) -> ibis.Table:
    """One row per entity `key` (a column of `located`, keyed by institution_id; None: the institutions
    themselves, `key` 'institution_id'): Count, Share and the size-independent indicators (`COLUMNS`).

    `credit` is already restricted to the window and subject (`restricted`); `per_work` is
    `work_indicators`. Credit is collapsed to (work, entity) first, so Count is distinct articles.
    """
    if located is None:
        rows = credit.select("work_id", "institution_id", "share")
    else:
        rows = credit.join(located.select("institution_id", key), "institution_id")
        rows = rows.filter(rows[key].notnull())
    entity_work = rows.group_by(["work_id", key]).agg(share=_.share.sum())
    joined = entity_work.join(per_work, "work_id")
    scored = joined.ncs.notnull()
    totals = joined.group_by(key).agg(
        count=_.count(),
        share=joined.share.sum(),
        international=joined.international.cast("int64").sum(),
        company=joined.company.cast("int64").sum(),
        citation_articles=scored.cast("int64").sum(),
        citation_share=ibis.ifelse(scored, joined.share, 0.0).sum(),
        ncs_share=(joined.share * joined.ncs).sum(),
        top_share=(joined.share * joined.top10).sum(),
    )
    ranked = (totals.citation_articles >= min_articles) & (totals.citation_share > 0)
    articles = totals["count"].cast("float64")
    return totals.select(
        key,
        count=totals["count"],
        share=totals.share,
        share_per_article=totals.share / articles,
        international_fraction=totals.international.cast("float64") / articles,
        company_fraction=totals.company.cast("float64") / articles,
        citation_articles=totals.citation_articles,
        mncs=ibis.ifelse(ranked, totals.ncs_share / totals.citation_share, ibis.null("float64")),
        pp_top10=ibis.ifelse(ranked, totals.top_share / totals.citation_share, ibis.null("float64")),
        citation_ranked=ranked,
    )
