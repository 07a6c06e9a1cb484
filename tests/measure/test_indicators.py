"""Size-independent indicators (issue 10, point 3): Share per article, international and company fractions,
MNCS and PP(top 10%) against hand computations on a tiny world, the top-10% tie rule on constructed citation
distributions, the minimum size, and a pure-Python recount on the demo store."""

from __future__ import annotations

import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import placed_institution, store_from_records
from sciencecities import Store, engines, rank
from sciencecities.errors import InputError, StoreError
from sciencecities.measure.indicators import DEFAULT_MIN_ARTICLES, citation_scores, top_share
from sciencecities.rank.indicators import COLUMNS, SIZE_INDEPENDENT, size_independent

EDITION = "all-articles"

# Places are OpenAlex `geo` GeoNames ids: Cambridge (MA) and Boston are both in the Boston metropolitan area.
_GEO = {
    "I1": ("Cambridge", 4931972, 42.3751, -71.10561, "US", "education"),
    "I2": ("Boston", 4930956, 42.35843, -71.05977, "US", "company"),
    "I3": ("Oxford", 2640729, 51.75222, -1.25596, "GB", "education"),
    "I4": ("London", 2643743, 51.50853, -0.12574, "GB", "company"),
    "I5": ("Paris", 2988507, 48.85341, 2.3488, "FR", "government"),
}
BOSTON = "us-csa-148"


def _institution(iid: str) -> dict[str, Any]:
    if iid not in _GEO:  # no country, no place
        return {"id": f"https://openalex.org/{iid}", "display_name": f"Unplaced {iid}", "type": "nonprofit"}
    city, geonames, latitude, longitude, country, kind = _GEO[iid]
    return placed_institution(
        iid, f"{city} institute {iid}", city, geonames, latitude, longitude, country, type=kind
    )


def _work(
    wid: str, year: int, authors: list[list[str]], cited: int | None, subfield: str | None
) -> dict[str, Any]:
    embedded = {iid: {k: v for k, v in _institution(iid).items() if k != "geo"} for a in authors for iid in a}
    work: dict[str, Any] = {
        "id": f"https://openalex.org/{wid}",
        "type": "article",
        "publication_year": year,
        "cited_by_count": cited,
        "authorships": [
            {"author": {"id": f"A{wid}{i}"}, "institutions": [embedded[iid] for iid in insts]}
            for i, insts in enumerate(authors)
        ],
    }
    if subfield is not None:
        work["primary_topic"] = {
            "id": f"https://openalex.org/T{subfield}0",
            "subfield": {"id": f"https://openalex.org/subfields/{subfield}", "display_name": f"S{subfield}"},
            "field": {"id": f"https://openalex.org/fields/{subfield[:2]}", "display_name": "F"},
            "domain": {"id": "https://openalex.org/domains/1", "display_name": "D"},
        }
    return work


# Shares (DESIGN §4), countries on the article, a company on it, citations and field-year:
# W1 2020: I1 1/2, I2 1/2          US            company (I2)   10 cites, subfield 1000
# W2 2020: I1 1/2, I3 1/2          US, GB: intl                 30 cites, subfield 1000
# W3 2020: I3 1/3, I4 1/3, I5 1/3  GB, FR: intl  company (I4)   20 cites, subfield 1000
# W4 2021: I1 1/2, I6 1/2          US (I6 has no country): not international    4 cites, subfield 2000
# W5 2021: I1 1                    US                            0 cites, subfield 2000
# W6 2021: I1 1                    US                            0 cites, subfield 3000 (alone: mean 0, left out)
# W7 2021: I3 1                    GB                          100 cites, no subfield (left out)
# Field-year 1000/2020: mean 20 -> ncs W1 1/2, W2 3/2, W3 1; N = 3, top mass 0.3: W2 0.3, W1 and W3 0.
# Field-year 2000/2021: mean 2 -> ncs W4 2, W5 0; N = 2, top mass 0.2: W4 0.2, W5 0.
WORKS = [
    _work("W1", 2020, [["I1"], ["I2"]], 10, "1000"),
    _work("W2", 2020, [["I1"], ["I3"]], 30, "1000"),
    _work("W3", 2020, [["I3"], ["I4"], ["I5"]], 20, "1000"),
    _work("W4", 2021, [["I1"], ["I6"]], 4, "2000"),
    _work("W5", 2021, [["I1"]], 0, "2000"),
    _work("W6", 2021, [["I1"]], 0, "3000"),
    _work("W7", 2021, [["I3"]], 100, None),
]

# id: (count, share, share_per_article, international, company, citation_articles, mncs, pp_top10)
INSTITUTIONS = {
    # W1, W2, W4, W5, W6: share 1/2 + 1/2 + 1/2 + 1 + 1 = 7/2; intl W2; company W1.
    # Scored W1, W2, W4, W5 (share 5/2): ncs 1/4 + 3/4 + 1 + 0 = 2 -> 4/5; top 0.15 + 0.1 = 0.25 -> 1/10.
    "I1": (5, 7 / 2, 7 / 10, 1 / 5, 1 / 5, 4, 4 / 5, 1 / 10),
    # W2, W3, W7: share 1/2 + 1/3 + 1 = 11/6; intl W2, W3; company W3.
    # Scored W2, W3 (share 5/6): ncs 3/4 + 1/3 = 13/12 -> 13/10; top 0.15 -> 0.15 / (5/6) = 0.18.
    "I3": (3, 11 / 6, 11 / 18, 2 / 3, 1 / 3, 2, 13 / 10, 0.18),
    "I2": (1, 1 / 2, 1 / 2, 0.0, 1.0, 1, 1 / 2, 0.0),  # W1
    "I4": (1, 1 / 3, 1 / 3, 1.0, 1.0, 1, 1.0, 0.0),  # W3
    "I5": (1, 1 / 3, 1 / 3, 1.0, 1.0, 1, 1.0, 0.0),  # W3
    "I6": (1, 1 / 2, 1 / 2, 0.0, 0.0, 1, 2.0, 0.2),  # W4
}
COUNTRIES = {
    # W1 (I1 + I2 = 1), W2 1/2, W4 1/2, W5 1, W6 1: share 4; intl W2; company W1.
    # Scored W1, W2, W4, W5 (share 3): ncs 1/2 + 3/4 + 1 + 0 = 9/4 -> 3/4; top 0.15 + 0.1 -> 1/12.
    "US": (5, 4.0, 4 / 5, 1 / 5, 1 / 5, 4, 3 / 4, 1 / 12),
    # W2 1/2, W3 (I3 + I4 = 2/3), W7 1: share 13/6; intl W2, W3; company W3.
    # Scored W2, W3 (share 7/6): ncs 3/4 + 2/3 = 17/12 -> 17/14; top 0.15 -> 9/70.
    "GB": (3, 13 / 6, 13 / 18, 2 / 3, 1 / 3, 2, 17 / 14, 9 / 70),
    "FR": (1, 1 / 3, 1 / 3, 1.0, 1.0, 1, 1.0, 0.0),  # W3
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Store:
    institutions = [_institution(f"I{n}") for n in range(1, 7)]
    return store_from_records(tmp_path_factory.mktemp("indicators"), WORKS, institutions)


def _by_id(table: Any) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in table.to_pylist()}


def _assert_rows(got: dict[str, dict[str, Any]], want: dict[str, tuple[Any, ...]], ranked: set[str]) -> None:
    assert set(got) == set(want)
    for eid, (count, share, per_article, intl, company, cited, mncs, pp) in want.items():
        row = got[eid]
        assert row["count"] == count and row["citation_articles"] == cited, eid
        assert (
            row["share"],
            row["share_per_article"],
            row["international_fraction"],
            row["company_fraction"],
        ) == (pytest.approx((share, per_article, intl, company), abs=1e-12)), eid
        assert row["citation_ranked"] is (eid in ranked), eid
        if eid in ranked:
            assert (row["mncs"], row["pp_top10"]) == pytest.approx((mncs, pp), abs=1e-12), eid
        else:
            assert row["mncs"] is None and row["pp_top10"] is None, eid


def test_tiny_world_institutions_match_the_hand_computation(tiny: Store) -> None:
    table = size_independent(tiny, level="institution", edition=EDITION, min_articles=1)
    assert tuple(table.column_names) == COLUMNS
    _assert_rows(_by_id(table), INSTITUTIONS, set(INSTITUTIONS))


def test_tiny_world_countries_match_the_hand_computation(tiny: Store) -> None:
    table = size_independent(tiny, level="country", edition=EDITION, min_articles=1)
    _assert_rows(_by_id(table), COUNTRIES, set(COUNTRIES))


def test_tiny_world_city_is_its_institutions(tiny: Store) -> None:
    # Boston metro = I1 + I2 = every US institution (I6 is unplaced): the same articles as the US.
    rows = _by_id(size_independent(tiny, level="city", edition=EDITION, min_articles=1))
    _assert_rows({BOSTON: rows[BOSTON]}, {BOSTON: COUNTRIES["US"]}, {BOSTON})


def test_min_articles_leaves_small_entities_unranked(tiny: Store) -> None:
    # I1 has 4 scored articles, I3 2, the others 1; the size-independent fractions stay for everyone.
    rows = _by_id(size_independent(tiny, level="institution", edition=EDITION, min_articles=2))
    _assert_rows(rows, INSTITUTIONS, {"I1", "I3"})
    rows = _by_id(size_independent(tiny, level="country", edition=EDITION, min_articles=3))
    _assert_rows(rows, COUNTRIES, {"US"})
    default = size_independent(tiny, level="country", edition=EDITION)
    assert DEFAULT_MIN_ARTICLES > 4 and not any(default["citation_ranked"].to_pylist())


def test_window_restricts_articles_not_normalisation(tiny: Store) -> None:
    # 2021 only: I1 has W4, W5, W6 (share 5/2; W4 is domestic: I6 has no country); scored W4, W5 (share 3/2):
    # ncs 1/2 * 2 + 0 = 1 -> 2/3 (normalised in 2000/2021 as before); top 0.1 -> 1/15.
    row = _by_id(
        size_independent(tiny, level="institution", edition=EDITION, years=(2021, 2021), min_articles=1)
    )["I1"]
    assert (row["count"], row["citation_articles"]) == (3, 2)
    assert (row["share"], row["international_fraction"], row["company_fraction"]) == pytest.approx(
        (5 / 2, 0, 0)
    )
    assert (row["mncs"], row["pp_top10"]) == pytest.approx((2 / 3, 1 / 15))


def test_errors_name_what_to_do(tiny: Store) -> None:
    with pytest.raises(InputError, match="unknown level"):
        size_independent(tiny, level="planet", edition=EDITION)
    with pytest.raises(InputError, match="--min-articles"):
        size_independent(tiny, level="city", edition=EDITION, min_articles=0)
    with pytest.raises(InputError, match="empty"):
        size_independent(tiny, level="city", edition=EDITION, years=(2021, 2020))
    with pytest.raises(StoreError, match="not built"):
        size_independent(tiny, level="city", edition=EDITION, boundaries="nowhere")


# The top-10% tie rule: a value above the threshold counts 1, below 0; the values tied at the threshold share
# the rest of the field-year's top-10% mass N / 10 equally.
TIE_CASES = [
    # 20 works: mass 2. The 9 is above (1); three 5s share the remaining 1 (1/3 each); the 0s get nothing.
    ([0] * 16 + [5, 5, 5, 9], {9: 1.0, 5: 1 / 3, 0: 0.0}),
    # 10 distinct values: mass 1, the top one exactly fills it.
    (list(range(1, 11)), {10: 1.0} | {c: 0.0 for c in range(1, 10)}),
    # 15 distinct values: mass 1.5, the second gets the half left.
    (list(range(1, 16)), {15: 1.0, 14: 0.5} | {c: 0.0 for c in range(1, 14)}),
    # All tied: each gets 1/10.
    ([7, 7, 7], {7: 0.1}),
    # 30 works, 4 tied at the top: mass 3 over 4 tied works, 3/4 each (no one strictly above).
    ([50] * 4 + [1] * 26, {50: 0.75, 1: 0.0}),
]


@pytest.mark.parametrize(("citations", "want"), TIE_CASES)
def test_top_share_splits_ties_at_the_threshold(citations: list[int], want: dict[int, float]) -> None:
    rows = ibis.memtable(
        pa.table(
            {
                "work_id": [f"W{i}" for i in range(len(citations))],
                "subfield": ["1000"] * len(citations),
                "year": [2020] * len(citations),
                "citations": citations,
            }
        )
    )
    got = top_share(rows, ["subfield", "year"], "citations").to_pyarrow().to_pylist()
    assert len(got) == len(citations)
    for row in got:
        assert row["top"] == pytest.approx(want[row["citations"]], abs=1e-12), row
    assert sum(r["top"] for r in got) == pytest.approx(len(citations) / 10, abs=1e-12)


def test_top_share_is_per_group() -> None:
    # Two field-years side by side: each sums to its own N / 10.
    rows = ibis.memtable(
        pa.table(
            {
                "subfield": ["A"] * 20 + ["B"] * 5,
                "year": [2020] * 25,
                "citations": [0] * 16 + [5, 5, 5, 9] + [3, 3, 2, 1, 0],
            }
        )
    )
    got = top_share(rows, ["subfield", "year"], "citations").to_pyarrow().to_pylist()
    totals: dict[str, float] = defaultdict(float)
    for row in got:
        totals[row["subfield"]] += row["top"]
    assert totals == pytest.approx({"A": 2.0, "B": 0.5})
    # B: N = 5, mass 1/2 over the two works tied at the top (3 cites): 1/4 each.
    assert [r["top"] for r in got if r["subfield"] == "B" and r["citations"] == 3] == pytest.approx(
        [0.25, 0.25]
    )


@pytest.fixture(scope="module")
def tied(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A field-year of 20 articles cited [0] * 16 + [5, 5, 5, 9], each by its own institution (T0..T19), and
    one article co-authored by T16, T17 and T18 (the three 5s) in another field-year."""
    citations = [0] * 16 + [5, 5, 5, 9]
    works = [_work(f"W{i}", 2020, [[f"T{i}"]], c, "1000") for i, c in enumerate(citations)]
    works.append(_work("W20", 2020, [["T16"], ["T17"], ["T18"]], 3, "2000"))
    return store_from_records(tmp_path_factory.mktemp("tied"), works)


def test_pp_top10_tie_rule_on_a_constructed_distribution(tied: Store) -> None:
    # Per work, within 1000/2020 (N = 20, mass 2): the 9 gets 1, the three 5s 1/3 each, the sixteen 0s 0;
    # the field-year sums to exactly 2.0. W20 is alone in 2000/2020: mass 0.1, all of it its own.
    con = engines.connect(tied.current, EDITION)
    try:
        scores = citation_scores(con.table("eligible_works"), con.table("works")).to_pyarrow().to_pylist()
    finally:
        con.disconnect()
    top = {r["work_id"]: r["top10"] for r in scores}
    assert top == pytest.approx(
        {f"W{i}": 0.0 for i in range(16)}
        | {"W16": 1 / 3, "W17": 1 / 3, "W18": 1 / 3}
        | {"W19": 1.0, "W20": 0.1}
    )
    assert sum(r["top10"] for r in scores if r["subfield"] == "1000") == pytest.approx(2.0, abs=1e-12)

    rows = _by_id(size_independent(tied, level="institution", edition=EDITION, min_articles=1))
    # Mean citations of 1000/2020: 24 / 20 = 6/5, so ncs of a 5 is 25/6 and of the 9 is 15/2.
    assert (rows["T19"]["mncs"], rows["T19"]["pp_top10"]) == pytest.approx((15 / 2, 1.0))
    for tid in ("T16", "T17", "T18"):
        # Own article (share 1, top 1/3, ncs 25/6) and W20 (share 1/3, top 0.1, ncs 1):
        # PP = (1/3 + 1/30) / (4/3) = 11/40; MNCS = (25/6 + 1/3) / (4/3) = 27/8.
        assert (rows[tid]["mncs"], rows[tid]["pp_top10"]) == pytest.approx((27 / 8, 11 / 40)), tid
        assert rows[tid]["citation_articles"] == 2
    for tid in (f"T{i}" for i in range(16)):
        assert rows[tid]["pp_top10"] == 0.0 and rows[tid]["mncs"] == 0.0


# The demo store: a pure-Python recount of every indicator from the Parquet tables.


def _read(store: Store, name: str, edition: str | None = None) -> list[dict[str, Any]]:
    path = Path(store.current) / ("derived/" + edition if edition else "") / f"{name}.parquet"
    return pq.read_table(path).to_pylist()


def _oracle_scores(store: Store, edition: str) -> dict[str, tuple[float, float]]:
    """work_id -> (ncs, top10), by the definitions, for the eligible works that have a score."""
    works = {w["work_id"]: w for w in _read(store, "works")}
    groups: dict[tuple[str, int], list[tuple[str, int]]] = defaultdict(list)
    for e in _read(store, "eligible_works", edition):
        w = works[e["work_id"]]
        if w["primary_topic_subfield"] and w["cited_by_count"] is not None:
            groups[(w["primary_topic_subfield"], e["year"])].append((e["work_id"], w["cited_by_count"]))
    scores = {}
    for members in groups.values():
        n = len(members)
        mean = sum(c for _, c in members) / n
        if mean == 0:
            continue
        for wid, c in members:
            above = sum(1 for _, d in members if d > c)
            tied = sum(1 for _, d in members if d == c)
            scores[wid] = (c / mean, min(1.0, max(0.0, (n / 10 - above) / tied)))
    return scores


def _oracle_countries(store: Store, edition: str, min_articles: int) -> dict[str, dict[str, Any]]:
    institutions = {i["institution_id"]: i for i in _read(store, "institutions")}
    places = {
        p["institution_id"]: p["place_country_code"] for p in _read(store, "institution_places", edition)
    }

    def country(iid: str) -> str | None:
        own = institutions.get(iid, {}).get("country_code")
        return own if own is not None else places.get(iid)

    by_work: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in _read(store, "credit", edition):
        by_work[c["work_id"]].append(c)
    scores = _oracle_scores(store, edition)
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for wid, rows in by_work.items():
        known = {country(r["institution_id"]) for r in rows} - {None}
        firm = any(institutions.get(r["institution_id"], {}).get("type") == "company" for r in rows)
        share: dict[str, float] = defaultdict(float)
        for r in rows:
            if country(r["institution_id"]) is not None:
                share[country(r["institution_id"])] += r["share"]
        for code, s in share.items():
            acc = sums[code]
            acc["count"] += 1
            acc["share"] += s
            acc["intl"] += len(known) >= 2
            acc["firm"] += firm
            if wid in scores:
                acc["cited"] += 1
                acc["cited_share"] += s
                acc["ncs"] += s * scores[wid][0]
                acc["top"] += s * scores[wid][1]
    out = {}
    for code, acc in sums.items():
        ranked = acc["cited"] >= min_articles and acc["cited_share"] > 0
        out[code] = {
            "count": int(acc["count"]),
            "share": acc["share"],
            "international_fraction": acc["intl"] / acc["count"],
            "company_fraction": acc["firm"] / acc["count"],
            "citation_articles": int(acc["cited"]),
            "mncs": acc["ncs"] / acc["cited_share"] if ranked else None,
            "pp_top10": acc["top"] / acc["cited_share"] if ranked else None,
            "citation_ranked": ranked,
        }
    return out


@pytest.mark.parametrize("edition", ["nature-index", "all-articles"])
def test_demo_countries_match_a_pure_python_recount(demo: Store, edition: str) -> None:
    got = _by_id(size_independent(demo, level="country", edition=edition, min_articles=5))
    want = _oracle_countries(demo, edition, 5)
    assert set(got) == set(want)
    assert any(w["citation_ranked"] for w in want.values()) and not all(
        w["citation_ranked"] for w in want.values()
    )
    for code, row in want.items():
        for column, value in row.items():
            if isinstance(value, float):
                assert got[code][column] == pytest.approx(value, abs=1e-9), (code, column)
            else:
                assert got[code][column] == value, (code, column)


def test_demo_works_without_subfield_have_no_citation_score(demo: Store) -> None:
    works = {w["work_id"]: w for w in _read(demo, "works")}
    eligible = [e["work_id"] for e in _read(demo, "eligible_works", EDITION)]
    unclassified = {wid for wid in eligible if not works[wid]["primary_topic_subfield"]}
    assert unclassified, "the demo has eligible works without a subfield"
    scores = _oracle_scores(demo, EDITION)
    assert not unclassified & set(scores)
    # Per institution, citation_articles counts only its scored works: the unclassified ones are left out.
    credited: dict[str, set[str]] = defaultdict(set)
    for c in _read(demo, "credit", EDITION):
        credited[c["institution_id"]].add(c["work_id"])
    rows = _by_id(size_independent(demo, level="institution", edition=EDITION, min_articles=1))
    for iid, wids in credited.items():
        assert rows[iid]["count"] == len(wids)
        assert rows[iid]["citation_articles"] == len(wids & set(scores)), iid
    assert any(
        rows[iid]["citation_articles"] < rows[iid]["count"]
        for iid in credited
        if credited[iid] & unclassified
    )


@pytest.mark.parametrize("level", ["institution", "city", "country", "group"])
@pytest.mark.parametrize(("years", "subject"), [(None, None), ((2015, 2024), None), (None, "chemistry")])
def test_demo_indicators_are_consistent_with_rank(
    demo: Store, level: str, years: tuple[int, int] | None, subject: str | None
) -> None:
    table = size_independent(demo, level=level, years=years, subject=subject, min_articles=2)
    rows = _by_id(table)
    ranked = {r["id"]: r for r in rank(demo, level=level, years=years, subject=subject).table.to_pylist()}
    assert set(rows) == set(ranked) and rows
    assert table["id"].to_pylist() == sorted(rows)
    for eid, row in rows.items():
        assert row["count"] == ranked[eid]["count"]
        assert row["share"] == pytest.approx(ranked[eid]["share"], abs=1e-9)
        assert math.isclose(row["share_per_article"], row["share"] / row["count"], rel_tol=1e-12)
        assert 0.0 < row["share_per_article"] <= 1.0 + 1e-12
        assert 0.0 <= row["international_fraction"] <= 1.0 and 0.0 <= row["company_fraction"] <= 1.0
        assert 0 <= row["citation_articles"] <= row["count"]
        assert row["citation_ranked"] is (row["citation_articles"] >= 2)
        if row["citation_ranked"]:
            assert row["mncs"] >= 0.0 and 0.0 <= row["pp_top10"] <= 1.0
        else:
            assert row["mncs"] is None and row["pp_top10"] is None


@pytest.mark.parametrize(
    "options",
    [{"level": "city"}, {"level": "institution", "rollup": True}, {"level": "institution", "city": "Boston"}],
)
def test_rank_appends_the_same_indicators(demo: Store, options: dict[str, Any]) -> None:
    """`rank(..., size_independent=True)` keeps the ranking's columns and order and appends the indicators of
    each of its entities, as `size_independent` gives them (the city drill-down: of its institutions)."""
    plain = rank(demo, **options).table
    table = rank(demo, **options, size_independent=True, min_articles=3).table
    assert table.column_names == [*plain.column_names, *SIZE_INDEPENDENT]
    floats = [c for c in plain.column_names if pa.types.is_floating(plain.schema.field(c).type)]
    exact = [c for c in plain.column_names if c not in floats]
    assert table.select(exact).equals(plain.select(exact))
    for column in floats:  # DuckDB's parallel float sums may differ in the last bit between two runs
        pairs = zip(table[column].to_pylist(), plain[column].to_pylist(), strict=True)
        assert all(a == b or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12)) for a, b in pairs)
    level = options["level"]
    alone = _by_id(size_independent(demo, level=level, min_articles=3)) if "rollup" not in options else None
    for row in table.to_pylist():
        assert row["share_per_article"] == pytest.approx(row["share"] / row["count"], rel=1e-12)
        if alone is not None:
            assert {c: row[c] for c in SIZE_INDEPENDENT} == pytest.approx(
                {c: alone[row["id"]][c] for c in SIZE_INDEPENDENT}
            )
