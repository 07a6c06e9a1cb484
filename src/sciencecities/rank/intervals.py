"""Rank intervals (DESIGN §4, stability interval): how far a ranking's Share and rank move when its articles
are resampled; what `rank --intervals` adds to a ranking."""

from __future__ import annotations

import ibis
import pyarrow as pa
from ibis.backends import BaseBackend

from sciencecities import engines
from sciencecities.errors import InputError
from sciencecities.measure.indicators import restricted
from sciencecities.measure.intervals import bootstrap
from sciencecities.rank.access import (
    boundaries_name,
    built_edition,
    check_window,
    find_city,
    level_rows,
    located,
    subject_id,
)
from sciencecities.rank.ranking import LEVELS, Years
from sciencecities.resolve.subjects import ALL
from sciencecities.store import Store

MIN_RESAMPLES, MAX_RESAMPLES = 10, 100_000
"""The resamples allowed: fewer than 10 give no 2.5 and 97.5 percentiles worth the name; 100,000 is far past
the point where the percentiles stop moving (1,000 is the default of DESIGN §4)."""


def check_options(resamples: object, seed: object) -> None:
    """An InputError with a hint unless `resamples` is a whole number in 10..100,000 and `seed` one >= 0."""
    if isinstance(resamples, bool) or not isinstance(resamples, int):
        raise InputError(
            f"--resamples must be a whole number, got {resamples!r}", "use e.g. --resamples 1000"
        )
    if not MIN_RESAMPLES <= resamples <= MAX_RESAMPLES:
        raise InputError(
            f"--resamples must be between {MIN_RESAMPLES} and {MAX_RESAMPLES:,}, got {resamples:,}",
            "use --resamples 1000 (the default) for published intervals, 100 or 200 for a quick look",
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(
            f"--seed must be a whole number 0 or more, got {seed!r}", "use e.g. --seed 0 (the default)"
        )


def intervals_of(
    con: BaseBackend,
    level: str,
    *,
    boundaries: str = "",
    rollup: bool = False,
    years: Years | None = None,
    subject: str = ALL,
    members: ibis.Table | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> pa.Table:
    """The intervals of every entity of `level` on an open edition connection: the (work, entity, Share)
    rows of the window and subject (only the institutions in `members` when given), resampled in the engine
    by `sciencecities.measure.intervals.bootstrap`. Columns id, share_lo, share_hi, rank_lo, rank_hi."""
    credit = restricted(con.table("credit"), con.table("work_subjects"), subject, years)
    if members is not None:
        credit = credit.filter(credit.institution_id.isin(members.institution_id))
    entities, key = located(con, level, boundaries, rollup)
    if entities is not None:  # institutions without an entity drop out here, as they do from the ranking
        credit = credit.join(entities, "institution_id")
    intervals = bootstrap(credit.select("work_id", key, "share"), key, resamples, seed)
    return intervals.rename(id=key).order_by("id").to_pyarrow()


def rank_intervals(
    store: Store,
    *,
    level: str = "institution",
    years: Years | None = None,
    subject: str | None = None,
    edition: str = "nature-index",
    boundaries: str = "metro",
    resamples: int = 1000,
    seed: int = 0,
    rollup: bool = False,
    city: str | None = None,
) -> pa.Table:
    """The stability intervals of the ranking `rank` makes with the same arguments: per entity ``id``,
    ``share_lo`` and ``share_hi`` (the 2.5 and 97.5 percentiles of its Share over `resamples` Poisson
    bootstrap resamples of the articles) and ``rank_lo`` and ``rank_hi`` (those of its rank, whole ranks
    rounded outwards). One row per entity of the ranking, ordered by id. `rank(..., intervals=True)` appends
    the same columns to the ranking itself.

    The same `seed` gives the same intervals on the same engine; other engines draw other resamples (see
    `sciencecities.measure.intervals`, which documents the method).

    Examples
    --------
    >>> from sciencecities import demo_store
    >>> table = rank_intervals(demo_store(), level="country", resamples=100, seed=1)
    >>> table.column_names
    ['id', 'share_lo', 'share_hi', 'rank_lo', 'rank_hi']
    """
    check_options(resamples, seed)
    check_window(years)
    if level not in LEVELS:
        raise InputError(f"unknown level {level!r}", f"use one of {', '.join(LEVELS)}")
    if rollup and level != "institution":
        raise InputError("--rollup credits institutions to their parents", "use it with --level institution")
    if city is not None and (level != "institution" or rollup):
        raise InputError(
            "--city drills down to institutions as placed", "use --level institution without --rollup"
        )
    built, method = built_edition(store, edition)
    sid = subject_id(method, subject)
    unit_set = boundaries_name(boundaries)
    unit = find_city(store, city, edition=edition, boundaries=boundaries) if city is not None else None
    con = engines.connect(store.current, built["edition"])
    try:
        # Raises a StoreError with a hint when the level's tables (e.g. the boundary set) are not built.
        level_rows(con, level, built, unit_set if level == "city" else "")
        members = None
        if unit is not None:
            units = con.table("institution_units")
            members = units.filter((units.boundaries == unit_set) & (units.unit_id == unit.id))
        return intervals_of(
            con,
            level,
            boundaries=unit_set,
            rollup=rollup,
            years=years,
            subject=sid,
            members=members,
            resamples=resamples,
            seed=seed,
        )
    finally:
        con.disconnect()
