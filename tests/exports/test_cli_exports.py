"""`sciencecities ingest wos|scopus` as a user runs them: each way in, then build and rank, and all into one store."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from conftest import cli
from sciencecities import Store
from sciencecities.demo import sample_files

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "data"


def ranked(store: Path, level: str) -> list[dict[str, str]]:
    result = cli(
        "rank",
        "--store",
        str(store),
        "--edition",
        "all-articles",
        "--level",
        level,
        "--years",
        "1900-2100",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("wos", DATA / "wos" / "wos_plaintext.txt"),
        ("wos", DATA / "wos" / "wos_tab_delimited_win_utf16.txt"),
        ("scopus", DATA / "scopus" / "scopus.csv"),
    ],
)
def test_ingest_build_and_rank_each_export(tmp_path: Path, kind: str, path: Path) -> None:
    store = tmp_path / "store"
    ingested = cli("ingest", kind, str(path), "--store", str(store))
    assert ingested.returncode == 0, ingested.stderr
    assert "records taken" in ingested.stderr
    built = cli("build", "--store", str(store), "--edition", "all-articles")
    assert built.returncode == 0, built.stderr
    eligible = Store(store).read("eligible_works", "all-articles")
    affiliated = sum(1 for n in eligible["n_affiliated"].to_pylist() if n > 0)
    countries = ranked(store, "country")
    assert countries and countries[0]["rank"] == "1"
    assert sum(float(r["share"]) for r in countries) == pytest.approx(affiliated)
    assert all(int(r["count"]) <= affiliated for r in countries)
    cities = ranked(store, "city")
    assert cities and sum(float(r["share"]) for r in cities) <= affiliated + 1e-9


def test_every_way_in_feeds_the_same_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    steps = [
        ("openalex", str(sample_files())),
        ("wos", str(DATA / "wos" / "wos_tab_delimited_win_utf8.txt")),
        ("scopus", str(DATA / "scopus" / "scopus.csv")),
    ]
    works = []
    for kind, path in steps:
        result = cli("ingest", kind, path, "--store", str(store))
        assert result.returncode == 0, result.stderr
        works.append(Store(store).read("works").num_rows)
    assert works[1] - works[0] == 50 and works[2] - works[1] == 58
    sources = [i["source"] for i in Store(store).manifest()["ingests"]]
    assert sources == ["openalex", "wos", "scopus"]
    built = cli("build", "--store", str(store), "--edition", "all-articles")
    assert built.returncode == 0, built.stderr
    institutions = {r["id"] for r in ranked(store, "institution")}
    assert {i.split(":")[0] for i in institutions if ":" in i} == {"wos", "scopus"}
    assert any(i.startswith("I") for i in institutions)


def test_a_bad_file_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    result = cli("ingest", "wos", str(DATA / "scopus" / "scopus.csv"), "--store", str(tmp_path / "store"))
    assert result.returncode == 2
    assert "scopus.csv, line 1: not a Web of Science export" in " ".join(result.stderr.split())
    assert not (tmp_path / "store").exists()
