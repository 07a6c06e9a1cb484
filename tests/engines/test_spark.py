"""The same store built and ranked on DuckDB and on a local Spark session: identical keys, Counts and ranks,
Shares within 1e-9 (issue 11, point 3). Spark runs `local[2]` in this process; it needs Java 17+ (see the
README), which `make test` finds or installs."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from conftest import cli
from sciencecities import Settings, Store, build, engines, rank, trend
from sciencecities.errors import InputError
from sciencecities.measure.intervals import INTERVAL_COLUMNS
from sciencecities.present.cli.main import app
from sciencecities.rank.indicators import SIZE_INDEPENDENT
from sciencecities.tables import DERIVED

pytestmark = pytest.mark.spark

EDITION = "nature-index"
KEYS = {
    "credit": ["work_id", "institution_id"],
    "institution_year": ["institution_id", "subject", "year"],
    "country_year": ["country_code", "subject", "year"],
    "city_year": ["boundaries", "unit_id", "subject", "year"],
    "group_year": ["group_id", "subject", "year"],
    "article_totals": ["subject", "year"],
}


@pytest.fixture(scope="module")
def stores(demo: Store, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Store]:
    """The demo store as built on DuckDB, and a copy rebuilt on Spark."""
    root = tmp_path_factory.mktemp("spark") / "store"
    shutil.copytree(demo.root, root)
    on_spark = Store(root)
    build(on_spark, Settings(store=root, edition=EDITION, engine="spark", spark_master="local[2]"))
    return {"duckdb": demo, "spark": on_spark}


def _derived(store: Store, name: str) -> pa.Table:
    built = store.manifest()["builds"][EDITION]
    return pq.read_table(store.current / "derived" / built["edition"] / f"{name}.parquet")


def _same(left: pa.Table, right: pa.Table, keys: list[str]) -> None:
    """Equal rows by `keys`: the same keys, every non-float column equal, floats within 1e-9."""
    assert left.num_rows == right.num_rows
    order = [(k, "ascending") for k in keys]
    a, b = left.sort_by(order).to_pylist(), right.select(left.column_names).sort_by(order).to_pylist()
    for x, y in zip(a, b, strict=True):
        for column, value in x.items():
            if isinstance(value, float):
                assert y[column] == pytest.approx(value, abs=1e-9), (column, x)
            else:
                assert y[column] == value, (column, x)


def test_the_spark_build_is_recorded(stores: dict[str, Store]) -> None:
    built = stores["spark"].manifest()["builds"][EDITION]
    assert built["engine"] == "spark"
    assert stores["duckdb"].manifest()["builds"][EDITION]["engine"] == "duckdb"
    assert built["rows"] == stores["duckdb"].manifest()["builds"][EDITION]["rows"]
    assert built["checks"]["total_share"] == pytest.approx(
        stores["duckdb"].manifest()["builds"][EDITION]["checks"]["total_share"], abs=1e-9
    )


@pytest.mark.parametrize("name", sorted(KEYS))
def test_derived_tables_are_equal(stores: dict[str, Store], name: str) -> None:
    assert name in DERIVED
    _same(_derived(stores["duckdb"], name), _derived(stores["spark"], name), KEYS[name])


@pytest.mark.parametrize(
    "options",
    [
        {"level": "institution"},
        {"level": "institution", "rollup": True, "years": (2015, 2024)},
        {"level": "country", "years": (2024, 2024)},
        {"level": "city", "subject": "chemistry"},
        {"level": "city", "boundaries": "clusters", "per_capita": True},
        {"level": "group"},
        {"level": "institution", "city": "Boston"},
    ],
    ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()),
)
def test_rankings_are_equal(stores: dict[str, Store], options: dict[str, Any]) -> None:
    on_duckdb = rank(stores["duckdb"], **options).table
    on_spark = rank(stores["spark"], **options, engine="spark")
    assert on_spark.meta["engine"] == "spark"
    assert on_spark.table.column_names == on_duckdb.column_names
    assert on_spark.table["id"].to_pylist() == on_duckdb["id"].to_pylist()  # the same order: ranks and names
    _same(on_duckdb, on_spark.table, ["id"])


def test_trend_and_size_independent_indicators_are_equal(stores: dict[str, Store]) -> None:
    _same(
        trend(stores["duckdb"], level="country", top=5).table,
        trend(stores["spark"], level="country", top=5, engine="spark").table,
        ["id", "year"],
    )
    options = {"level": "city", "size_independent": True, "min_articles": 3}
    _same(rank(stores["duckdb"], **options).table, rank(stores["spark"], **options, engine="spark").table, ["id"])
    assert set(SIZE_INDEPENDENT) <= set(rank(stores["spark"], **options, engine="spark").table.column_names)


def test_intervals_on_spark_are_reproducible_and_contain_the_estimate(stores: dict[str, Store]) -> None:
    """Spark hashes differently, so it draws other resamples than DuckDB: the same seed gives the same
    intervals on Spark, and each contains its point estimate."""
    options = {"level": "country", "intervals": True, "resamples": 50, "seed": 9, "engine": "spark"}
    first = rank(stores["spark"], **options).table
    assert rank(stores["spark"], **options).table.equals(first)
    for row in first.to_pylist():
        assert row["share_lo"] <= row["share"] <= row["share_hi"]
        assert row["rank_lo"] <= row["rank"] <= row["rank_hi"] or row["count"] <= 2
    assert set(INTERVAL_COLUMNS) <= set(first.column_names)


def test_an_unknown_engine_is_a_clear_error(stores: dict[str, Store], tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown engine 'polars'") as error:
        rank(stores["duckdb"], level="country", engine="polars")
    assert "duckdb, spark" in error.value.hint


def test_the_cli_ranks_on_spark(stores: dict[str, Store]) -> None:
    """The Spark ranking through the CLI in this process (its Spark session is up); a wrong engine as a user
    meets it, in a subprocess."""
    args = ["rank", "--store", str(stores["spark"].root), "--engine", "spark", "--spark-master", "local[2]"]
    shown = CliRunner().invoke(app, [*args, "--level", "city", "--top", "10", "-f", "csv"])
    assert shown.exit_code == 0, shown.output
    rows = list(csv.DictReader(io.StringIO(shown.stdout)))
    want = rank(stores["duckdb"], level="city", top=10).table.to_pylist()
    assert [(r["id"], int(r["count"]), int(r["rank"])) for r in rows] == [
        (r["id"], r["count"], r["rank"]) for r in want
    ]
    wrong = cli("rank", "--store", str(stores["spark"].root), "--engine", "sprak")
    assert wrong.returncode == 2 and "unknown engine 'sprak'" in wrong.stderr and "duckdb, spark" in wrong.stderr


def test_spark_results_reach_the_store_through_part_files(stores: dict[str, Store], tmp_path: Path) -> None:
    """A build on Spark writes each table from the executors as Parquet parts, read back a batch at a time
    (nothing is collected whole to the driver); the parts are removed, and an empty result keeps its columns."""
    built = stores["spark"].manifest()["builds"][EDITION]["edition"]
    con = engines.connect(stores["spark"].current, built, engine="spark", spark_master="local[2]")
    credit = con.table("credit")
    scratch = tmp_path / "scratch"
    with engines.result_batches(con, credit, scratch) as rows:
        assert list(scratch.glob("part-*.parquet"))
        got = rows.read_all()
    assert not scratch.exists()
    assert got.num_rows == _derived(stores["spark"], "credit").num_rows > 500
    with engines.result_batches(con, credit.filter(credit.share < 0), scratch) as rows:
        empty = rows.read_all()
    assert empty.num_rows == 0 and set(empty.column_names) == set(credit.columns)
    con.disconnect()
