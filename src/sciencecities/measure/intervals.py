"""Stability intervals (DESIGN §4): bootstrap resamples of the articles, drawn and summed inside the engine.

Each resample gives every article a Poisson(1) weight (the number of times it is drawn; the Poisson
bootstrap, which approximates resampling the n articles with replacement and needs no global count). An
entity's Share in a resample is the weighted sum of its articles' Shares, its Count the weighted number of
its articles, and its rank follows the ranking rule among all entities in that resample. The 2.5 and 97.5
percentiles over the resamples are its interval.

The weights are a function of (seed, resample, work_id) only, computed as Ibis expressions:

1. a per-work code: the engine's hash of ``work_id || '#' || seed``, its low 31 bits;
2. per resample r: the engine's hash of the integer ``r * 2**31 + code``, its low 31 bits, v, a uniform
   integer in [0, 2**31);
3. the weight: the inverse CDF of Poisson(1), the number of cumulative probabilities P(X <= k), scaled to
   2**31, that v reaches (k = 0..11; 12 beyond, a chance of 1e-9).

Because the weight depends on the work alone, every entity of a work gets the same weight: the (work,
entity) rows are packed into one list per work, each (work, resample) pair is hashed once, and only the
lists of drawn works are unpacked. Works whose codes collide (n works have about n**2 / 2**32 colliding
pairs: some 520 among 1.5 million) get the same weights in every resample: a negligible correlation.

Reproducibility: the same seed gives identical output on the same engine (and engine version), run after
run: Shares are summed as integers (fixed point, `SCALE` units per Share), so the order in which threads
add them cannot change a digit. Different engines hash differently (DuckDB's ``hash`` is a 64-bit hash of
its own, Spark's is 32-bit Murmur3), so DuckDB and Spark draw different resamples for the same seed: their
intervals agree statistically, not digit for digit.

Percentiles are Ibis ``quantile``, which is ``percentile_cont`` on DuckDB and ``percentile`` on Spark: both
exact, with linear interpolation between the order statistics at position (B - 1) * p (numpy's default,
Hyndman and Fan type 7). Rank percentiles are rounded outwards (``rank_lo`` down, ``rank_hi`` up) to whole
ranks.
"""

from __future__ import annotations

import math

import ibis
import pyarrow as pa

SCALE = 10**10
"""Fixed-point units per Share inside the resamples: each (work, entity) Share is rounded to 1e-10 before it
is weighted and summed as an integer (exact and order-free; an entity's resampled Share then differs from
the float sum by at most 5e-11 per article)."""

METHOD = (
    "Poisson(1) bootstrap of the articles, weights hashed from (seed, resample, work_id) in the engine; "
    "2.5 and 97.5 percentiles with linear interpolation; rank percentiles rounded outwards"
)
"""One line naming the method, for the metadata of a ranking with intervals."""

LOWER, UPPER = 0.025, 0.975
"""The percentiles reported: a 95% interval."""

INTERVAL_COLUMNS = ("share_lo", "share_hi", "rank_lo", "rank_hi")
"""The columns `bootstrap` computes beside the entity key, and `rank(..., intervals=True)` appends."""

_BITS = 31
_MASK = (1 << _BITS) - 1
MAX_RESAMPLES = 1 << 17
"""Resample ids stay below 2**17, so r * 2**31 + code stays below 2**48."""


def poisson_thresholds(top: int = 12) -> list[int]:
    """The cumulative probabilities P(X <= k) of Poisson(1) for k = 0..top-1, scaled to 2**31 and floored:
    a uniform integer v in [0, 2**31) is drawn k times where k = how many of them v reaches.

    >>> poisson_thresholds()[:3]
    [790015084, 1580030168, 1975037710]
    """
    thresholds, cumulative, p = [], 0.0, math.exp(-1.0)
    for k in range(top):
        cumulative += p
        thresholds.append(math.floor(cumulative * (1 << _BITS)))
        p /= k + 1
    return thresholds


def _weight(v: ibis.IntegerValue) -> ibis.IntegerValue:
    """The Poisson(1) draw for a uniform integer v in [0, 2**31) that is at least the k = 0 threshold."""
    thresholds = poisson_thresholds()
    branches = [(v < t, k) for k, t in enumerate(thresholds[1:], start=1)]
    return ibis.cases(*branches, else_=len(thresholds)).cast("int64")


def _resample_ids(resamples: int) -> ibis.Table:
    if not 0 < resamples < MAX_RESAMPLES:
        raise ValueError(f"resamples must be in 1..{MAX_RESAMPLES - 1}, got {resamples}")
    return ibis.memtable(pa.table({"resample": pa.array(range(resamples), pa.int64())}))


def _work_code(work_id: ibis.StringValue, seed: int) -> ibis.IntegerValue:
    """The low 31 bits of the engine's hash of ``work_id || '#' || seed``."""
    return work_id.concat(f"#{int(seed)}").hash() & _MASK


def _drawn(coded: ibis.Table, resamples: int) -> ibis.Table:
    """`coded` (with a ``_code`` column) once per resample in which the code is drawn, with ``resample`` and
    ``weight`` (1 or more), without ``_code``."""
    crossed = coded.cross_join(_resample_ids(resamples))
    # resample * 2**31 + code < 2**48; the int64 resample column first, so Spark (whose hash is a 32-bit int)
    # computes in BIGINT instead of overflowing an INT.
    drawn = crossed.mutate(_v=(crossed.resample * (1 << _BITS) + crossed._code).hash() & _MASK)
    drawn = drawn.filter(drawn._v >= poisson_thresholds()[0])
    return drawn.mutate(weight=_weight(drawn._v)).drop("_code", "_v")


def poisson_weights(rows: ibis.Table, resamples: int, seed: int) -> ibis.Table:
    """Every row of `rows` (which has a ``work_id``) once per resample in which its work is drawn, with
    ``resample`` (0..resamples-1) and ``weight``, the Poisson(1) number of times it is drawn (1 or more;
    the rows of undrawn works, about e**-1 of them, are left out). Rows of the same work get the same weights.

    >>> works = ibis.memtable(pa.table({"work_id": [f"W{i}" for i in range(1000)]}))
    >>> drawn = poisson_weights(works, resamples=100, seed=0)
    >>> round(drawn.weight.sum().to_pyarrow().as_py() / (1000 * 100), 1)
    1.0
    """
    return _drawn(rows.mutate(_code=_work_code(rows.work_id, seed)), resamples)


def bootstrap(rows: ibis.Table, key: str, resamples: int, seed: int) -> ibis.Table:
    """Stability intervals of Share and rank per entity from `resamples` Poisson-bootstrap resamples.

    Parameters
    ----------
    rows
        The articles behind one ranking: columns ``work_id``, `key` (the entity) and ``share``, for the
        level, window and subject chosen. Rows of the same (work, entity) are summed first (dedup-first);
        rows without an entity are left out.
    key
        The entity column (institution_id, unit_id, country_code, group_id).
    resamples
        B, the number of resamples (below 2**17).
    seed
        Any integer; the same seed draws the same resamples on the same engine.

    Returns
    -------
    ibis.Table
        One row per entity of `rows` (grain: `key`): ``share_lo`` and ``share_hi``, the 2.5 and 97.5
        percentiles of its Share over the resamples; ``rank_lo`` and ``rank_hi``, those of its rank among all
        entities of `rows` in each resample (whole ranks, rounded outwards).

    Notes
    -----
    Within a resample, entities are ranked by the rule of DESIGN §4: by Share (the exact fixed-point sum,
    finer than the rule's 1e-9 and immune to the last-ulp differences the rounding guards against), then by
    the resampled Count (the articles drawn, with their multiplicity), ties in both sharing a rank. An entity
    none of whose articles is drawn has Share 0 in that resample and ranks below every entity with Share.
    This has a tail effect: where many entities have one or two articles, about a third of them are undrawn
    in each resample and share one rank, far better than the bottom of the full ranking, so the rank
    interval of an entity at the bottom can lie wholly above (better than) its point rank. Entities with a
    few articles or more are not affected; Share intervals are not affected.

    The plan, cheapest first: (work, entity) rows get an integer entity number and are packed into one list
    per work code; each (work, resample) pair is hashed once to draw the weight, and only drawn works are
    unpacked into (resample, entity) sums; then a grid of every entity in every resample (0 where none of
    its works is drawn) is ranked per resample and reduced to percentiles per entity. The largest tables
    held are the sums and the grid, one row per (resample, entity).

    Examples
    --------
    >>> rows = ibis.memtable(
    ...     pa.table({"work_id": ["W1", "W2", "W3", "W3"], "city": ["A", "A", "A", "B"], "share": [1, 1, 0.5, 0.5]})
    ... )
    >>> out = bootstrap(rows, "city", resamples=200, seed=1).order_by("city").to_pyarrow()
    >>> out.column_names
    ['city', 'share_lo', 'share_hi', 'rank_lo', 'rank_hi']
    >>> out["rank_lo"].to_pylist(), out["rank_hi"].to_pylist()
    ([1, 1], [1, 2])
    """
    located = rows.filter(rows[key].notnull())
    per_work = located.group_by(["work_id", key]).agg(share=located.share.sum())
    entities = per_work.select(key).distinct()
    entities = entities.mutate(_entity=ibis.row_number().over(order_by=entities[key]))
    numbered = per_work.join(entities, key)
    items = numbered.select(
        _code=_work_code(numbered.work_id, seed),
        item=ibis.struct(
            {"entity": numbered._entity, "units": (numbered.share * SCALE).round().cast("int64")}
        ),
    )
    # Works whose codes collide get the same weights anyway, so packing by code loses nothing.
    packed = items.group_by("_code").agg(items=items.item.collect())
    unpacked = _drawn(packed, resamples).unnest("items")
    drawn = unpacked.select(
        "resample", "weight", _entity=unpacked["items"]["entity"], units=unpacked["items"]["units"]
    )
    sums = drawn.group_by(["resample", "_entity"]).agg(
        r_units=(drawn.units * drawn.weight).sum(), r_count=drawn.weight.sum()
    )
    grid = entities.cross_join(_resample_ids(resamples))
    joined = grid.left_join(sums, [grid.resample == sums.resample, grid._entity == sums._entity])
    full = joined.select(
        grid[key],
        resample=grid.resample,
        units=joined.r_units.fill_null(0),
        count=joined.r_count.fill_null(0),
    )
    in_resample = ibis.window(group_by="resample", order_by=[full.units.desc(), full["count"].desc()])
    ranked = full.mutate(
        share=full.units.cast("float64") / SCALE, rank=(ibis.rank().over(in_resample) + 1).cast("int64")
    )
    return ranked.group_by(key).agg(
        share_lo=ranked.share.quantile(LOWER),
        share_hi=ranked.share.quantile(UPPER),
        rank_lo=ranked["rank"].quantile(LOWER).floor().cast("int64"),
        rank_hi=ranked["rank"].quantile(UPPER).ceil().cast("int64"),
    )
