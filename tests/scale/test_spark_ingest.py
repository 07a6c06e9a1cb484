"""The Spark reader of OpenAlex files (issue 11, point 1): the same batch rows as the DuckDB reader on the
real sample, the same quarantine, exact line numbers across splits, and the snapshot layout told apart.
Spark runs `local[2]` in this process; it needs Java 17+ (see the README)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import SparkSession

from sciencecities import Store
from sciencecities.acquire.files import discover
from sciencecities.engines import spark_session
from sciencecities.errors import InputError
from sciencecities.normalise import batch as batch_tables
from sciencecities.normalise.openalex import MAX_RECORD_BYTES, SCHEMAS
from sciencecities.normalise.openalex_spark import (
    MALFORMED,
    SparkInput,
    SparkRead,
    list_inputs,
    read_openalex_spark,
    spark_schema,
)
from sciencecities.pipeline import ingest_openalex

pytestmark = pytest.mark.spark

SAMPLE = Path(__file__).parents[2] / "src" / "sciencecities" / "data" / "sample" / "openalex"
ORDERING = ("_ord", "_prio")


@pytest.fixture(scope="module")
def spark() -> SparkSession:
    return spark_session("local[2]")


def _read(spark: SparkSession, files: list[tuple[Path, str]], batch: Path, buckets: int = 3) -> SparkRead:
    inputs = [
        SparkInput(str(path), entity, index + 1, path.stat().st_size)
        for index, (path, entity) in enumerate(files)
    ]
    batch.mkdir(parents=True)
    return read_openalex_spark(spark, inputs, batch, buckets)


def _table(batch: Path, name: str) -> pa.Table:
    """A batch table as written, each file's types checked against batch.TABLES."""
    files = batch_tables.files(batch, name)
    assert files, name
    expected = batch_tables.TABLES[name]
    for file in files:
        schema = pq.read_schema(file)
        assert schema.names == expected.names, file
        assert [f.type for f in schema] == [f.type for f in expected], file
    return pa.concat_tables(pq.read_table(f, schema=expected) for f in files)


def _rows(table: pa.Table, drop: tuple[str, ...] = ()) -> list[tuple[Any, ...]]:
    names = [n for n in table.column_names if n not in drop]
    return [tuple(_hashable(r[n]) for n in names) for r in table.select(names).to_pylist()]


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _newest_per_field(records: list[dict[str, Any]], key: str) -> dict[tuple[Any, Any], dict[str, Any]]:
    """What the merge keeps per id and kind of record: the newest non-null value of each field (by
    updated_date, then _ord), computed here in plain Python from the batch rows."""
    grouped: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for r in records:
        grouped.setdefault((r[key], r["record_source"]), []).append(r)
    result = {}
    for group_key, group in grouped.items():
        group.sort(
            key=lambda r: (r["updated_date"] is not None, r["updated_date"] or 0, r["_ord"]), reverse=True
        )
        result[group_key] = {
            name: next((r[name] for r in group if r[name] is not None), None)
            for name in group[0]
            if name not in ORDERING
        }
    return result


@pytest.fixture(scope="module")
def sample(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SparkRead, Store]:
    """The real sample read by Spark into a batch, and ingested by the DuckDB path into a store."""
    root = tmp_path_factory.mktemp("sample")
    files = discover([SAMPLE])[0]
    read = _read(spark, [(f.path, f.entity) for f in files], root / "batch")
    store = Store(root / "store")
    ingest_openalex(store, [f.path for f in files])
    return root / "batch", read, store


def _assert_same(batch: Path, store: Store) -> None:
    """The batch's work tables hold the store's rows (the store was ingested from the same files by DuckDB and
    holds no duplicate works), and its entity and embedded records merge into the store's records."""
    stored = {name: pq.read_table(store.current / f"{name}.parquet") for name in batch_tables.TABLES}
    works = _table(batch, "works")
    assert works.num_rows == len(set(works.column("work_id").to_pylist())), "no duplicate work"
    for name in batch_tables.BUCKETED:
        mine = _rows(_table(batch, name), ORDERING)
        assert len(mine) == len(set(mine)), name
        assert set(mine) == set(_rows(stored[name])), name
    for name, key in (("institutions", "institution_id"), ("sources", "source_id")):
        records = _table(batch, name).to_pylist()
        kept = {
            (r[key], r["record_source"]): r
            for r in pq.read_table(store.current / f"{name[:-1]}_records.parquet").to_pylist()
        }
        assert _newest_per_field(records, key) == kept, name
        assert {r[key] for r in records} == set(stored[name].column(key).to_pylist()), name


def test_sample_equals_the_duckdb_path(sample: tuple[Path, SparkRead, Store]) -> None:
    batch, read, store = sample
    assert read.quarantined == 0
    assert read.taken == sum(f.lines for f in read.files) > 0
    _assert_same(batch, store)
    for name in ("institutions", "sources"):
        records = _table(batch, name).to_pylist()
        assert {r["record_source"] for r in records} == {"entity", "embedded"}, name
        entity = [
            r["institution_id" if name == "institutions" else "source_id"]
            for r in records
            if r["record_source"] == "entity"
        ]
        assert len(entity) == len(set(entity)) > 0


def test_embedded_duplicates_are_folded(sample: tuple[Path, SparkRead, Store]) -> None:
    batch, _, _ = sample
    for name in ("institutions", "sources"):
        embedded = [r for r in _table(batch, name).to_pylist() if r["record_source"] == "embedded"]
        fields = [
            tuple(_hashable(v) for k, v in r.items() if k not in ("updated_date", "_ord")) for r in embedded
        ]
        assert len(fields) == len(set(fields)) > 0, name
    embedded_institutions = [r for r in _table(batch, "institutions").to_pylist() if r["_prio"] == 1]
    assert len(embedded_institutions) < _table(batch, "affiliations").num_rows / 2


ODD = "https://openalex.org/"
ODD_WORKS = [
    {  # the old schema: host_venue (V ids), institutions only, one raw affiliation string; nulls in lists
        "id": ODD + "W10",
        "display_name": "old",
        "doi": "https://dx.doi.org/10.1/ABC",
        "publication_year": 1999,
        "publication_date": "1999",
        "host_venue": {"id": ODD + "V5", "display_name": "Old", "issn_l": "1234-5678", "issn": ["1234-5678"]},
        "authorships": [
            {
                "author": {"id": ODD + "A1", "display_name": None},
                "raw_author_name": "Raw Name",
                "raw_affiliation_string": "Somewhere",
                "institutions": [
                    {
                        "id": ODD + "I1",
                        "display_name": "One",
                        "ror": "https://ror.org/01",
                        "lineage": [ODD + "I1", None],
                    },
                    {"id": "", "display_name": "blank"},
                    None,
                    {"id": ODD + "I1", "country_code": "GB"},
                ],
            },
            None,
            {
                "author": {"id": ODD + "A2"},
                "raw_affiliation_strings": [],
                "affiliations": [
                    {"raw_affiliation_string": None, "institution_ids": [ODD + "I2", "", None, ODD]},
                    None,
                    {"raw_affiliation_string": "X", "institution_ids": None},
                ],
            },
        ],
        "updated_date": "2020-01-02",
    },
    {
        "id": ODD + "W11",
        "title": "T",
        "primary_location": {"source": None},
        "host_venue": {"id": None},
        "primary_topic": {"id": ODD + "T1", "subfield": {"id": ODD + "subfields/1234"}, "field": {"id": "x"}},
        "authorships": [],
        "updated_date": "2025-01-22T06:55:31.735384",
        "publication_date": "2025-1-2",
        "is_retracted": None,
    },
    {
        "id": "W12",
        "authorships": None,
        "primary_location": {"source": {"id": ODD + "S9", "issn": None}},
        "updated_date": "not a date",
        "publication_date": "2020-02-30",
    },
    {"id": ODD + "W13", "authorships": [{"institutions": None, "raw_affiliation_strings": ["a", None]}]},
]


QUARANTINE_LINES = [
    json.dumps({"id": "https://openalex.org/W1", "title": "kept", "publication_year": 2020}),
    '{"id": "https://openalex.org/W2", "title": ',
    "",
    "[1, 2]",
    json.dumps({"id": "https://openalex.org/X3"}),
    json.dumps({"title": "no id"}),
    "   ",
    json.dumps({"id": 5}),
    json.dumps({"id": "https://openalex.org/W6", "primary_location": 7}),
    '"just a string"',
    '{"id": "https://openalex.org/W7"} trailing',
    json.dumps({"id": "https://openalex.org/W8", "authorships": [{"author": {"id": "A8"}}]}),
]


def test_quarantine_and_odd_records_match_the_duckdb_path(spark: SparkSession, tmp_path: Path) -> None:
    path = tmp_path / "works.jsonl"
    path.write_text("\n".join([*QUARANTINE_LINES, *(json.dumps(r) for r in ODD_WORKS)]) + "\n")
    long = json.dumps({"id": "https://openalex.org/W2", "title": "x" * MAX_RECORD_BYTES})
    too_long = tmp_path / "long.jsonl"
    too_long.write_text("\n" + long + "\n")
    read = _read(spark, [(path, "works"), (too_long, "works")], tmp_path / "batch")
    counts = [(f.lines, f.blank, f.taken, f.quarantined) for f in read.files]
    assert counts == [(16, 2, 6, 8), (2, 1, 0, 1)]
    quarantine = sorted(
        pq.read_table(batch_tables.files(tmp_path / "batch", "quarantine")).to_pylist(),
        key=lambda q: q["line"],
    )
    assert {q["entity"] for q in quarantine} == {"works"}
    (cut,) = [q for q in quarantine if q["source_file"] == str(too_long)]
    assert (cut["line"], cut["reason"].startswith("longer than")) == (2, True)
    assert cut["raw"] == long[: 1 << 20] + f"... [{len(long) - (1 << 20)} more characters cut]"
    store = Store(tmp_path / "store")
    ingest_openalex(store, [path])
    theirs = sorted(pq.read_table(store.current / "quarantine.parquet").to_pylist(), key=lambda q: q["line"])
    mine = [q for q in quarantine if q["source_file"] == str(path)]
    assert [q["line"] for q in mine] == [q["line"] for q in theirs] == [2, 4, 5, 6, 8, 9, 10, 11]
    for q, duck in zip(mine, theirs, strict=True):
        assert q["raw"] == duck["raw"], q["line"]
        if q["reason"] == MALFORMED:
            assert duck["reason"].startswith("malformed JSON: "), q["line"]
        elif q["reason"].startswith("does not fit the works schema"):
            assert duck["reason"].startswith("does not fit the works schema"), q["line"]
        else:
            assert q["reason"] == duck["reason"], q["line"]
    works = {w["work_id"]: w["record_line"] for w in _table(tmp_path / "batch", "works").to_pylist()}
    assert works == {"W1": 1, "W8": 12, "W10": 13, "W11": 14, "W12": 15, "W13": 16}
    assert _table(tmp_path / "batch", "authorships").num_rows == 5
    _assert_same(tmp_path / "batch", store)


@pytest.fixture
def small_splits(spark: SparkSession) -> Iterator[None]:
    spark.conf.set("spark.sql.files.maxPartitionBytes", "8192")
    yield
    spark.conf.unset("spark.sql.files.maxPartitionBytes")


def test_lines_are_exact_across_splits(spark: SparkSession, tmp_path: Path, small_splits: None) -> None:
    lines, expected = [], {}
    for n in range(1, 1201):
        if n % 11 == 0:
            lines.append("")
            continue
        record = {
            "id": f"https://openalex.org/W{n * 7919}",
            "title": "x" * (n % 37),
            "publication_year": 2000 + n % 20,
        }
        lines.append(json.dumps(record) + ("\r" if n % 5 == 0 else ""))
        expected[f"W{n * 7919}"] = n
    path = tmp_path / "part_000.jsonl"
    path.write_text("\n".join(lines))
    blocks = spark.read.text(str(path)).select("_metadata.file_block_start").distinct().count()
    assert blocks > 5
    buckets = 7
    read = _read(spark, [(path, "works")], tmp_path / "batch", buckets)
    assert (read.files[0].lines, read.files[0].blank, read.quarantined) == (1200, 1200 // 11, 0)
    works = _table(tmp_path / "batch", "works").to_pylist()
    assert {w["work_id"]: w["record_line"] for w in works} == expected
    assert {w["work_id"]: w["_ord"] for w in works} == {k: (1 << 32) + v for k, v in expected.items()}
    con = duckdb.connect()
    wrong = con.execute(
        f"SELECT count(*), count(DISTINCT bucket) FROM read_parquet(?, hive_partitioning = true) "
        f"WHERE bucket != {batch_tables.work_bucket('work_id', buckets)}",
        [str(tmp_path / "batch" / "works" / "**" / "*.parquet")],
    ).fetchone()
    assert wrong == (0, 0)
    spread = con.execute(
        "SELECT count(DISTINCT bucket) FROM read_parquet(?, hive_partitioning = true)",
        [str(tmp_path / "batch" / "works" / "**" / "*.parquet")],
    ).fetchone()
    assert spread == (buckets,)


def _gz(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode()))
    return path


def test_list_inputs_reads_the_snapshot_layout(spark: SparkSession, tmp_path: Path) -> None:
    root = tmp_path / "openalex snapshot"
    data = root / "data"
    _gz(data / "works" / "updated_date=2024-01-02" / "part_001.gz", [{"id": "https://openalex.org/W2"}])
    _gz(data / "works" / "updated_date=2024-01-01" / "part_000.gz", [{"id": "https://openalex.org/W1"}] * 3)
    _gz(
        data / "institutions" / "updated_date=2024-01-01" / "part_000.gz", [{"id": "https://openalex.org/I1"}]
    )
    _gz(data / "sources" / "updated_date=2024-01-01" / "part_000.gz", [{"id": "https://openalex.org/S1"}])
    _gz(data / "authors" / "updated_date=2024-01-01" / "part_000.gz", [{"id": "https://openalex.org/A1"}])
    (data / "merged_ids" / "works").mkdir(parents=True)
    (data / "merged_ids" / "works" / "2024-01-01.csv").write_text("merge_date,id,merge_into_id\n")
    (data / "works" / "manifest").write_text("{}")
    _gz(root / "extra" / "loose.jsonl.gz", [{"id": "https://openalex.org/I9"}])
    inputs, skipped = list_inputs(spark, [f"file://{root}"])
    found, not_read = discover([root])
    assert [(i.uri.rsplit("/", 1)[1], i.entity, i.size) for i in inputs] == [
        (f.path.name, f.entity, f.size) for f in found
    ]
    assert [i.entity for i in inputs] == [
        "institutions",
        "merged_ids:works",
        "sources",
        "works",
        "works",
        "institutions",
    ]
    assert [i.index for i in inputs] == list(range(1, 7))
    assert [s.reason for s in skipped] == [s.reason for s in not_read] == ["OpenAlex authors are not used"]
    (single,), _ = list_inputs(spark, [str(data / "works" / "updated_date=2024-01-01" / "part_000.gz")])
    assert (single.entity, single.size) == ("works", found[3].size)
    batch = tmp_path / "batch"
    batch.mkdir()
    read = read_openalex_spark(spark, [i for i in inputs if not i.entity.startswith("merged_ids")], batch, 2)
    assert [(f.input.entity, f.taken) for f in read.files] == [
        ("institutions", 1),
        ("sources", 1),
        ("works", 3),
        ("works", 1),
        ("institutions", 1),
    ]
    works = _table(batch, "works").to_pylist()
    assert sorted((w["record_file"], w["record_line"]) for w in works) == sorted(
        [(str(found[3].path), n) for n in (1, 2, 3)] + [(str(found[4].path), 1)]
    )


def test_the_spark_schema_is_the_duckdb_schema() -> None:
    for entity, columns in SCHEMAS.items():
        assert spark_schema(entity).fieldNames() == list(columns)
    authorship = spark_schema("works")["authorships"].dataType.elementType
    assert authorship.simpleString() == (
        "struct<author:struct<id:string,display_name:string>,institutions:array<struct<id:string,"
        "display_name:string,ror:string,country_code:string,type:string,lineage:array<string>>>,"
        "is_corresponding:boolean,raw_author_name:string,raw_affiliation_strings:array<string>,"
        "raw_affiliation_string:string,affiliations:array<struct<raw_affiliation_string:string,"
        "institution_ids:array<string>>>>"
    )
    assert spark_schema("institutions")["geo"].dataType["latitude"].dataType.simpleString() == "double"
    assert spark_schema("works")["publication_year"].dataType.simpleString() == "bigint"


def test_bad_inputs_are_refused_with_the_file_named(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        list_inputs(spark, [str(tmp_path / "missing")])
    with pytest.raises(InputError, match="merged_ids"):
        read_openalex_spark(spark, [SparkInput(str(tmp_path / "x.csv"), "merged_ids:works", 1)], tmp_path, 1)
    with pytest.raises(InputError, match="at least one"):
        read_openalex_spark(spark, [], tmp_path, 0)
    data = gzip.compress(
        "".join(json.dumps({"id": f"https://openalex.org/W{n}"}) + "\n" for n in range(9000)).encode()
    )
    damaged = tmp_path / "works.jsonl.gz"
    damaged.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=f"Spark could not read file:.*{damaged}: .*EOFException"):
        _read(spark, [(damaged, "works")], tmp_path / "batch", 1)
    assert not (tmp_path / "batch" / "_spark_lines").exists()
