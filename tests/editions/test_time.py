"""Adjusted Share, change, previous rank and trend on a hand-built world of three years and two subjects.

Every expected number below is computed by hand in the comments, not by running the code.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import write_jsonl
from sciencecities import Settings, Store, build, ingest_openalex, rank, trend

EDITION = {
    "name": "toy",
    "title": "Two journals, two subjects",
    "subjects": {"chem": "Chemistry", "phys": "Physics"},
    "journals": {
        "inline": [
            {"title": "Chem Journal", "subjects": ["chem"], "issns": ["1111-1111"]},
            {"title": "Phys Journal", "subjects": ["phys"], "issns": ["2222-2222"]},
        ]
    },
}
COUNTRY = {"I1": "US", "I2": "GB", "I3": "CN"}
SOURCES = {
    "chem": {"id": "https://openalex.org/S1", "display_name": "Chem J.", "issn_l": "1111-1111", "issn": ["1111-1111"]},
    "phys": {"id": "https://openalex.org/S2", "display_name": "Phys J.", "issn_l": "2222-2222", "issn": ["2222-2222"]},
}

# (work, year, journal, authors as lists of institutions)
WORKS = [
    ("W1", 2020, "chem", [["I1"], ["I2"]]),  # I1 .5, I2 .5
    ("W2", 2020, "phys", [["I1"]]),  # I1 1
    ("W3", 2021, "chem", [["I1"]]),  # I1 1
    ("W4", 2021, "chem", [["I2"], ["I3"]]),  # I2 .5, I3 .5
    ("W5", 2021, "phys", [["I3"]]),  # I3 1
    ("W6", 2022, "chem", [["I3"]]),  # I3 1
    ("W7", 2022, "chem", [["I2", "I3"]]),  # one author, two institutions: I2 .5, I3 .5
    ("W8", 2022, "phys", [["I2"]]),  # I2 1
    ("W9", 2022, "phys", [["I1"], ["I3"]]),  # I1 .5, I3 .5
    ("W10", 2022, "chem", [["I1"]]),  # I1 1
]
# N(y), all / chem / phys: 2020 2/1/1, 2021 3/2/1, 2022 5/3/2. Base year: 2022 (the latest).


def _record(wid: str, year: int, journal: str, authors: list[list[str]]) -> dict[str, object]:
    return {
        "id": f"https://openalex.org/{wid}",
        "type": "article",
        "publication_year": year,
        "primary_location": {"source": SOURCES[journal]},
        "authorships": [
            {
                "author": {"id": f"A{wid}{i}"},
                "institutions": [{"id": inst, "display_name": inst, "country_code": COUNTRY[inst]} for inst in insts],
            }
            for i, insts in enumerate(authors)
        ],
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("time")
    edition_file = root / "toy.yaml"
    edition_file.write_text(yaml.safe_dump(EDITION))
    works = write_jsonl(root / "works.jsonl", [_record(*w) for w in WORKS])
    store = Store(root / "store")
    ingest_openalex(store, [works])
    build(store, Settings(store=store.root, edition=str(edition_file)))
    return store


def _rows(store: Store, **kwargs: object) -> dict[str, dict[str, object]]:
    table = rank(store, edition="toy", **kwargs).table  # type: ignore[arg-type]
    return {row["id"]: row for row in table.to_pylist()}


def test_year_with_previous_rank_adjusted_share_and_change(world: Store) -> None:
    rows = _rows(world, level="institution", years=(2022, 2022))
    # 2022 Share: I1 .5+1 = 1.5 (count 2), I2 .5+1 = 1.5 (count 2), I3 1+.5+.5 = 2 (count 3).
    # Ranks: I3 1; I1 and I2 tie in Share and Count: both 2.
    assert {k: (r["rank"], r["count"]) for k, r in rows.items()} == {"I3": (1, 3), "I1": (2, 2), "I2": (2, 2)}
    assert [rows[k]["share"] for k in ("I1", "I2", "I3")] == pytest.approx([1.5, 1.5, 2.0])
    # Base year 2022: Adjusted Share of 2022 is the Share itself.
    assert [rows[k]["adjusted_share"] for k in ("I1", "I2", "I3")] == pytest.approx([1.5, 1.5, 2.0])
    # 2021 Share: I1 1, I2 .5, I3 1.5 -> ranks I3 1, I1 2, I2 3; adjusted x N(2022)/N(2021) = 5/3.
    assert {k: r["previous_rank"] for k, r in rows.items()} == {"I3": 1, "I1": 2, "I2": 3}
    assert [rows[k]["adjusted_share_previous"] for k in ("I1", "I2", "I3")] == pytest.approx([5 / 3, 5 / 6, 2.5])
    # Change: 1.5 / (5/3) - 1 = -0.1; 1.5 / (5/6) - 1 = 0.8; 2 / 2.5 - 1 = -0.2.
    assert [rows[k]["change"] for k in ("I1", "I2", "I3")] == pytest.approx([-0.1, 0.8, -0.2])


def test_subject_table_uses_the_subjects_own_totals(world: Store) -> None:
    rows = _rows(world, level="institution", years=(2022, 2022), subject="Chemistry")
    # Chemistry 2022: I1 1 (W10), I2 .5 (W7), I3 1 + .5 = 1.5 (W6, W7).
    assert {k: (r["rank"], r["count"], r["share"]) for k, r in rows.items()} == {
        "I3": (1, 2, pytest.approx(1.5)),
        "I1": (2, 1, pytest.approx(1.0)),
        "I2": (3, 1, pytest.approx(0.5)),
    }
    # Chemistry 2021: I1 1 (W3), I2 .5, I3 .5 (W4): I1 1; I2 and I3 tie at rank 2. Adjusted x 3/2.
    assert {k: r["previous_rank"] for k, r in rows.items()} == {"I1": 1, "I2": 2, "I3": 2}
    assert [rows[k]["adjusted_share_previous"] for k in ("I1", "I2", "I3")] == pytest.approx([1.5, 0.75, 0.75])
    # Change: 1/1.5 - 1 = -1/3; .5/.75 - 1 = -1/3; 1.5/.75 - 1 = 1.
    assert [rows[k]["change"] for k in ("I1", "I2", "I3")] == pytest.approx([-1 / 3, -1 / 3, 1.0])


def test_country_level_and_windows(world: Store) -> None:
    rows = _rows(world, level="country", years=(2021, 2022))
    # Window 2021-2022: US 1 + 1.5 = 2.5, GB .5 + 1.5 = 2, CN 1.5 + 2 = 3.5.
    assert [rows[k]["share"] for k in ("US", "GB", "CN")] == pytest.approx([2.5, 2.0, 3.5])
    # Counts: US W3, W9, W10 = 3; GB W4, W7, W8 = 3; CN W4, W5, W6, W7, W9 = 5.
    assert [rows[k]["count"] for k in ("US", "GB", "CN")] == [3, 3, 5]
    # Adjusted: 2021 x 5/3 plus 2022 x 1: US 5/3 + 1.5, GB 5/6 + 1.5, CN 2.5 + 2.
    assert [rows[k]["adjusted_share"] for k in ("US", "GB", "CN")] == pytest.approx([5 / 3 + 1.5, 5 / 6 + 1.5, 4.5])
    # Previous window of the same length: 2019-2020, only 2020: US 1.5, GB .5 (x 5/2); CN absent.
    assert [rows[k]["adjusted_share_previous"] for k in ("US", "GB")] == pytest.approx([3.75, 1.25])
    assert rows["CN"]["previous_rank"] is None and rows["CN"]["change"] is None
    assert (rows["US"]["previous_rank"], rows["GB"]["previous_rank"]) == (1, 2)
    assert rows["US"]["change"] == pytest.approx((5 / 3 + 1.5) / 3.75 - 1)
    assert rows["GB"]["change"] == pytest.approx((5 / 6 + 1.5) / 1.25 - 1)


def test_explicit_comparison_and_base_year(world: Store) -> None:
    rows = _rows(world, level="country", years=(2022, 2022), vs=(2020, 2020), base_year=2020)
    # Base 2020 (N = 2): 2022 x 2/5, 2020 x 2/2. CN 2022: 2 x .4 = .8; US 1.5 x .4 = .6 against 1.5 in 2020.
    assert rows["CN"]["adjusted_share"] == pytest.approx(0.8)
    assert rows["US"]["adjusted_share"] == pytest.approx(0.6)
    assert rows["US"]["adjusted_share_previous"] == pytest.approx(1.5)
    assert rows["US"]["change"] == pytest.approx(0.6 / 1.5 - 1)
    assert rows["GB"]["previous_rank"] == 2 and rows["US"]["previous_rank"] == 1


def test_trend_gives_rank_and_adjusted_share_per_year(world: Store) -> None:
    table = trend(world, edition="toy", level="institution", ids=["I3"]).table.to_pylist()
    # I3: 2021 Share 1.5 (rank 1), adjusted x 5/3 = 2.5; 2022 Share 2 (rank 1). No 2020 row: no articles.
    assert [(r["year"], r["rank"], r["count"]) for r in table] == [(2021, 1, 2), (2022, 1, 3)]
    assert [r["share"] for r in table] == pytest.approx([1.5, 2.0])
    assert [r["adjusted_share"] for r in table] == pytest.approx([2.5, 2.0])


def test_unknown_subject_names_the_choices(world: Store) -> None:
    from sciencecities.errors import InputError

    with pytest.raises(InputError) as caught:
        rank(world, edition="toy", subject="biology")
    assert "chem" in caught.value.hint and "phys" in caught.value.hint


def test_all_years_has_no_comparison(world: Store, tmp_path: Path) -> None:
    rows = _rows(world, level="country")
    assert all(r["previous_rank"] is None and r["change"] is None for r in rows.values())
    assert rows["CN"]["share"] == pytest.approx(3.5)


def test_base_year_given_at_build_holds_for_later_rankings(world: Store, tmp_path: Path) -> None:
    import shutil

    copy = Store(tmp_path / "copy")
    shutil.copytree(world.root, copy.root)
    edition_file = world.root.parent / "toy.yaml"
    build(copy, Settings(store=copy.root, edition=str(edition_file), base_year=2020))
    rows = _rows(copy, level="country", years=(2022, 2022))
    # Base 2020 (N = 2) from the build: CN 2022 Share 2 x 2/5 = .8, as with --base-year 2020 on rank.
    assert rows["CN"]["adjusted_share"] == pytest.approx(0.8)
    assert rank(copy, edition="toy", level="country").meta["base_year"] == 2020
