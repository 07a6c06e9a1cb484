"""The edition verbs as a user runs them: editions, rank --subject/--year, trend, a user's edition file."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from conftest import cli
from sciencecities import Store, editions, rank

pytestmark = pytest.mark.slow
EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "engineering.yaml"


@pytest.fixture(scope="module")
def store(demo: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("editions") / "store"
    shutil.copytree(demo.root, root)
    return root


def test_editions_lists_each_with_its_coverage(store: Path) -> None:
    result = cli("editions", "--store", str(store), "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = {r["edition"]: r for r in json.loads(result.stdout)["data"]}
    assert set(rows) == set(editions.shipped())
    assert rows["nature-index"]["journals"] == 145 and rows["nature-index"]["built"] is True
    assert 0 < rows["nature-index"]["found_in_store"] <= 145
    detail = cli("editions", "nature-index", "--store", str(store), "--format", "csv")
    assert detail.returncode == 0, detail.stderr
    journals = list(csv.DictReader(io.StringIO(detail.stdout)))
    assert len(journals) == 145
    assert f"{rows['nature-index']['found_in_store']} of 145 journals found" in detail.stderr


def test_rank_every_subject_for_a_year_shows_previous_rank_and_change(store: Path) -> None:
    for subject in editions.load("nature-index").subjects:
        result = cli("rank", "--store", str(store), "--level", "country", "--subject", subject, "--year", "2024",
                     "--vs", "2015-2023", "--format", "csv")
        assert result.returncode == 0, (subject, result.stderr)
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        api = rank(Store(store), level="country", subject=subject, years=(2024, 2024), vs=(2015, 2023)).table
        assert [r["id"] for r in rows] == api.column("id").to_pylist()
    table = cli("rank", "--store", str(store), "--level", "country", "--year", "2024", "--top", "5")
    assert table.returncode == 0, table.stderr
    assert "prev rank" in table.stdout and "change" in table.stdout and "vs 2023" in table.stdout


def test_unknown_subject_is_a_clear_error(store: Path) -> None:
    result = cli("rank", "--store", str(store), "--subject", "astrology")
    assert result.returncode == 2
    assert "has no subject 'astrology'" in result.stderr and "health-sciences" in result.stderr


def test_trend_follows_an_entity(store: Path) -> None:
    result = cli("trend", "--store", str(store), "--level", "country", "--id", "US", "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    years = [r["year"] for r in payload["data"]]
    assert years == sorted(years) and len(years) > 3
    assert {r["id"] for r in payload["data"]} == {"US"} and payload["meta"]["base_year"] == 2024


def test_a_users_edition_file_builds_and_ranks(store: Path) -> None:
    built = cli("build", "--store", str(store), "--edition", str(EXAMPLE))
    assert built.returncode == 0, built.stderr
    assert "built engineering-example" in built.stderr
    ranked = cli("rank", "--store", str(store), "--edition", str(EXAMPLE), "--level", "country",
                 "--subject", "computing", "--format", "csv")
    assert ranked.returncode == 0, ranked.stderr
    rows = list(csv.DictReader(io.StringIO(ranked.stdout)))
    assert rows and all(float(r["share"]) <= int(r["count"]) for r in rows)
    coverage = cli("editions", str(EXAMPLE), "--store", str(store), "--format", "json")
    found = [r for r in json.loads(coverage.stdout)["data"] if r["found"]]
    assert {r["journal"] for r in found} >= {"Communications of the ACM", "Proceedings of the IEEE"}
