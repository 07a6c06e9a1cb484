"""`sciencecities rank --intervals` and `--size-independent` as a user runs them on the demo store: the
intervals in the terminal and in every export, reproducible for a seed, and clear errors."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from conftest import cli
from sciencecities import Store, rank
from sciencecities.measure.intervals import INTERVAL_COLUMNS
from sciencecities.rank.indicators import SIZE_INDEPENDENT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(demo: Store, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("intervals") / "store"
    shutil.copytree(demo.root, root)
    return root


def test_terminal_shows_share_and_rank_intervals(store: Path) -> None:
    result = cli("rank", "--store", str(store), "--level", "city", "--intervals", "--resamples", "100", "--top", "5")
    assert result.returncode == 0, result.stderr
    assert "Share 95%" in result.stdout and "rank 95%" in result.stdout
    top = rank(Store(store), level="city", top=5, intervals=True, resamples=100).table.to_pylist()
    assert f"{top[0]['share_lo']:.2f}-{top[0]['share_hi']:.2f}" in result.stdout
    assert "100 bootstrap resamples" in result.stderr and "seed 0" in result.stderr


def test_csv_has_the_interval_columns_and_a_seed_reproduces_them(store: Path) -> None:
    args = ("rank", "--store", str(store), "--level", "country", "--intervals", "--resamples", "100", "-f", "csv")
    first = cli(*args, "--seed", "5")
    assert first.returncode == 0, first.stderr
    assert cli(*args, "--seed", "5").stdout == first.stdout
    assert cli(*args, "--seed", "6").stdout != first.stdout
    rows = list(csv.DictReader(io.StringIO(first.stdout)))
    assert list(rows[0])[-4:] == list(INTERVAL_COLUMNS)
    for row in rows:
        assert float(row["share_lo"]) <= float(row["share"]) <= float(row["share_hi"])
        assert int(row["rank_lo"]) <= int(row["rank_hi"])


def test_json_parquet_and_xlsx_carry_the_intervals_and_their_method(store: Path, tmp_path: Path) -> None:
    base = ("rank", "--store", str(store), "--level", "city", "--intervals", "--resamples", "50", "--seed", "3")
    shown = cli(*base, "-f", "json")
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["meta"]["intervals"]["resamples"] == 50 and document["meta"]["intervals"]["seed"] == 3
    assert "Poisson(1) bootstrap" in document["meta"]["intervals"]["method"]
    assert set(INTERVAL_COLUMNS) <= set(document["data"][0])
    parquet, xlsx = tmp_path / "r.parquet", tmp_path / "r.xlsx"
    assert cli(*base, "-f", "parquet", "--out", str(parquet)).returncode == 0
    table = pq.read_table(parquet)
    assert table.column_names[-4:] == list(INTERVAL_COLUMNS)
    assert b"intervals" in table.schema.metadata[b"sciencecities"]
    assert cli(*base, "-f", "xlsx", "--out", str(xlsx)).returncode == 0
    header = [c.value for c in next(load_workbook(xlsx).worksheets[0].iter_rows(max_row=1))]
    assert header[-4:] == list(INTERVAL_COLUMNS)


def test_size_independent_columns_in_terminal_and_csv(store: Path) -> None:
    base = ("rank", "--store", str(store), "--level", "city", "--size-independent", "--min-articles", "10")
    shown = cli(*base, "--top", "5")
    assert shown.returncode == 0, shown.stderr
    assert "MNCS" in shown.stdout and "PP(top10)" in shown.stdout and "intl" in shown.stdout
    assert "fewer than 10 articles" in shown.stderr
    rows = list(csv.DictReader(io.StringIO(cli(*base, "-f", "csv").stdout)))
    assert list(rows[0])[-len(SIZE_INDEPENDENT) :] == list(SIZE_INDEPENDENT)
    for row in rows:
        ranked = int(row["citation_articles"]) >= 10
        assert row["citation_ranked"] == str(ranked).lower()
        assert (row["mncs"] != "") is ranked


def test_intervals_with_per_capita_and_a_city_drill_down(store: Path) -> None:
    both = cli("rank", "--store", str(store), "--level", "city", "--per-capita", "--intervals", "--resamples", "20",
               "-f", "csv")
    assert both.returncode == 0, both.stderr
    header = next(csv.reader(io.StringIO(both.stdout)))
    assert header.index("share_per_million") < header.index("share_lo")
    drill = cli("rank", "--store", str(store), "--city", "Boston", "--intervals", "--resamples", "20", "-f", "csv")
    assert drill.returncode == 0, drill.stderr
    rows = list(csv.DictReader(io.StringIO(drill.stdout)))
    assert rows and all(int(r["rank_hi"]) <= len(rows) for r in rows)  # ranked among the city's institutions


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--intervals", "--resamples", "5"), "--resamples must be between 10 and 100,000"),
        (("--intervals", "--seed", "-1"), "--seed must be a whole number 0 or more"),
        (("--size-independent", "--min-articles", "0"), "--min-articles must be a whole number of at least 1"),
    ],
)
def test_bad_options_are_clear_errors(store: Path, args: tuple[str, ...], message: str) -> None:
    result = cli("rank", "--store", str(store), "--level", "city", *args)
    assert result.returncode == 2
    assert message in result.stderr and "hint" in result.stderr
