"""Collaboration (DESIGN §4): pairs, co-authored articles and score against a hand computation on a tiny
world, against a pure-Python recount on the demo store, and the `collab` verb's CSV edge list and GraphML."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import typer
from typer.testing import CliRunner

from conftest import placed_institution, store_from_records
from sciencecities import Store, rank
from sciencecities.errors import InputError
from sciencecities.present.cli.collab import collab_cmd
from sciencecities.rank.collaboration import COLUMNS, collaboration

EDITION = "all-articles"

# The tiny world. Places are OpenAlex `geo` GeoNames ids: Cambridge (MA) and Boston are both in the Boston
# metropolitan area (us-csa-148); Oxford and London are separate science cities; I6 has no country nor place.
_GEO = {
    "I1": ("Cambridge", 4931972, 42.3751, -71.10561, "US"),
    "I2": ("Boston", 4930956, 42.35843, -71.05977, "US"),
    "I3": ("Oxford", 2640729, 51.75222, -1.25596, "GB"),
    "I4": ("London", 2643743, 51.50853, -0.12574, "GB"),
    "I5": ("Paris", 2988507, 48.85341, 2.3488, "FR"),
}
BOSTON, OXFORD, LONDON, PARIS = "us-csa-148", "gb-oxford", "gb-london", "fr-paris"


def _institution(iid: str) -> dict[str, Any]:
    if iid not in _GEO:
        return {"id": f"https://openalex.org/{iid}", "display_name": f"Unplaced {iid}"}
    city, geonames, latitude, longitude, country = _GEO[iid]
    return placed_institution(iid, f"{city} institute {iid}", city, geonames, latitude, longitude, country)


def _work(wid: str, year: int, authors: list[list[str]]) -> dict[str, Any]:
    embedded = {iid: {k: v for k, v in _institution(iid).items() if k != "geo"} for a in authors for iid in a}
    return {
        "id": f"https://openalex.org/{wid}",
        "type": "article",
        "publication_year": year,
        "authorships": [
            {"author": {"id": f"A{wid}{i}"}, "institutions": [embedded[iid] for iid in insts]}
            for i, insts in enumerate(authors)
        ],
    }


# Shares per work (DESIGN §4: an author's 1/n_a split over their institutions):
# W1 2020: n_a = 2; author 0 at I1 and I3 -> I1 = 1/4, I3 = 1/4; author 1 at I2 -> I2 = 1/2.
# W2 2020: n_a = 3; I1 = 1/3, I3 = 1/3, I4 = 1/3.
# W3 2021: n_a = 4; I2 = 1/4 + 1/4 = 1/2 (two authors), I4 = 1/4, I5 = 1/4.
# W4 2021: one institution only (I5, two authors): no pair at any level.
# W5 2021: n_a = 2; I5 = 1/2, I6 = 1/2 (I6 has neither country nor place: a pair only at institution level).
WORKS = [
    _work("W1", 2020, [["I1", "I3"], ["I2"]]),
    _work("W2", 2020, [["I1"], ["I3"], ["I4"]]),
    _work("W3", 2021, [["I2"], ["I4"], ["I5"], ["I2"]]),
    _work("W4", 2021, [["I5"], ["I5"]]),
    _work("W5", 2021, [["I5"], ["I6"]]),
]

# (id_a, id_b): (articles, score, share_a, share_b); score = share_a + share_b over the articles with both.
INSTITUTION_PAIRS = {
    ("I1", "I2"): (1, 3 / 4, 1 / 4, 1 / 2),  # W1: 1/4 + 1/2
    ("I1", "I3"): (2, 7 / 6, 7 / 12, 7 / 12),  # W1: 1/4 + 1/4; W2: 1/3 + 1/3 -> 1/2 + 2/3 = 7/6
    ("I1", "I4"): (1, 2 / 3, 1 / 3, 1 / 3),  # W2
    ("I2", "I3"): (1, 3 / 4, 1 / 2, 1 / 4),  # W1: 1/2 + 1/4
    ("I2", "I4"): (1, 3 / 4, 1 / 2, 1 / 4),  # W3: 1/2 + 1/4
    ("I2", "I5"): (1, 3 / 4, 1 / 2, 1 / 4),  # W3
    ("I3", "I4"): (1, 2 / 3, 1 / 3, 1 / 3),  # W2
    ("I4", "I5"): (1, 1 / 2, 1 / 4, 1 / 4),  # W3
    ("I5", "I6"): (1, 1.0, 1 / 2, 1 / 2),  # W5
}
# Countries per work: W1 US = 1/4 + 1/2 = 3/4, GB = 1/4; W2 US = 1/3, GB = 2/3;
# W3 US = 1/2, GB = 1/4, FR = 1/4; W5 has FR only once I6 (no country) is left out.
COUNTRY_PAIRS = {
    ("GB", "US"): (3, 11 / 4, 7 / 6, 19 / 12),  # GB 1/4 + 2/3 + 1/4 = 7/6; US 3/4 + 1/3 + 1/2 = 19/12
    ("FR", "GB"): (1, 1 / 2, 1 / 4, 1 / 4),  # W3
    ("FR", "US"): (1, 3 / 4, 1 / 4, 1 / 2),  # W3
}
# Metro cities per work: W1 Boston = I1 + I2 = 3/4, Oxford = 1/4 (I1 and I2 are one city: not a pair);
# W2 Boston = Oxford = London = 1/3; W3 Boston = 1/2, London = 1/4, Paris = 1/4.
CITY_PAIRS = {
    (OXFORD, BOSTON): (2, 5 / 3, 7 / 12, 13 / 12),  # Oxford 1/4 + 1/3 = 7/12; Boston 3/4 + 1/3 = 13/12
    (LONDON, OXFORD): (1, 2 / 3, 1 / 3, 1 / 3),  # W2
    (LONDON, BOSTON): (2, 17 / 12, 7 / 12, 5 / 6),  # London 1/3 + 1/4 = 7/12; Boston 1/3 + 1/2 = 5/6
    (PARIS, LONDON): (1, 1 / 2, 1 / 4, 1 / 4),  # W3
    (PARIS, BOSTON): (1, 3 / 4, 1 / 4, 1 / 2),  # W3
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Store:
    institutions = [_institution(f"I{n}") for n in range(1, 7)]
    return store_from_records(tmp_path_factory.mktemp("collab"), WORKS, institutions)


def _pairs(store: Store, **kwargs: Any) -> dict[tuple[str, str], tuple[int, float, float, float]]:
    table = collaboration(store, edition=kwargs.pop("edition", EDITION), **kwargs).table
    return {
        (r["id_a"], r["id_b"]): (r["articles"], r["score"], r["share_a"], r["share_b"])
        for r in table.to_pylist()
    }


def _assert_pairs(got: dict[tuple[str, str], tuple[int, float, float, float]], want: dict[Any, Any]) -> None:
    assert set(got) == set(want)
    for pair, (articles, score, share_a, share_b) in want.items():
        assert got[pair][0] == articles, pair
        assert got[pair][1:] == pytest.approx((score, share_a, share_b), abs=1e-12), pair


@pytest.mark.parametrize(
    ("level", "want"),
    [("institution", INSTITUTION_PAIRS), ("country", COUNTRY_PAIRS), ("city", CITY_PAIRS)],
)
def test_tiny_world_pairs_match_the_hand_computation(tiny: Store, level: str, want: dict[Any, Any]) -> None:
    _assert_pairs(_pairs(tiny, level=level), want)


def test_tiny_world_window_keeps_only_its_years(tiny: Store) -> None:
    # 2021: only W3 gives pairs (W4 has one country; so has W5 once I6 is left out): US 1/2, GB 1/4, FR 1/4.
    want = {
        ("GB", "US"): (1, 3 / 4, 1 / 4, 1 / 2),
        ("FR", "GB"): (1, 1 / 2, 1 / 4, 1 / 4),
        ("FR", "US"): (1, 3 / 4, 1 / 4, 1 / 2),
    }
    _assert_pairs(_pairs(tiny, level="country", years=(2021, 2021)), want)
    assert _pairs(tiny, level="city", years=(2019, 2019)) == {}


def test_tiny_world_ranks_ties_and_names(tiny: Store) -> None:
    table = collaboration(tiny, level="institution", edition=EDITION).table
    assert tuple(table.column_names) == COLUMNS
    rows = table.to_pylist()
    # 7/6; 1; four pairs at 3/4 with one article each share rank 3; two at 2/3 share 7; 1/2 is 9.
    assert [r["rank"] for r in rows] == [1, 2, 3, 3, 3, 3, 7, 7, 9]
    # Ties are ordered by name: side a Boston (I2) with London (I4), Oxford (I3), Paris (I5); then Cambridge.
    assert [(r["id_a"], r["id_b"]) for r in rows[2:6]] == [
        ("I2", "I4"),
        ("I2", "I3"),
        ("I2", "I5"),
        ("I1", "I2"),
    ]
    assert rows[1]["name_b"] == "Unplaced I6" and rows[1]["country_code_b"] is None
    top = collaboration(tiny, level="institution", edition=EDITION, top=3).table
    assert top.num_rows == 6  # ties at the cut are kept


def test_tiny_world_partners_of_one_city_put_it_first(tiny: Store) -> None:
    partners = collaboration(tiny, level="city", edition=EDITION, entity="Boston").table.to_pylist()
    assert [(r["id_a"], r["id_b"]) for r in partners] == [(BOSTON, OXFORD), (BOSTON, LONDON), (BOSTON, PARIS)]
    oxford = partners[0]
    assert (oxford["articles"], oxford["share_a"], oxford["share_b"]) == (
        2,
        pytest.approx(13 / 12),
        pytest.approx(7 / 12),
    )
    assert oxford["name_a"] == "Boston metropolitan area" and oxford["country_code_b"] == "GB"


def test_unknown_level_and_entity_are_input_errors(tiny: Store) -> None:
    with pytest.raises(InputError, match="unknown collaboration level") as raised:
        collaboration(tiny, level="planet", edition=EDITION)
    assert raised.value.hint is not None and "institution, city, country" in raised.value.hint
    with pytest.raises(InputError, match="no country 'XX'"):
        collaboration(tiny, level="country", edition=EDITION, entity="XX")


@pytest.mark.parametrize("level", ["institution", "city", "country"])
@pytest.mark.parametrize("years", [None, (2018, 2022)])
def test_demo_pairs_are_consistent_with_rank(demo: Store, level: str, years: tuple[int, int] | None) -> None:
    rows = collaboration(demo, level=level, years=years).table.to_pylist()
    assert rows, "the demo has co-authored articles at every level"
    counts = {r["id"]: r["count"] for r in rank(demo, level=level, years=years).table.to_pylist()}
    for row in rows:
        assert row["id_a"] < row["id_b"]
        assert math.isclose(row["score"], row["share_a"] + row["share_b"], abs_tol=1e-12)
        assert 1 <= row["articles"] <= min(counts[row["id_a"]], counts[row["id_b"]])
    scores = [round(r["score"], 9) for r in rows]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(("level", "entity"), [("city", "us-csa-148"), ("institution", "I136199984")])
def test_demo_partners_are_the_pairs_that_include_the_entity(demo: Store, level: str, entity: str) -> None:
    every = collaboration(demo, level=level).table.to_pylist()
    expected = {}
    for r in every:
        if entity in (r["id_a"], r["id_b"]):
            other, mine, theirs = (
                (r["id_b"], r["share_a"], r["share_b"])
                if r["id_a"] == entity
                else (r["id_a"], r["share_b"], r["share_a"])
            )
            expected[other] = (r["articles"], r["score"], mine, theirs)
    partners = collaboration(demo, level=level, entity=entity).table.to_pylist()
    assert {r["id_a"] for r in partners} == {entity}
    got = {r["id_b"]: (r["articles"], r["score"], r["share_a"], r["share_b"]) for r in partners}
    assert set(got) == set(expected)
    for other, (articles, *shares) in expected.items():  # float sums may differ by an ulp between queries
        assert got[other][0] == articles and got[other][1:] == pytest.approx(tuple(shares), abs=1e-12), other
    assert partners[0]["rank"] == 1


def _recount(
    store: Store, edition: str, subject: str, years: tuple[int, int], located: dict[str, str]
) -> dict:
    """Pairs in plain Python from the stored credit: share per (work, entity), then each work's pairs."""
    chosen = {
        r["work_id"] for r in store.read("work_subjects", edition).to_pylist() if r["subject"] == subject
    }
    per_work: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for r in store.read("credit", edition).to_pylist():
        if r["work_id"] in chosen and years[0] <= r["year"] <= years[1] and located.get(r["institution_id"]):
            per_work[r["work_id"]][located[r["institution_id"]]] += r["share"]
    totals: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    for shares in per_work.values():
        for a in shares:
            for b in shares:
                if a < b:
                    total = totals[(a, b)]
                    total[0] += 1
                    total[1] += shares[a]
                    total[2] += shares[b]
    return {k: (int(n), sa + sb, sa, sb) for k, (n, sa, sb) in totals.items()}


@pytest.mark.parametrize("level", ["city", "country"])
def test_demo_subject_and_window_match_a_plain_python_recount(demo: Store, level: str) -> None:
    edition, subject, years = "nature-index", "biological-sciences", (2015, 2024)
    if level == "city":
        units = demo.read("institution_units", edition).to_pylist()
        located = {r["institution_id"]: r["unit_id"] for r in units if r["boundaries"] == "metro"}
    else:
        places = {
            r["institution_id"]: r["place_country_code"]
            for r in demo.read("institution_places", edition).to_pylist()
        }
        located = {
            r["institution_id"]: r["country_code"] or places.get(r["institution_id"])
            for r in demo.read("institutions").to_pylist()
        }
    want = _recount(demo, edition, subject, years, located)
    assert want, "the demo has co-authored biological-sciences articles"
    got = _pairs(demo, level=level, years=years, subject="Biological Sciences", edition=edition)
    assert set(got) == set(want)
    for pair, value in want.items():
        assert got[pair][0] == value[0] and got[pair][1:] == pytest.approx(value[1:], abs=1e-9), pair


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("collab")(collab_cmd)
    app.command("help")(lambda: None)  # a second command keeps `collab` a subcommand, as in main.py
    return app


def test_cli_writes_the_csv_edge_list_and_a_graphml_network(demo: Store, tmp_path: Path) -> None:
    edges, graph_file = tmp_path / "edges.csv", tmp_path / "network.graphml"
    args = [
        "collab",
        "--store",
        str(demo.root),
        "--level",
        "country",
        "--years",
        "2015-2024",
        "--format",
        "csv",
        "--out",
        str(edges),
        "--graphml",
        str(graph_file),
    ]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    with edges.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == COLUMNS
    assert rows[0]["rank"] == "1" and rows[0]["id_a"] < rows[0]["id_b"]
    graph = nx.read_graphml(graph_file)
    assert not graph.is_directed()
    assert graph.number_of_edges() == len(rows)
    for row in rows:
        data = graph.edges[row["id_a"], row["id_b"]]
        assert data["articles"] == int(row["articles"])
        assert data["score"] == pytest.approx(float(row["score"]), rel=1e-12)
    shares = {r["id"]: r for r in rank(demo, level="country", years=(2015, 2024)).table.to_pylist()}
    ids = {r["id_a"] for r in rows} | {r["id_b"] for r in rows}
    assert set(graph.nodes) == ids
    for node, data in graph.nodes(data=True):
        assert data["name"] == shares[node]["name"] and data["country_code"] == node
        assert (data["count"], data["share"]) == (shares[node]["count"], pytest.approx(shares[node]["share"]))
    assert graph.graph["level"] == "country" and graph.graph["years"] == "2015-2024"


def test_cli_partners_in_the_terminal(demo: Store) -> None:
    args = ["collab", "--store", str(demo.root), "--id", "Boston", "--top", "3"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())  # the title wraps at the table's width
    assert "partners of Boston metropolitan area (us-csa-148)" in text
    assert "New York" in text and "London" in text
