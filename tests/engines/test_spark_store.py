"""The Spark ingest path (issue 11, point 1): the same store tables as the DuckDB reader, through the same
batch and merge, and the CLI. Spark runs `local[2]` in this process (Java 17+, which `make test` finds or
installs); the Spark reader's own cases are in tests/scale/test_spark_ingest.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import cli, work, write_jsonl
from sciencecities import Store, ingest_openalex
from sciencecities.demo import sample_files
from sciencecities.present.cli.main import app
from sciencecities.tables import CANONICAL

pytestmark = pytest.mark.spark


def _ingests(root: Path, steps: list[list[Path]], engine: str) -> Store:
    store = Store(root)
    for paths in steps:
        ingest_openalex(store, paths, engine=engine, spark_master="local[2]")
    return store


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Store]:
    """The real sample plus a file with a malformed line, then a second ingest with newer and older records of
    stored works and new works (the upsert), ingested on each engine."""
    folder = tmp_path_factory.mktemp("spark-ingest")
    extra = write_jsonl(folder / "extra.jsonl", [work(1, "2024-01-01", [["I1"]])])
    extra.write_text(extra.read_text() + "{broken\n")
    first = [sample_files(), extra]
    stored = Store(folder / "probe")
    ingest_openalex(stored, [sample_files()])
    old_id = stored.read("works").column("work_id")[0].as_py()
    (folder / "works").mkdir()
    second = [
        write_jsonl(
            folder / "works" / "part_001.gz",
            [
                work(1, "2025-01-01", [["I3"], ["I1", "I2"]], year=2022),
                work(int(old_id[1:]), "1999-01-01", [["I2"]]),
                *(work(n, "2025-01-01", [["I1"], ["I2", "I4"]]) for n in range(10, 20)),
            ],
        )
    ]
    return {engine: _ingests(folder / engine, [first, second], engine) for engine in ("duckdb", "spark")}


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_the_spark_ingest_gives_the_same_store_tables(ingested: dict[str, Store], name: str) -> None:
    """Every table equal; in quarantine only the parser's words differ (each engine names its own error)."""
    drop = {"quarantine": ["ingest_id", "reason"]}.get(name, [])
    if name == "quarantine":
        reasons = [ingested[e].read(name).column("reason").to_pylist() for e in ("duckdb", "spark")]
        assert all(r.startswith("malformed JSON:") for r in reasons[0] + reasons[1]) and len(reasons[1]) == 1

    def rows(store: Store) -> list[str]:
        return sorted(repr(r) for r in store.read(name).drop_columns(drop).to_pylist())

    assert rows(ingested["spark"]) == rows(ingested["duckdb"])


def test_the_spark_ingest_is_recorded_with_its_counts(ingested: dict[str, Store]) -> None:
    spark, duckdb = (ingested[e].manifest()["ingests"] for e in ("spark", "duckdb"))
    assert [i["engine"] for i in spark] == ["spark", "spark"] and duckdb[0]["engine"] == "duckdb"
    assert [(i["taken"], i["quarantined"]) for i in spark] == [(i["taken"], i["quarantined"]) for i in duckdb]
    assert spark[0]["quarantined"] == 1 and ingested["spark"].read("works").num_rows > 580
    assert [(f["path"], f["sha256"], f["records"]) for f in spark[0]["files"]] == [
        (f["path"], f["sha256"], f["records"]) for f in duckdb[0]["files"]
    ]


def test_the_cli_ingests_on_spark_and_refuses_what_it_cannot_do(
    ingested: dict[str, Store], tmp_path: Path
) -> None:
    """The Spark ingest through the CLI in this process (its Spark session is already up); the refusals as a
    user meets them, in a subprocess: they come before Spark would start."""
    store = str(tmp_path / "store")
    works = write_jsonl(
        tmp_path / "works.jsonl", [work(n, "2024-01-01", [["I1"], ["I2"]]) for n in (1, 2, 3)]
    )
    args = ["ingest", "openalex", str(works), "--store", store, "--engine", "spark"]
    done = CliRunner().invoke(app, [*args, "--spark-master", "local[2]"])
    assert done.exit_code == 0, done.output
    (ingested_here,) = Store(store).manifest()["ingests"]
    assert (ingested_here["engine"], ingested_here["taken"]) == ("spark", 3)
    assert Store(store).read("works").column("work_id").to_pylist() == ["W1", "W2", "W3"]
    again = cli("ingest", "openalex", str(works), "--store", store)
    assert again.returncode == 0 and Store(store).manifest()["version"] == 1  # unchanged: same checksums
    prefilter = cli(*args, "--edition", "nature-index")
    assert prefilter.returncode == 2 and "DuckDB engine only" in prefilter.stderr
    uri = cli("ingest", "openalex", "s3a://bucket/openalex/data/works", "--store", store)
    assert uri.returncode == 2 and "use --engine spark for URIs" in uri.stderr
