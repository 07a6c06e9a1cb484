"""The ingest's batch hand-off: the merge one work bucket at a time, files read in parallel processes, and the
store's table writers. However the work is cut, the store's tables must come out the same."""

from __future__ import annotations

import pickle
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_upsert import snapshot, write_jsonl, write_merged

from conftest import work
from sciencecities import pipeline
from sciencecities.demo import sample_files
from sciencecities.errors import InputError
from sciencecities.normalise import batch
from sciencecities.pipeline import ingest_openalex
from sciencecities.store import ROW_GROUP_ROWS, Store
from sciencecities.tables import WORKS

_SAME = {"quarantine": ("ingest_id", "source_file")}


def _steps(tmp_path: Path) -> list[list[Path]]:
    """Three ingests: the real sample plus a file with a bad line; then newer and older records of works
    that are stored, and new works; then merged ids."""
    first = [
        sample_files(),
        write_jsonl(
            tmp_path / "in" / "extra.jsonl", [work(1, "2024-01-01", [["I1"]])], raw_lines=["{broken"]
        ),
    ]
    second = [
        write_jsonl(
            tmp_path / "in" / "works" / "part_001.gz",
            [
                work(1, "2025-01-01", [["I3"], ["I1", "I2"]], year=2022),
                work(2, "2020-01-01", [["I2"]]),
                *(work(n, "2025-01-01", [["I1"], ["I2", "I4"]]) for n in range(10, 40)),
            ],
        )
    ]
    third = [
        write_merged(tmp_path / "in" / "merged_ids" / "works" / "2025-02-01.csv.gz", [("x", "W11", "W12")])
    ]
    return [first, second, third]


def _ingest(root: Path, steps: list[list[Path]]) -> dict[str, list[str]]:
    store = Store(root)
    for paths in steps:
        ingest_openalex(store, paths)
    return snapshot(store, _SAME)


@pytest.mark.parametrize("buckets", [2, 7])
def test_the_tables_do_not_depend_on_the_number_of_buckets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, buckets: int
) -> None:
    steps = _steps(tmp_path)
    one = _ingest(tmp_path / "one", steps)
    monkeypatch.setattr(pipeline, "bucket_count", lambda *_: buckets)
    many = _ingest(tmp_path / "many", steps)
    assert many == one
    assert len(one["works"]) > 40 and len(one["affiliations"]) > 100


def test_files_read_in_parallel_processes_give_the_same_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps = _steps(tmp_path)
    alone = _ingest(tmp_path / "alone", steps)
    monkeypatch.setattr(pipeline, "PARALLEL_BYTES", 0)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    chosen: list[int] = []
    real = pipeline._read_all
    monkeypatch.setattr(
        pipeline, "_read_all", lambda jobs, workers: chosen.append(workers) or real(jobs, workers)
    )
    assert _ingest(tmp_path / "parallel", steps) == alone
    assert chosen[0] == 2


def test_a_bucket_is_the_trailing_digits_modulo_the_count() -> None:
    ids = ["W123", "W9", "WOS:000456", "2-s2.0-85000000001", "no-digits", None]
    got = duckdb.sql(f"SELECT {batch.work_bucket('id', 5)} FROM unnest(?) AS t(id)", params=[ids]).fetchall()
    assert [row[0] for row in got] == [123 % 5, 9 % 5, 456 % 5, 85000000001 % 5, 0, 0]


def test_bucket_count_grows_with_the_input_and_the_store() -> None:
    assert batch.bucket_count(0) == 1
    assert batch.bucket_count(batch.BUCKET_BYTES * 3 + 1) == 4
    assert batch.bucket_count(10, stored_works=batch.BUCKET_WORKS * 5) == 5


def test_a_failed_write_leaves_the_staged_tables_as_they_were(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    ingest_openalex(store, [write_jsonl(tmp_path / "a.jsonl", [work(1, "2024-01-01", [["I1"]])])])
    before = store.read("works")
    with pytest.raises(RuntimeError), store.transaction() as txn, txn.writers(WORKS) as out:
        out["works"].write(
            pa.RecordBatchReader.from_batches(WORKS.schema, WORKS.schema.empty_table().to_batches())
        )
        raise RuntimeError("interrupted")
    assert store.read("works").equals(before)
    assert not list(store.root.rglob("*.tmp"))


def test_errors_keep_their_hint_across_processes() -> None:
    error = pickle.loads(pickle.dumps(InputError("what went wrong", "what to do")))
    assert isinstance(error, InputError) and (error.message, error.hint) == ("what went wrong", "what to do")


def test_small_batches_are_gathered_into_full_row_groups(tmp_path: Path) -> None:
    """However many batches a table arrives in, it is written in row groups of ROW_GROUP_ROWS (a small table is
    one group), so scans of it, and float sums over them, do not depend on how it was written."""
    store = Store(tmp_path / "store")
    ingest_openalex(store, [write_jsonl(tmp_path / "a.jsonl", [work(1, "2024-01-01", [["I1"]])])])
    for rows, groups in ((300, [300]), (ROW_GROUP_ROWS + 1000, [ROW_GROUP_ROWS, 1000])):
        data = pa.table({f.name: pa.nulls(rows, f.type) for f in WORKS.schema}).set_column(
            0, "work_id", pa.array([f"W{n}" for n in range(rows)])
        )
        with store.transaction() as txn:
            txn.stream(
                WORKS, pa.RecordBatchReader.from_batches(WORKS.schema, data.to_batches(max_chunksize=97))
            )
        meta = pq.ParquetFile(store.path("works")).metadata
        assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == groups
        assert store.read("works").column("work_id").to_pylist() == data.column("work_id").to_pylist()
