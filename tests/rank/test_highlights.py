"""Highlights on a constructed world of fifteen science cities in two years with known moves, and a smoke test on
the demo store.

The world: each work has one author at one institution, so a city's Share is its number of works. Shares
(chemistry + physical sciences):

    city        2023   2024 (chem + phys)   rank 2023 -> 2024
    Beijing      20    24 (12 + 12)          1 -> 1
    Shanghai     16    20 (10 + 10)          3 -> 2    overtakes Boston
    Boston       18    18  (4 + 14)          2 -> 3
    New York     14    14  (1 + 13)          4 -> 4
    London       12    12  (1 + 11)          5 -> 5
    Tokyo        11    11  (0 + 11)          6 -> 6
    Paris        10    10  (0 + 10)          7 -> 7
    Hefei         5     9  (7 + 2)          12 -> 8    enters the top 10, climbs most, overtakes Berlin and Nanjing
    Berlin        9     8  (0 + 8)           8 -> 9
    Nanjing       7     7  (6 + 1)          10 -> 10
    Munich        8     6  (0 + 6)           9 -> 11   leaves the top 10: Germany 2 -> 1, China 3 -> 4
    Wuhan         6     5  (5 + 0)          11 -> 12
    Oxford        4     4  (0 + 4)          13 -> 13
    Guangzhou     3     3  (3 + 0)          14 -> 14
    Hangzhou      2     2  (2 + 0)          15 -> 15

2023 is all physical sciences. N(2023) = 145, N(2024) = 153; base year 2024, so a city's change is
s24 / (s23 * 153 / 145) - 1: Hefei 9*145/(5*153) - 1 = +70.6%, Shanghai +18.5%, Beijing +13.7%, an unchanged
Share -5.2%, Berlin -15.8%, Wuhan -21.0%, Munich -28.9%. The chemistry top 10 of 2024 is Beijing 12, Shanghai 10,
Hefei 7, Nanjing 6, Wuhan 5, Boston 4, Guangzhou 3, Hangzhou 2, New York 1, London 1 (joint 9th): 7 of 10 in China;
the physical sciences top 10 has 2 Chinese cities, no sweep.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from conftest import placed_institution, write_jsonl
from sciencecities import Settings, Store, build, ingest_openalex
from sciencecities.errors import InputError
from sciencecities.present.cli.highlights import highlights_cmd
from sciencecities.rank.highlights import (
    KINDS,
    Fact,
    Highlights,
    country_phrase,
    format_change,
    format_share,
    highlights,
    ordinal,
)

EDITION = {
    "name": "two-subjects",
    "title": "Two journals, two subjects",
    "subjects": {"chemistry": "Chemistry", "physical-sciences": "Physical Sciences"},
    "journals": {
        "inline": [
            {"title": "Chem Journal", "subjects": ["chemistry"], "issns": ["1111-1111"]},
            {"title": "Phys Journal", "subjects": ["physical-sciences"], "issns": ["2222-2222"]},
        ]
    },
}
SOURCES = {
    "chem": {
        "id": "https://openalex.org/S1",
        "display_name": "Chem J.",
        "issn_l": "1111-1111",
        "issn": ["1111-1111"],
    },
    "phys": {
        "id": "https://openalex.org/S2",
        "display_name": "Phys J.",
        "issn_l": "2222-2222",
        "issn": ["2222-2222"],
    },
}
# name: (GeoNames id, latitude, longitude, country, works 2023 (all physics), chemistry 2024, physics 2024)
CITIES = {
    "Beijing": (1816670, 39.9075, 116.39723, "CN", 20, 12, 12),
    "Shanghai": (1796236, 31.22222, 121.45806, "CN", 16, 10, 10),
    "Boston": (4930956, 42.35843, -71.05977, "US", 18, 4, 14),
    "New York": (5128581, 40.71427, -74.00597, "US", 14, 1, 13),
    "London": (2643743, 51.50853, -0.12574, "GB", 12, 1, 11),
    "Tokyo": (1850147, 35.6895, 139.69171, "JP", 11, 0, 11),
    "Paris": (2988507, 48.85341, 2.3488, "FR", 10, 0, 10),
    "Hefei": (1808722, 31.86389, 117.28083, "CN", 5, 7, 2),
    "Berlin": (2950159, 52.52437, 13.41053, "DE", 9, 0, 8),
    "Nanjing": (1799962, 32.06167, 118.77778, "CN", 7, 6, 1),
    "Munich": (2867714, 48.13743, 11.57549, "DE", 8, 0, 6),
    "Wuhan": (1791247, 30.58333, 114.26667, "CN", 6, 5, 0),
    "Oxford": (2640729, 51.75222, -1.25596, "GB", 4, 0, 4),
    "Guangzhou": (1809858, 23.11667, 113.25, "CN", 3, 3, 0),
    "Hangzhou": (1808926, 30.29365, 120.16142, "CN", 2, 2, 0),
}
N = {2023: 145, 2024: 153}


def _institution(index: int, city: str) -> dict[str, Any]:
    geonames, latitude, longitude, country, *_ = CITIES[city]
    return placed_institution(f"I{index}", f"{city} Institute", city, geonames, latitude, longitude, country)


def _works() -> Iterator[dict[str, Any]]:
    number = 0
    for index, (city, (*_, country, works_2023, chem_2024, phys_2024)) in enumerate(CITIES.items(), start=1):
        papers = [(2023, "phys")] * works_2023 + [(2024, "chem")] * chem_2024 + [(2024, "phys")] * phys_2024
        for year, journal in papers:
            number += 1
            yield {
                "id": f"https://openalex.org/W{number}",
                "type": "article",
                "publication_year": year,
                "primary_location": {"source": SOURCES[journal]},
                "authorships": [
                    {
                        "author": {"id": f"https://openalex.org/A{number}"},
                        "institutions": [
                            {
                                "id": f"https://openalex.org/I{index}",
                                "display_name": f"{city} Institute",
                                "country_code": country,
                            }
                        ],
                    }
                ],
            }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, str]:
    root = tmp_path_factory.mktemp("highlights")
    edition_file = root / "two-subjects.yaml"
    edition_file.write_text(yaml.safe_dump(EDITION))
    works = write_jsonl(root / "works.jsonl", _works())
    institutions = write_jsonl(
        root / "institutions.jsonl", [_institution(i, c) for i, c in enumerate(CITIES, 1)]
    )
    store = Store(root / "store")
    ingest_openalex(store, [works, institutions])
    build(store, Settings(store=store.root, edition=str(edition_file)))
    return store, str(edition_file)


def _change(city_or_share: str | tuple[float, float]) -> float:
    s23, s24 = city_or_share if isinstance(city_or_share, tuple) else _shares(city_or_share)
    return s24 / (s23 * N[2024] / N[2023]) - 1


def _shares(city: str) -> tuple[float, float]:
    *_, works_2023, chem, phys = CITIES[city]
    return works_2023, chem + phys


def _of(story: Highlights, kind: str) -> list[Fact]:
    return [f for f in story.facts if f.kind == kind]


def test_ordinals() -> None:
    cases = {
        1: "1st",
        2: "2nd",
        3: "3rd",
        4: "4th",
        10: "10th",
        11: "11th",
        12: "12th",
        13: "13th",
        21: "21st",
        22: "22nd",
        23: "23rd",
        100: "100th",
        101: "101st",
        102: "102nd",
        111: "111th",
        112: "112th",
        113: "113th",
        1001: "1,001st",
    }
    assert {n: ordinal(n) for n in cases} == cases


def test_number_formats_and_country_articles() -> None:
    assert format_share(1234.5) == "1,234.5"
    assert format_share(0.9999999999999991) == "1.0"  # a float sum just below 1 reads as 1, as it ranks
    assert format_share(0.046) == "0.046" and format_share(0.25) == "0.25" and format_share(0.0) == "0.0"
    assert format_change(0.1234) == "12.3%" and format_change(-0.05) == "5.0%"
    assert country_phrase("China") == "China"
    assert country_phrase("United States") == "the United States"
    assert country_phrase("The Netherlands", start=True) == "The Netherlands"
    assert country_phrase("The Netherlands") == "the Netherlands"
    assert country_phrase("Czech Republic", start=True) == "The Czech Republic"


def test_city_facts_of_a_known_world(world: tuple[Store, str]) -> None:
    store, edition = world
    story = highlights(store, year=2024, edition=edition)
    assert (story.year, story.vs, story.level, story.edition, story.boundaries) == (
        2024,
        2023,
        "city",
        "two-subjects",
        "metro",
    )
    assert [f.kind for f in story.facts] == sorted((f.kind for f in story.facts), key=KINDS.index)
    names = {r["id"]: r["name"] for r in _of(story, "top10")[0].numbers["entities"]}
    assert list(names.values()) == [
        "Beijing",
        "Shanghai",
        "Boston metropolitan area",
        "New York metropolitan area",
        "London metropolitan area",
        "Tokyo metropolitan area",
        "Paris metropolitan area",
        "Hefei",
        "Berlin metropolitan area",
        "Nanjing",
    ]
    assert _of(story, "top10")[0].text == (
        "The top 10 science cities of 2024 by Share: Beijing, Shanghai, Boston metropolitan area, New York "
        "metropolitan area, London metropolitan area, Tokyo metropolitan area, Paris metropolitan area, Hefei, "
        "Berlin metropolitan area and Nanjing."
    )

    moves = {f.numbers["name"]: f for f in _of(story, "top10_move")}
    assert len(moves) == 10
    assert (
        moves["Beijing"].text
        == "Beijing stays 1st with a Share of 24.0, 13.7% more Adjusted Share than in 2023."
    )
    assert (
        moves["Hefei"].text
        == "Hefei rises from 12th to 8th with a Share of 9.0, 70.6% more Adjusted Share than in 2023."
    )
    assert (
        moves["Berlin metropolitan area"].text
        == "Berlin metropolitan area falls from 8th to 9th with a Share of 8.0, 15.8% less Adjusted Share than in 2023."
    )
    hefei = moves["Hefei"].numbers
    assert (hefei["rank"], hefei["previous_rank"], hefei["year"], hefei["vs"], hefei["country_code"]) == (
        8,
        12,
        2024,
        2023,
        "CN",
    )
    assert hefei["share"] == pytest.approx(9.0)
    assert hefei["adjusted_share_previous"] == pytest.approx(5 * 153 / 145)
    assert hefei["change"] == pytest.approx(_change("Hefei"))

    entrants = _of(story, "new_entrant")  # tiers 50 and 200 exceed the 15 cities ranked: no facts
    assert [f.text for f in entrants] == ["Hefei rises from 12th to 8th: new in the top 10."]
    assert entrants[0].numbers | {"share": 9.0} == {
        "id": hefei["id"],
        "name": "Hefei",
        "country_code": "CN",
        "rank": 8,
        "previous_rank": 12,
        "share": 9.0,
        "tier": 10,
        "year": 2024,
        "vs": 2023,
    }
    assert story.meta["tiers_reported"] == [10] and story.meta["ranked"] == 15

    # Default floor: 15 ranked, fewer than 200, so the smallest Share (Hangzhou, 2).
    assert story.meta["min_share"] == pytest.approx(2.0)
    risers = _of(story, "riser")
    assert [f.numbers["name"] for f in risers] == [
        "Hefei",
        "Shanghai",
        "Beijing",
    ]  # the only positive changes
    assert [f.numbers["change"] for f in risers] == pytest.approx(
        [_change(c) for c in ("Hefei", "Shanghai", "Beijing")]
    )
    assert [f.numbers["position"] for f in risers] == [1, 2, 3]
    assert (
        risers[0].text
        == "Hefei has 70.6% more Adjusted Share than in 2023, with a Share of 9.0 (8th; 2023: 12th)."
    )
    fallers = _of(story, "faller")
    # Munich, Wuhan, Berlin; then the -5.2% of an unchanged Share, in rank order.
    assert [f.numbers["name"] for f in fallers] == [
        "Munich",
        "Wuhan",
        "Berlin metropolitan area",
        "Boston metropolitan area",
        "New York metropolitan area",
    ]
    assert (
        fallers[0].text
        == "Munich has 28.9% less Adjusted Share than in 2023, with a Share of 6.0 (11th; 2023: 9th)."
    )
    assert fallers[3].numbers["change"] == pytest.approx(N[2023] / N[2024] - 1)

    counts = [
        (f.numbers["country_code"], f.numbers["count"], f.numbers["count_previous"], f.numbers["change"])
        for f in _of(story, "country_count")
    ]
    assert counts == [
        ("CN", 4, 3, 1),
        ("US", 2, 2, 0),
        ("DE", 1, 2, -1),
        ("FR", 1, 1, 0),
        ("JP", 1, 1, 0),
        ("GB", 1, 1, 0),
    ]
    texts = [f.text for f in _of(story, "country_count")]
    assert texts[0] == "China has 4 cities in the top 10 (2023: 3)."
    assert texts[1] == "The United States has 2 cities in the top 10 (2023: 2)."
    assert texts[2] == "Germany has 1 city in the top 10 (2023: 2)."

    sweeps = _of(story, "subject_sweep")
    assert [f.text for f in sweeps] == ["In chemistry, 7 of the top 10 are in China."]
    sweep = sweeps[0].numbers
    assert (sweep["subject"], sweep["country_code"], sweep["count"], sweep["size"], sweep["year"]) == (
        "chemistry",
        "CN",
        7,
        10,
        2024,
    )
    assert [e["name"] for e in sweep["entities"]] == [
        "Beijing",
        "Shanghai",
        "Hefei",
        "Nanjing",
        "Wuhan",
        "Guangzhou",
        "Hangzhou",
    ]

    overtakes = _of(story, "overtake")
    assert [f.text for f in overtakes] == [
        "Shanghai overtakes Boston metropolitan area (now 2nd and 3rd).",
        "Hefei overtakes Berlin metropolitan area and Nanjing (now 8th, 9th and 10th).",
    ]
    assert [(o["name"], o["rank"], o["previous_rank"]) for o in overtakes[1].numbers["overtaken"]] == [
        ("Berlin metropolitan area", 9, 8),
        ("Nanjing", 10, 10),
    ]
    assert (overtakes[0].numbers["rank"], overtakes[0].numbers["previous_rank"]) == (2, 3)


def test_markdown_and_json(world: tuple[Store, str]) -> None:
    store, edition = world
    story = highlights(store, year=2024, edition=edition)
    text = story.to_markdown()
    assert text.startswith("# Highlights: science cities, two-subjects, boundaries metro, 2024 vs 2023\n")
    for heading in (
        "The top 10",
        "New entrants",
        "Biggest risers",
        "Biggest fallers",
        "Cities per country",
        "Subject sweeps",
        "Overtakes",
    ):
        assert f"\n## {heading}\n" in text
    assert "- In chemistry, 7 of the top 10 are in China.\n" in text
    assert "Among science cities with a Share of at least 2.0 in 2024:" in text
    data = json.loads(json.dumps(story.to_json()))
    assert data["facts"][0] == {
        "kind": "top10",
        "text": story.facts[0].text,
        "numbers": data["facts"][0]["numbers"],
    }
    assert (
        len(data["facts"]) == len(story.facts)
        and data["meta"]["min_share_rule"] == "the Share of the 15th in 2024"
    )


def test_country_level_names_countries_with_their_article(world: tuple[Store, str]) -> None:
    store, edition = world
    story = highlights(store, year=2024, level="country", edition=edition)
    assert story.boundaries is None
    # Countries: CN 59 -> 70, US 32, GB 16, DE 17 -> 14, JP 11, FR 10.
    assert _of(story, "top10")[0].text == (
        "The 6 countries ranked in 2024, by Share: China, the United States, the United Kingdom, Germany, Japan "
        "and France."
    )
    assert [f.text for f in _of(story, "overtake")] == [
        "The United Kingdom overtakes Germany (now 3rd and 4th)."
    ]
    assert [f.text for f in _of(story, "riser")] == [
        "China has 12.4% more Adjusted Share than in 2023, with a Share of 70.0 (1st; 2023: 1st)."
    ]
    assert _of(story, "riser")[0].numbers["change"] == pytest.approx(_change((59, 70)))
    assert _of(story, "faller")[0].numbers["change"] == pytest.approx(_change((17, 14)))
    assert [f.numbers["id"] for f in _of(story, "faller")] == ["DE", "US", "GB", "JP", "FR"]
    # Fewer than 10 countries: no tier, no entrants, no counts per country and no sweeps at this level.
    assert (
        not _of(story, "new_entrant") and not _of(story, "country_count") and not _of(story, "subject_sweep")
    )


def test_institution_level_counts_institutions(world: tuple[Store, str]) -> None:
    store, edition = world
    story = highlights(store, year=2024, level="institution", edition=edition)
    assert _of(story, "country_count")[0].text == "China has 4 institutions in the top 10 (2023: 3)."
    assert _of(story, "subject_sweep")[0].text == "In chemistry, 7 of the top 10 are in China."


def test_min_share_and_tiers(world: tuple[Store, str]) -> None:
    store, edition = world
    story = highlights(store, year=2024, edition=edition, min_share=10)
    assert [f.numbers["name"] for f in _of(story, "riser")] == [
        "Shanghai",
        "Beijing",
    ]  # Hefei's 9 is below 10
    assert all(f.numbers["min_share"] == 10 for f in _of(story, "riser"))
    assert story.meta["min_share_rule"] == "given"
    tiered = highlights(store, year=2024, edition=edition, tiers=(10, 3))
    # The floor is the Share at the largest tier, the 10th (Nanjing, 7): Munich (6) and Wuhan (5) fall most but
    # are below it.
    assert tiered.meta["min_share"] == pytest.approx(7.0) and tiered.meta["tiers_reported"] == [3, 10]
    assert tiered.meta["min_share_rule"] == "the Share of the 10th in 2024"
    assert [f.numbers["name"] for f in _of(tiered, "riser")] == ["Hefei", "Shanghai", "Beijing"]
    assert [f.numbers["name"] for f in _of(tiered, "faller")] == [
        "Berlin metropolitan area",
        "Boston metropolitan area",
        "New York metropolitan area",
        "London metropolitan area",
        "Tokyo metropolitan area",
    ]
    # The top 3 holds the same cities in both years (Beijing, Shanghai, Boston): counts, but no entrants.
    top3 = [
        (f.text, f.numbers["count"], f.numbers["count_previous"])
        for f in _of(tiered, "country_count")
        if f.numbers["tier"] == 3
    ]
    assert top3 == [
        ("China has 2 cities in the top 3 (2023: 2).", 2, 2),
        ("The United States has 1 city in the top 3 (2023: 1).", 1, 1),
    ]
    assert [f.numbers["tier"] for f in _of(tiered, "new_entrant")] == [10]


def test_bad_years_and_tiers_are_input_errors(world: tuple[Store, str]) -> None:
    store, edition = world
    with pytest.raises(InputError, match="not before"):
        highlights(store, year=2024, vs=2024, edition=edition)
    with pytest.raises(InputError, match="ranked in 2031"):
        highlights(store, year=2031, vs=2023, edition=edition)
    with pytest.raises(InputError, match="ranked in 2022"):
        highlights(store, year=2024, vs=2022, edition=edition)
    with pytest.raises(InputError, match="tiers"):
        highlights(store, year=2024, edition=edition, tiers=(0, 10))


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("highlights")(highlights_cmd)

    @app.callback()
    def main() -> None:
        """Keeps `highlights` a subcommand, as in the real app."""

    return app


def test_cli_writes_markdown_and_json(world: tuple[Store, str], tmp_path: Path) -> None:
    store, edition = world
    args = ["highlights", "--year", "2024", "--store", str(store.root), "--edition", edition]
    runner = CliRunner()
    markdown = runner.invoke(_cli(), args)
    assert markdown.exit_code == 0, markdown.output
    assert markdown.stdout == highlights(store, year=2024, edition=edition).to_markdown()
    as_json = runner.invoke(_cli(), [*args, "--format", "json", "--vs", "2023", "--level", "country"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert (data["level"], data["year"], data["vs"]) == ("country", 2024, 2023)
    assert data["meta"]["edition"] == "two-subjects" and data["facts"][0]["kind"] == "top10"
    target = tmp_path / "story.md"
    written = runner.invoke(_cli(), [*args, "--out", str(target)])
    assert written.exit_code == 0 and written.stdout == ""
    assert target.read_text().startswith("# Highlights: science cities, two-subjects")


_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:st|nd|rd|th)?")


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)
    else:
        yield value


def _renderings(numbers: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The ways the sentences write the numbers of a fact, and its strings (names may hold digits)."""
    shown: set[str] = set()
    strings = []
    for value in _values(numbers):
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            shown |= {str(value), f"{value:,}", ordinal(value)}
        elif isinstance(value, float):
            shown |= {format_share(value), format_change(value).rstrip("%")}
    return shown, sorted(strings, key=len, reverse=True)


@pytest.mark.parametrize(
    ("edition", "level"),
    [
        ("nature-index", "city"),
        ("nature-index", "institution"),
        ("all-articles", "city"),
        ("all-articles", "country"),
    ],
)
def test_demo_smoke(demo: Store, edition: str, level: str) -> None:
    story = highlights(demo, year=2024, vs=2023, level=level, edition=edition)
    assert story.facts and story.facts[0].kind == "top10"
    json.dumps(story.to_json())
    assert story.to_markdown().count("\n- ") == len(story.facts)
    for fact in story.facts:
        assert fact.kind in KINDS
        shown, strings = _renderings(fact.numbers)
        text = fact.text
        for name in strings:
            text = text.replace(name, "")
        for token in _NUMBER.findall(text):
            assert token in shown, (token, fact)
