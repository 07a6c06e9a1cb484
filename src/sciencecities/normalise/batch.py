"""The hand-off between an ingest's readers and the merge into the store: a folder of Parquet tables.

A reader (DuckDB, file by file; or Spark) writes what it took as canonical rows plus ordering columns:

    <batch>/works/bucket=K/*.parquet          WORKS columns + _ord
    <batch>/authorships/bucket=K/*.parquet    AUTHORSHIPS columns + _ord
    <batch>/affiliations/bucket=K/*.parquet   AFFILIATIONS columns + _ord
    <batch>/institutions/*.parquet            INSTITUTIONS columns + _prio + _ord (entity and embedded records)
    <batch>/sources/*.parquet                 SOURCES columns + _prio + _ord

`_ord` is file index * 2^32 + line: a later file, then a later line, wins a tie. `_prio` is 2 for an entity
record and 1 for a record embedded in a work. K is `work_bucket(work_id)` below, the same on every engine, so
the merge can take one bucket of the batch and of the store at a time and its memory stays that of a bucket.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyarrow as pa

from sciencecities.tables import AFFILIATIONS, AUTHORSHIPS, INSTITUTIONS, SOURCES, WORKS

_ORD = pa.field("_ord", pa.int64())
_PRIO = pa.field("_prio", pa.int64())

TABLES: dict[str, pa.Schema] = {
    "works": WORKS.schema.append(_ORD),
    "authorships": AUTHORSHIPS.schema.append(_ORD),
    "affiliations": AFFILIATIONS.schema.append(_ORD),
    "institutions": INSTITUTIONS.schema.append(_PRIO).append(_ORD),
    "sources": SOURCES.schema.append(_PRIO).append(_ORD),
}
"""Each batch table's columns and types."""

BUCKETED = ("works", "authorships", "affiliations")
"""The batch tables partitioned by work bucket (hive style, `bucket=K`)."""

BUCKET_SQL = (
    "coalesce(try_cast(nullif(regexp_extract({column}, '([0-9]{{1,18}})$', 1), '') AS BIGINT), 0) % {n}"
)
"""The bucket of a work id in SQL (DuckDB and Spark SQL alike; no backslash, which Spark SQL would read as an
escape): its trailing digits (at most 18) modulo the
number of buckets, 0 when it has none. OpenAlex ids (W123), WoS UTs (WOS:000123) and Scopus EIDs
(2-s2.0-85123) all end in digits."""

BUCKET_BYTES = 128 << 20
"""Input file bytes (as stored, gzipped or not) per bucket: about 100,000 works of the snapshot."""

BUCKET_WORKS = 200_000
"""Stored works per bucket when an ingest merges into a store that already holds works."""


def work_bucket(column: str, buckets: int) -> str:
    """The SQL expression of the bucket of the work id in `column`."""
    return BUCKET_SQL.format(column=column, n=int(buckets))


def bucket_count(input_bytes: int, stored_works: int = 0) -> int:
    """How many buckets an ingest of files of `input_bytes` into a store of `stored_works` uses, so that one
    bucket of the merge holds about 100,000 new or 200,000 stored works."""
    return max(1, math.ceil(input_bytes / BUCKET_BYTES), math.ceil(stored_works / BUCKET_WORKS))


def files(batch: Path, table: str, bucket: int | None = None) -> list[str]:
    """The Parquet files of one batch table (of one bucket), sorted; empty when the reader wrote none."""
    base = batch / table if bucket is None else batch / table / f"bucket={bucket}"
    return sorted(str(p) for p in base.glob("**/*.parquet")) if base.is_dir() else []
