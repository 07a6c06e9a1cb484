"""The `collaboration` verb of the Python API: pairs of institutions, science cities or countries of a built
edition, ranked by collaboration score (DESIGN §4), with their co-authored articles."""

from __future__ import annotations

import ibis

from sciencecities import engines
from sciencecities.errors import InputError
from sciencecities.measure.collaboration import pairs
from sciencecities.rank.access import (
    boundaries_name,
    built_edition,
    check_window,
    level_rows,
    located,
    subject_id,
)
from sciencecities.rank.names import Candidate, find
from sciencecities.rank.queries import _meta
from sciencecities.rank.ranking import Ranking, Years
from sciencecities.store import Store

LEVELS = ("institution", "city", "country")
"""The levels whose pairs can be ranked; a city is a unit of the chosen boundary set (DESIGN §6)."""

COLUMNS = (
    "rank",
    "id_a",
    "name_a",
    "country_code_a",
    "id_b",
    "name_b",
    "country_code_b",
    "articles",
    "score",
    "share_a",
    "share_b",
)
"""The columns of a collaboration ranking: one row per pair, id_a < id_b unless `entity` puts it first."""

RANKING_RULE = "score rounded to 1e-9, then articles; ties share a rank"


def collaboration(
    store: Store,
    *,
    level: str = "city",
    years: Years | None = None,
    subject: str | None = None,
    edition: str = "nature-index",
    boundaries: str = "metro",
    top: int | None = None,
    entity: str | None = None,
) -> Ranking:
    """Rank the pairs of entities that co-author articles of a built edition by collaboration score.

    Score of A and B = sum over the articles with both of Share(a, A) + Share(a, B) (DESIGN §4); `articles`
    counts them, and `share_a`, `share_b` are each side's part of the score. Over a window of `years`
    (inclusive; all when None), overall or in one `subject`; cities are the units of `boundaries`. Ranked by
    score rounded to 1e-9, then articles; ties share a rank and are ordered by name. With `entity` (an id,
    or a name as `rank --city` takes it), only the pairs that include it, turned so that it is side a: its
    partners. `top` keeps ranks 1..top (ties at top included).

    Examples
    --------
    >>> from sciencecities import demo_store
    >>> from sciencecities.rank.collaboration import collaboration
    >>> pairs = collaboration(demo_store(), level="country", top=3)
    >>> pairs.table.column_names[:4]
    ['rank', 'id_a', 'name_a', 'country_code_a']
    """
    check_window(years)
    check_level(level)
    built, method = built_edition(store, edition)
    sid = subject_id(method, subject)
    unit_set = boundaries_name(boundaries) if level == "city" else None
    con = engines.connect(store.current, built["edition"])
    try:
        _, key, names = level_rows(con, level, built, unit_set or "")
        found = _entity(names, key, level, entity) if entity is not None else None
        scored = pairs(
            con.table("credit"),
            con.table("work_subjects"),
            located(con, level, unit_set or "")[0],
            key,
            sid,
            years,
        )
        if found is not None:
            scored = _partners(scored, found.id)
        ranked = _ranked(_named(scored, names, key))
        if top is not None:
            ranked = ranked.filter(ranked["rank"] <= top)
        table = ranked.to_pyarrow()
    finally:
        con.disconnect()
    meta = _meta(
        store,
        built,
        level=level,
        subject=sid,
        years=list(years) if years else "all",
        boundaries=unit_set,
        entity={"id": found.id, "name": found.name, "country_code": found.country_code} if found else None,
        top=top,
    )
    return Ranking(table, {**meta, "ranking_rule": RANKING_RULE})


def check_level(level: str) -> None:
    """Raise an InputError naming the levels when `level` is not one whose pairs can be ranked."""
    if level not in LEVELS:
        raise InputError(f"unknown collaboration level {level!r}", f"use one of {', '.join(LEVELS)}")


def _entity(names: ibis.Table, key: str, level: str, entity: str) -> Candidate:
    """The entity that `entity` names among the level's names (InputError with suggestions when none fits)."""
    rows = names.to_pyarrow().to_pylist()
    candidates = [Candidate(r[key], r["name"] or r[key], r["country_code"]) for r in rows]
    return find(entity, candidates, level)


def _partners(scored: ibis.Table, entity: str) -> ibis.Table:
    """The pairs that include `entity`, turned so that it is side a."""
    first = scored.filter(scored.id_a == entity)
    second = scored.filter(scored.id_b == entity)
    turned = second.select(
        id_a=second.id_b,
        id_b=second.id_a,
        articles=second.articles,
        score=second.score,
        share_a=second.share_b,
        share_b=second.share_a,
    )
    return first.union(turned)


def _named(scored: ibis.Table, names: ibis.Table, key: str) -> ibis.Table:
    """Both sides' names and countries (an entity without a name shows its id); `names` has columns `key`,
    name and country_code (the key itself at the country level)."""
    side_a = names.select(id_a=names[key], name_a=names.name, country_code_a=names.country_code)
    side_b = names.select(id_b=names[key], name_b=names.name, country_code_b=names.country_code)
    joined = scored.left_join(side_a, "id_a").left_join(side_b, "id_b")
    return joined.mutate(
        name_a=joined.name_a.fill_null(joined.id_a), name_b=joined.name_b.fill_null(joined.id_b)
    )


def _ranked(named: ibis.Table) -> ibis.Table:
    """Rank by score rounded to 1e-9, then articles (ties share a rank: 1, 2, 2, 4); names order ties."""
    window = ibis.window(order_by=[named.score.round(9).desc(), named.articles.desc()])
    ranked = named.mutate(rank=(ibis.rank().over(window) + 1).cast("int64"))
    return ranked.select(*COLUMNS).order_by(["rank", "name_a", "name_b", "id_a", "id_b"])
