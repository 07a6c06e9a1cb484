"""Stability intervals (DESIGN §4): the Poisson weights, `bootstrap` against a NumPy recomputation from the same
weights, containment of the point estimate, narrowing as the data grow, reproducibility per seed, and
`rank_intervals` on a constructed world (1x and 10x) and on the demo store.

The tail effect the tests allow for: in a resample, every entity none of whose articles is drawn has Share 0,
and under the ranking rule they all share one rank, just below the entities with Share. An entity with one or
two articles is in that tie in about a third of the resamples or more, and so are a third of all such entities,
so the tie's rank is far better than the bottom of the full ranking: for entities at the bottom of a ranking
with many small entities, the whole rank interval lies above (better than) the point rank. It never lies
below it. Entities with a few articles or more are not affected, and the constructed worlds have none smaller.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import ibis
import numpy as np
import pyarrow as pa
import pytest

from conftest import placed_institution, store_from_records
from sciencecities import Store, rank
from sciencecities.errors import InputError, StoreError
from sciencecities.measure.intervals import (
    INTERVAL_COLUMNS,
    SCALE,
    bootstrap,
    poisson_thresholds,
    poisson_weights,
)
from sciencecities.rank.intervals import MAX_RESAMPLES, MIN_RESAMPLES, check_options, rank_intervals
from sciencecities.rank.ranking import append_columns

B = 200  # resamples in the tests: enough for stable 2.5 and 97.5 percentiles, cheap on the tiny worlds


# --- the measure: Poisson weights and bootstrap on in-memory rows ----------------------------------------------


def _rows(copies: int = 1) -> pa.Table:
    """A world of (work, city, share) rows: cities A..E with 36, 25, 16, 10 and 8 articles of their own, and
    two-city articles. Work ids of copy c end in '-c', so `copies` replicates the world with new ids. Rows
    of one work and city repeat (two institutions of one city) to check that they are summed first."""
    base: list[tuple[str, str, float]] = []
    for city, n in (("A", 36), ("B", 25), ("C", 16), ("D", 10), ("E", 8)):
        base += [(f"W{city}{i}", city, 1.0) for i in range(n)]
    base += [(f"WAB{i}", c, 0.5) for i in range(6) for c in "AB"]
    base += [(f"WCD{i}", c, s) for i in range(4) for c, s in (("C", 0.25), ("C", 0.25), ("D", 0.5))]
    rows = [(f"{w}-{c}", city, s) for c in range(copies) for w, city, s in base]
    return pa.table(
        {"work_id": [r[0] for r in rows], "city": [r[1] for r in rows], "share": [r[2] for r in rows]}
    )


def _point(rows: pa.Table) -> dict[str, tuple[float, int, int]]:
    """Share, Count and rank (DESIGN §4: Share rounded to 1e-9, then Count; ties share a rank) per city."""
    share: dict[str, float] = Counter()
    works: dict[str, set[str]] = {}
    for r in rows.to_pylist():
        share[r["city"]] += r["share"]
        works.setdefault(r["city"], set()).add(r["work_id"])
    keys = {c: (round(share[c], 9), len(works[c])) for c in share}
    return {c: (share[c], len(works[c]), 1 + sum(k > keys[c] for k in keys.values())) for c in share}


def _run(rows: pa.Table, seed: int = 0, resamples: int = B) -> dict[str, dict[str, Any]]:
    table = bootstrap(ibis.memtable(rows), "city", resamples, seed).to_pyarrow()
    return {r["city"]: r for r in table.to_pylist()}


def test_thresholds_are_the_poisson_1_distribution() -> None:
    thresholds = poisson_thresholds()
    cumulative = [sum(math.exp(-1) / math.factorial(j) for j in range(k + 1)) for k in range(len(thresholds))]
    assert thresholds == sorted(thresholds)
    assert [t / 2**31 for t in thresholds] == pytest.approx(cumulative, abs=1e-9)


def test_poisson_weights_are_poisson_1_and_the_same_for_every_row_of_a_work() -> None:
    works, resamples = 4000, 100
    rows = pa.table(
        {"work_id": [f"W{i // 2}" for i in range(2 * works)], "city": ["A", "B"] * works}
    )  # every work twice, in two cities
    drawn = poisson_weights(ibis.memtable(rows), resamples, seed=3).to_pyarrow().to_pylist()
    by_row = {(r["work_id"], r["city"], r["resample"]): r["weight"] for r in drawn}
    assert all(by_row.get((w, "B", r)) == k for (w, c, r), k in by_row.items() if c == "A")
    assert len(by_row) % 2 == 0
    weights = np.zeros((works, resamples))
    for (w, c, r), k in by_row.items():
        if c == "A":
            weights[int(w[1:]), r] = k
    n = weights.size  # 400,000 draws: the frequencies are within 0.5% of the Poisson(1) probabilities
    for k in range(5):
        assert np.count_nonzero(weights == k) / n == pytest.approx(math.exp(-1) / math.factorial(k), rel=0.05)
    assert weights.mean() == pytest.approx(1.0, abs=0.01)
    assert weights.var() == pytest.approx(1.0, abs=0.02)
    assert abs(np.corrcoef(weights[:, 0], weights[:, 1])[0, 1]) < 0.05  # resamples are independent
    assert abs(np.corrcoef(weights[:-1].ravel(), weights[1:].ravel())[0, 1]) < 0.01  # and so are works


def test_bootstrap_equals_a_numpy_recomputation_from_the_same_weights() -> None:
    """The oracle: per-(work, city) Shares in fixed point, weighted by the same draws and summed per resample;
    ranks by Share, then Count, ties sharing a rank; numpy's default (linear) percentiles, ranks rounded out."""
    rows = _rows()
    got = _run(rows, seed=11)
    summed: dict[tuple[str, str], float] = Counter()
    for r in rows.to_pylist():
        summed[(r["work_id"], r["city"])] += r["share"]
    pairs = pa.table({"work_id": [w for w, _ in summed], "city": [c for _, c in summed]})
    cities = sorted(set(pairs["city"].to_pylist()))
    total = np.zeros((B, len(cities)), dtype=np.int64)
    count = np.zeros((B, len(cities)), dtype=np.int64)
    for r in poisson_weights(ibis.memtable(pairs), B, seed=11).to_pyarrow().to_pylist():
        j = cities.index(r["city"])
        total[r["resample"], j] += round(summed[(r["work_id"], r["city"])] * SCALE) * r["weight"]
        count[r["resample"], j] += r["weight"]
    keys = [list(zip(total[b], count[b], strict=True)) for b in range(B)]
    ranks = np.array([[1 + sum(other > key for other in row) for key in row] for row in keys])
    shares = total / SCALE
    for j, city in enumerate(cities):
        assert got[city]["share_lo"] == pytest.approx(np.percentile(shares[:, j], 2.5), abs=1e-12)
        assert got[city]["share_hi"] == pytest.approx(np.percentile(shares[:, j], 97.5), abs=1e-12)
        assert got[city]["rank_lo"] == math.floor(np.percentile(ranks[:, j], 2.5))
        assert got[city]["rank_hi"] == math.ceil(np.percentile(ranks[:, j], 97.5))


@pytest.mark.parametrize("copies", [1, 10])
def test_intervals_contain_the_point_estimate(copies: int) -> None:
    rows = _rows(copies)
    got = _run(rows)
    for city, (share, _, rank_) in _point(rows).items():
        assert got[city]["share_lo"] <= share <= got[city]["share_hi"], city
        assert got[city]["rank_lo"] <= rank_ <= got[city]["rank_hi"], city


def test_intervals_narrow_as_the_data_grow() -> None:
    """Ten copies of the world (new work ids): the relative width of every Share interval shrinks by about
    sqrt(10) (asserted: by half at least), and rank intervals can only narrow: A leads alone."""
    once, tenfold = _run(_rows(1)), _run(_rows(10))
    point_once, point_tenfold = _point(_rows(1)), _point(_rows(10))
    for city in once:
        width_once = (once[city]["share_hi"] - once[city]["share_lo"]) / point_once[city][0]
        width_tenfold = (tenfold[city]["share_hi"] - tenfold[city]["share_lo"]) / point_tenfold[city][0]
        assert width_tenfold < 0.5 * width_once, city
        assert width_tenfold == pytest.approx(width_once / math.sqrt(10), rel=0.35), city
        assert (
            tenfold[city]["rank_hi"] - tenfold[city]["rank_lo"]
            <= once[city]["rank_hi"] - once[city]["rank_lo"]
        )
    assert (tenfold["A"]["rank_lo"], tenfold["A"]["rank_hi"]) == (1, 1)
    assert once["A"]["rank_hi"] > 1


def test_same_seed_same_intervals_other_seed_other_intervals() -> None:
    rows = _rows()
    first, again, other = _run(rows, seed=5), _run(rows, seed=5), _run(rows, seed=6)
    assert first == again
    assert first != other


def test_an_entity_never_drawn_ranks_in_the_tie_at_the_bottom() -> None:
    """A city with one article is undrawn in about e**-1 of the resamples: Share 0, ranked after the others."""
    rows = pa.table({"work_id": ["W1", "W2", "W3"], "city": ["A", "A", "B"], "share": [1.0, 1.0, 1.0]})
    got = _run(rows, resamples=400)
    assert got["B"]["share_lo"] == 0.0
    assert 3.0 <= got["B"]["share_hi"] < 4.0  # the 97.5 percentile of Poisson(1) is 3
    assert (got["B"]["rank_lo"], got["B"]["rank_hi"]) == (1, 2)


def test_append_columns_appends_the_intervals_by_id() -> None:
    ranking = pa.table(
        {"rank": [1, 2, 3], "id": ["A", "B", "C"], "share": [3.0, 2.0, 1.0]},
    ).replace_schema_metadata({b"edition": b"x"})
    intervals = pa.table(
        {
            "id": ["B", "A"],
            "share_lo": [1.0, 2.0],
            "share_hi": [3.0, 4.0],
            "rank_lo": pa.array([1, 1], pa.int64()),
            "rank_hi": pa.array([2, 2], pa.int64()),
        }
    )
    got = append_columns(ranking, intervals, INTERVAL_COLUMNS)
    assert got.column_names == ["rank", "id", "share", *INTERVAL_COLUMNS]
    assert got["share_lo"].to_pylist() == [2.0, 1.0, None]  # C has no interval: nulls
    assert got["rank_hi"].type == pa.int64()
    assert got.schema.metadata == {b"edition": b"x"}
    assert append_columns(got, intervals, INTERVAL_COLUMNS).equals(got)  # adding again replaces


# --- rank_intervals on stores ---------------------------------------------------------------------------------

# A constructed world: single-author works (Share 1 to their institution), two-author works split in halves and
# one author at two institutions (halves again). Boston is I1 (Cambridge, MA) and I2; Oxford, London and Paris
# are one institution each.
_GEO = {
    "I1": ("Cambridge", 4931972, 42.3751, -71.10561, "US"),
    "I2": ("Boston", 4930956, 42.35843, -71.05977, "US"),
    "I3": ("Oxford", 2640729, 51.75222, -1.25596, "GB"),
    "I4": ("London", 2643743, 51.50853, -0.12574, "GB"),
    "I5": ("Paris", 2988507, 48.85341, 2.3488, "FR"),
}
# (institutions of each author, works, year); Shares: Boston 18 + 2 + 1 = 21, London 10 + 2 + 1.5 = 13.5,
# Oxford 6 + 1.5 = 7.5, Paris 4 + 1 = 5; US 21 and GB 21 tie in Share, US leads by Count (24 to 23).
_PLAN = [
    ([["I1"]], 12, 2020),
    ([["I2"]], 6, 2021),
    ([["I4"]], 10, 2020),
    ([["I3"]], 6, 2021),
    ([["I5"]], 4, 2020),
    ([["I1"], ["I4"]], 4, 2021),
    ([["I3", "I4"]], 3, 2020),
    ([["I2"], ["I5"]], 2, 2021),
]


def _institution(iid: str) -> dict[str, Any]:
    city, geonames, latitude, longitude, country = _GEO[iid]
    return placed_institution(iid, f"{city} institute {iid}", city, geonames, latitude, longitude, country)


def _works(copies: int) -> list[dict[str, Any]]:
    works = []
    for p, (authors, n, year) in enumerate(_PLAN):
        for i in range(n * copies):
            embedded = [
                [{k: v for k, v in _institution(iid).items() if k != "geo"} for iid in a] for a in authors
            ]
            works.append(
                {
                    "id": f"https://openalex.org/W{100000 * (p + 1) + i}",
                    "type": "article",
                    "publication_year": year,
                    "authorships": [
                        {"author": {"id": f"A{100000 * (p + 1) + i}{j}"}, "institutions": insts}
                        for j, insts in enumerate(embedded)
                    ],
                }
            )
    return works


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Store]:
    institutions = [_institution(iid) for iid in _GEO]
    return {
        copies: store_from_records(
            tmp_path_factory.mktemp(f"intervals{copies}"), _works(copies), institutions
        )
        for copies in (1, 10)
    }


def _joined(store: Store, **options: Any) -> list[dict[str, Any]]:
    seed = options.pop("seed", 0)
    intervals = rank_intervals(store, **options, resamples=B, seed=seed)
    ranking = rank(store, **options, intervals=True, resamples=B, seed=seed).table
    assert sorted(intervals["id"].to_pylist()) == sorted(ranking["id"].to_pylist())
    assert ranking.select(["id", *INTERVAL_COLUMNS]).sort_by("id").equals(intervals)  # the same draws
    return ranking.to_pylist()


@pytest.mark.parametrize("level", ["institution", "city", "country"])
@pytest.mark.parametrize("copies", [1, 10])
def test_world_intervals_contain_share_and_rank(worlds: dict[int, Store], level: str, copies: int) -> None:
    rows = _joined(worlds[copies], level=level, edition="all-articles")
    assert len(rows) == {"institution": 5, "city": 4, "country": 3}[level]
    for r in rows:
        assert r["share_lo"] <= r["share"] <= r["share_hi"], r
        assert r["rank_lo"] <= r["rank"] <= r["rank_hi"], r


def test_world_city_intervals_narrow_tenfold(worlds: dict[int, Store]) -> None:
    once = {r["id"]: r for r in _joined(worlds[1], level="city", edition="all-articles")}
    tenfold = {r["id"]: r for r in _joined(worlds[10], level="city", edition="all-articles")}
    assert tenfold["us-csa-148"]["share"] == pytest.approx(10 * once["us-csa-148"]["share"])
    for city, r in once.items():
        t = tenfold[city]
        assert (t["share_hi"] - t["share_lo"]) / t["share"] < 0.5 * (r["share_hi"] - r["share_lo"]) / r[
            "share"
        ]
        assert t["rank_hi"] - t["rank_lo"] <= r["rank_hi"] - r["rank_lo"]
    # Boston (210) and London (135) are far apart at 10x; Oxford (75) and Paris (50) still swap now and then.
    assert [(t["id"], t["rank_lo"], t["rank_hi"]) for t in tenfold.values()][:2] == [
        ("us-csa-148", 1, 1),
        ("gb-london", 2, 2),
    ]
    assert once["gb-london"]["rank_hi"] > 2  # at 1x London (13.5) and Oxford (7.5) swap


def test_world_window_follows_the_ranking(worlds: dict[int, Store]) -> None:
    rows = _joined(worlds[1], level="city", edition="all-articles", years=(2021, 2021))
    assert {r["id"]: r["share"] for r in rows} == pytest.approx(
        {"us-csa-148": 6 + 2 + 1, "gb-london": 2, "gb-oxford": 6, "fr-paris": 1}
    )
    for r in rows:
        assert r["share_lo"] <= r["share"] <= r["share_hi"], r


def _demo_check(rows: list[dict[str, Any]]) -> None:
    """Share intervals contain the Share; rank intervals the rank, except the tail effect (module docstring):
    only for entities with one or two articles, and only ever from above."""
    for r in rows:
        assert r["share_lo"] <= r["share"] <= r["share_hi"], r
        assert r["rank_lo"] <= r["rank"], r
        if r["count"] >= 3:
            assert r["rank"] <= r["rank_hi"], r


@pytest.mark.parametrize("level", ["institution", "city", "country", "group"])
def test_demo_intervals_contain_the_point_estimate(demo: Store, level: str) -> None:
    rows = _joined(demo, level=level)
    _demo_check(rows)
    leader = rows[0]
    assert leader["rank_lo"] == 1 and leader["share_hi"] > leader["share"] > leader["share_lo"] > 0


def test_demo_tail_effect_is_real(demo: Store) -> None:
    """The bottom of the demo's institution ranking (a tie of institutions with one small Share) lies below
    every rank those institutions get in a resample: the documented tail effect, not a bug."""
    rows = _joined(demo, level="institution")
    bottom = [r for r in rows if r["rank"] == rows[-1]["rank"]]
    assert all(r["count"] <= 2 and r["rank_hi"] < r["rank"] for r in bottom)


def test_demo_subject_window_rollup_and_city(demo: Store) -> None:
    _demo_check(_joined(demo, level="city", subject="chemistry"))
    _demo_check(_joined(demo, level="country", years=(2024, 2024)))
    _demo_check(_joined(demo, level="institution", rollup=True))
    city = _joined(demo, level="institution", city="gb-london")
    _demo_check(city)
    assert 1 < len(city) < 40


def test_demo_same_seed_same_table(demo: Store) -> None:
    first = rank_intervals(demo, level="city", resamples=B, seed=42)
    assert rank_intervals(demo, level="city", resamples=B, seed=42).equals(first)
    assert not rank_intervals(demo, level="city", resamples=B, seed=43).equals(first)
    assert first.schema == pa.schema(
        [
            ("id", pa.string()),
            ("share_lo", pa.float64()),
            ("share_hi", pa.float64()),
            ("rank_lo", pa.int64()),
            ("rank_hi", pa.int64()),
        ]
    )


@pytest.mark.parametrize(
    ("resamples", "seed", "message"),
    [
        (MIN_RESAMPLES - 1, 0, "between 10 and 100,000"),
        (MAX_RESAMPLES + 1, 0, "between 10 and 100,000"),
        (100.0, 0, "whole number"),
        (True, 0, "whole number"),
        (100, -1, "--seed"),
        (100, "7", "--seed"),
        (100, 1.5, "--seed"),
    ],
)
def test_options_are_checked(resamples: Any, seed: Any, message: str) -> None:
    with pytest.raises(InputError, match=message) as error:
        check_options(resamples, seed)
    assert error.value.hint


def test_rank_intervals_refuses_what_rank_refuses(demo: Store) -> None:
    with pytest.raises(InputError, match="--resamples"):
        rank_intervals(demo, level="city", resamples=5)
    with pytest.raises(InputError, match="unknown level"):
        rank_intervals(demo, level="planet")
    with pytest.raises(InputError, match="window"):
        rank_intervals(demo, level="city", years=(2024, 2020))
    with pytest.raises(InputError, match="--rollup"):
        rank_intervals(demo, level="city", rollup=True)
    with pytest.raises(InputError, match="--city"):
        rank_intervals(demo, level="country", city="gb-london")
    with pytest.raises(InputError, match="subject"):
        rank_intervals(demo, level="city", subject="astrology")
    with pytest.raises(StoreError, match="not built"):
        rank_intervals(demo, level="city", edition="nature-index-2018")
