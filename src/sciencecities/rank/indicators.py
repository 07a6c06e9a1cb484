"""The size-independent companions of a ranking (issue 10, point 3): Share per article, international and
company co-authorship, MNCS and PP(top 10%) per institution, science city, country or group of a built
edition; the definitions are in `sciencecities.measure.indicators`."""

from __future__ import annotations

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from sciencecities import engines
from sciencecities.errors import InputError
from sciencecities.measure import indicators
from sciencecities.measure.counts import institution_countries
from sciencecities.rank.access import (
    boundaries_name,
    built_edition,
    check_window,
    level_rows,
    located,
    subject_id,
)
from sciencecities.rank.ranking import LEVELS, Years
from sciencecities.resolve.subjects import ALL
from sciencecities.store import Store

COLUMNS = ("id", *indicators.COLUMNS)
"""The columns of `size_independent`, one row per entity with at least one article in the window."""

SIZE_INDEPENDENT = tuple(c for c in indicators.COLUMNS if c not in ("count", "share"))
"""The columns `rank(..., size_independent=True)` appends (Count and Share are the ranking's own)."""


def indicators_of(
    con: BaseBackend,
    level: str,
    *,
    boundaries: str = "",
    rollup: bool = False,
    years: Years | None = None,
    subject: str = ALL,
    members: ibis.Table | None = None,
    min_articles: int = indicators.DEFAULT_MIN_ARTICLES,
) -> pa.Table:
    """The `COLUMNS` of every entity of `level` on an open edition connection (only the institutions in
    `members` when given), ordered by id."""
    entities, key = located(con, level, boundaries, rollup)
    credit = con.table("credit")
    scores = indicators.citation_scores(con.table("eligible_works"), con.table("works"))
    countries = institution_countries(con.table("institutions"), con.table("institution_places"))
    per_work = indicators.work_indicators(credit, countries, con.table("institutions"), scores)
    chosen = indicators.restricted(credit, con.table("work_subjects"), subject, years)
    if members is not None:
        chosen = chosen.filter(chosen.institution_id.isin(members.institution_id))
    rows = indicators.located_indicators(chosen, per_work, entities, key, min_articles=min_articles)
    return rows.rename(id=key).select(*COLUMNS).order_by("id").to_pyarrow()


def check_min_articles(min_articles: object) -> None:
    """An InputError with a hint unless `min_articles` is a whole number of at least 1."""
    if isinstance(min_articles, bool) or not isinstance(min_articles, int) or min_articles < 1:
        raise InputError(
            f"--min-articles must be a whole number of at least 1, got {min_articles!r}",
            f"use e.g. --min-articles {indicators.DEFAULT_MIN_ARTICLES} (the default)",
        )


def size_independent(
    store: Store,
    *,
    level: str = "city",
    years: Years | None = None,
    subject: str | None = None,
    edition: str = "nature-index",
    boundaries: str = "metro",
    min_articles: int = indicators.DEFAULT_MIN_ARTICLES,
) -> pa.Table:
    """Count, Share and the size-independent indicators of every entity of `level` over `years` (inclusive;
    all when None), overall or in one `subject`; cities are the units of `boundaries`.

    Columns (`COLUMNS`): id, count, share, share_per_article (Share / Count), international_fraction,
    company_fraction (full counting), citation_articles (articles with a field-normalised citation score),
    mncs and pp_top10 (fractionally counted; null below `min_articles` scored articles) and citation_ranked.
    Count and Share are those of `rank` for the same arguments. Rows are ordered by id.

    Examples
    --------
    >>> from sciencecities import demo_store
    >>> from sciencecities.rank.indicators import size_independent
    >>> t = size_independent(demo_store(), level="country", min_articles=5)
    >>> t.column_names[:4]
    ['id', 'count', 'share', 'share_per_article']
    """
    check_window(years)
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", f"use one of {', '.join(LEVELS)}")
    check_min_articles(min_articles)
    built, method = built_edition(store, edition)
    sid = subject_id(method, subject)
    unit_set = boundaries_name(boundaries) if level == "city" else ""
    con = engines.connect(store.current, built["edition"])
    try:
        level_rows(con, level, built, unit_set)  # a StoreError with a hint when the boundary set is not built
        return indicators_of(
            con, level, boundaries=unit_set, years=years, subject=sid, min_articles=min_articles
        )
    finally:
        con.disconnect()
