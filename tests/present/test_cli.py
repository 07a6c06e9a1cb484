"""The CLI as a user runs it: a real subprocess of `python -m sciencecities`, real stores on disk."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import cli, write_jsonl
from sciencecities import Store, rank
from sciencecities.demo import sample_files
from sciencecities.rank.ranking import COLUMNS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_cli(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("cli") / "demo"
    return root, cli("demo", "--store", str(root))


def test_demo_prints_rankings_and_writes_outputs(demo_cli: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    root, result = demo_cli
    assert result.returncode == 0, result.stderr
    assert "Top 10 countries" in result.stdout and "United States" in result.stdout
    assert "Top 10 science cities (metropolitan areas)" in result.stdout
    assert "Boston metropolitan area" in result.stdout and "% of country" in result.stdout
    assert "of the Share of nature-index is placed in a science city" in result.stdout
    assert "Harvard University" in result.stdout
    assert str(root) in result.stdout
    assert "Leading country per subject" in result.stdout and "Health Sciences" in result.stdout
    for edition in ("nature-index", "all-articles"):
        with (root / "outputs" / f"{edition}_country_ranking.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert rows[0]["id"] == "US" and len(rows) > 10
        with (root / "outputs" / f"{edition}_city_ranking.csv").open() as handle:
            cities = list(csv.DictReader(handle))
        assert cities[0]["id"] == "us-csa-148" and "contribution" in cities[0]


def test_demo_again_replaces_its_store_but_refuses_other_folders(tmp_path: Path,
                                                                 demo_cli: tuple[Path, object]) -> None:
    root, _ = demo_cli
    again = cli("demo", "--store", str(root))
    assert again.returncode == 0, again.stderr
    (tmp_path / "precious.txt").write_text("keep me")
    refused = cli("demo", "--store", str(tmp_path))
    assert refused.returncode == 1
    assert "not a demo store" in refused.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"


def test_rank_csv_has_the_documented_columns_and_matches_the_api(demo_cli: tuple[Path, object]) -> None:
    root, _ = demo_cli
    for level in ("country", "institution"):
        result = cli("rank", "--store", str(root), "--level", level, "--years", "1900-2100", "--format", "csv")
        assert result.returncode == 0, result.stderr
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert list(rows[0]) == list(COLUMNS)
        api = rank(Store(root), level=level, years=(1900, 2100)).table.to_pylist()
        assert len(rows) == len(api)
        for got, want in zip(rows, api, strict=True):
            assert (int(got["rank"]), got["id"], int(got["count"])) == (want["rank"], want["id"], want["count"])
            assert float(got["share"]) == pytest.approx(want["share"], abs=1e-12)


def test_rank_json_and_parquet_carry_the_method(demo_cli: tuple[Path, object], tmp_path: Path) -> None:
    root, _ = demo_cli
    out = tmp_path / "r.json"
    result = cli("rank", "--store", str(root), "--level", "country", "--year", "2020", "--top", "5",
                 "--format", "json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    payload = json.loads(out.read_text())
    meta = payload["meta"]
    assert meta["edition"] == "nature-index" and meta["years"] == [2020, 2020]
    assert meta["previous_years"] == [2019, 2019] and meta["subject"] == "all"
    assert 1 <= len(payload["data"]) and all(r["rank"] <= 5 for r in payload["data"])
    parquet = tmp_path / "r.parquet"
    assert cli("rank", "--store", str(root), "--format", "parquet", "--out", str(parquet)).returncode == 0
    meta = json.loads(pq.read_schema(parquet).metadata[b"sciencecities"])
    assert meta["level"] == "institution"


def test_store_from_environment_and_ingest_then_rank_builds_on_demand(tmp_path: Path) -> None:
    env = {"SCIENCECITIES_STORE": str(tmp_path / "envstore")}
    works = sample_files() / "works_academic_explorer.jsonl.gz"
    ingest = cli("ingest", "openalex", str(works), env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert "584 records taken" in ingest.stderr
    again = cli("ingest", "openalex", str(works), env=env)
    assert "already ingested" in again.stderr
    ranked = cli("rank", "--level", "country", "--format", "csv", env=env)
    assert ranked.returncode == 0, ranked.stderr
    assert "building it now" in ranked.stderr
    first = next(csv.DictReader(io.StringIO(ranked.stdout)))
    assert (first["rank"], first["id"], first["name"]) == ("1", "US", "United States")


def test_quarantine_is_reported_and_strict_fails(tmp_path: Path) -> None:
    good = {"id": "W1", "type": "article", "publication_year": 2020,
            "authorships": [{"institutions": [{"id": "I1", "country_code": "FR"}]}]}
    path = write_jsonl(tmp_path / "works.jsonl", [good])
    path.write_text(path.read_text() + '{"id": "W2", "type": \n')
    store = str(tmp_path / "s")
    result = cli("ingest", "openalex", str(path), "--store", store)
    assert result.returncode == 0, result.stderr
    assert "1 records quarantined" in result.stderr and "malformed JSON" in result.stderr
    audit = cli("audit", "--store", store, "--format", "json")
    report = json.loads(audit.stdout)
    assert report["quarantine"] == [{"entity": "works", "reason": "malformed JSON", "records": 1, "files": 1}]
    strict = cli("ingest", "openalex", str(path), "--store", str(tmp_path / "t"), "--strict")
    assert strict.returncode == 1 and "quarantined" in strict.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("rank", "--store", "/nonexistent/store"), 1, "no store at /nonexistent/store"),
        (("rank", "--years", "2024-2015"), 2, "is empty"),
        (("rank", "--years", "recent"), 2, "cannot read the years"),
        (("ingest", "openalex", "/nonexistent/works.jsonl"), 2, "/nonexistent/works.jsonl does not exist"),
        (("rank", "--edition", "nope"), 1, "unknown edition"),
    ],
)
def test_errors_are_one_clear_line_not_a_traceback(args: tuple[str, ...], code: int, message: str,
                                                   demo_cli: tuple[Path, object]) -> None:
    root, _ = demo_cli
    full = args if "--store" in args or args[0] == "ingest" else (*args, "--store", str(root))
    result = cli(*full)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
