"""Merge a canonical batch into the store's tables: newest record wins, merged ids removed or redirected."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from sciencecities.normalise.batch import TABLES, work_bucket
from sciencecities.normalise.batch import files as batch_files
from sciencecities.store import TableWriter, Transaction
from sciencecities.tables import (
    AFFILIATIONS,
    AUTHORSHIPS,
    INSTITUTION_RECORDS,
    INSTITUTIONS,
    MERGED_IDS,
    SOURCE_RECORDS,
    SOURCES,
    WORKS,
    Table,
)


def load_merged_ids(con: duckdb.DuckDBPyConnection, files: list[tuple[str, str]]) -> int:
    """Read OpenAlex `merged_ids` CSV files (columns merge_date, id, merge_into_id) into `b_merged`."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE b_merged (entity VARCHAR, id VARCHAR, merge_into_id VARCHAR, "
        "merge_date VARCHAR)"
    )
    for entity, path in files:
        con.execute(
            """
            INSERT INTO b_merged
            SELECT ?, regexp_replace(id, '^https://openalex\\.org/', ''),
                   regexp_replace(merge_into_id, '^https://openalex\\.org/', ''), merge_date
            FROM read_csv(?, header=true, all_varchar=true)
            WHERE id IS NOT NULL
            """,
            [entity, path],
        )
    row = con.execute("SELECT count(*) FROM b_merged").fetchone()
    return int(row[0]) if row else 0


def write_batch(con: duckdb.DuckDBPyConnection, batch: Path, buckets: int, part: str) -> None:
    """Append the canonical batch tables (`b_*`, as `canonicalise` makes them) to the batch folder as files
    named `part`, the work tables in buckets; identical embedded records are written once (the newest)."""
    bucket = work_bucket("work_id", buckets)
    works = {
        "works": "SELECT * FROM b_works",
        "authorships": "SELECT *, len(institution_ids) AS n_institutions FROM b_authorships",
        "affiliations": "SELECT * FROM b_affiliations",
    }
    for name, query in works.items():
        _copy(con, batch / name, _conformed(query, name, f"{bucket} AS bucket"), part, bucketed=True)
    for name, table in (("institutions", INSTITUTIONS), ("sources", SOURCES)):
        fields = ", ".join(f.name for f in table.schema if f.name != "updated_date")
        query = f"""
            SELECT * FROM b_{name} WHERE record_source = 'entity'
            UNION ALL BY NAME
            SELECT {fields}, nullif(k.u, '-infinity'::TIMESTAMP) AS updated_date, _prio, k.o AS _ord FROM (
                SELECT {fields}, any_value(_prio) AS _prio,
                       max({{'u': coalesce(updated_date, '-infinity'::TIMESTAMP), 'o': _ord}}) AS k
                FROM b_{name} WHERE record_source = 'embedded' GROUP BY ALL
            )
        """
        _copy(con, batch / name, _conformed(query, name), part, bucketed=False)


def _copy(con: duckdb.DuckDBPyConnection, folder: Path, query: str, part: str, *, bucketed: bool) -> None:
    """Write a query's rows to Parquet in `folder` (transient files: LZ4, cheaper to write than zstd)."""
    folder.mkdir(parents=True, exist_ok=True)
    if bucketed:
        options = f"PARTITION_BY (bucket), FILENAME_PATTERN '{part}_{{i}}', OVERWRITE_OR_IGNORE true"
        con.execute(f"COPY ({query}) TO '{folder}' (FORMAT parquet, COMPRESSION lz4_raw, {options})")
    else:
        con.execute(f"COPY ({query}) TO '{folder / part}.parquet' (FORMAT parquet, COMPRESSION lz4_raw)")


def merge_into_store(
    con: duckdb.DuckDBPyConnection, txn: Transaction, batch: Path, buckets: int, workdir: Path
) -> None:
    """Upsert the batch folder into the staged store version `txn`, one work bucket at a time."""
    _load(con, txn, MERGED_IDS, "s_merged")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE merged AS
        SELECT entity, id, any_value(merge_into_id) AS merge_into_id, max(merge_date) AS merge_date
        FROM (SELECT * FROM s_merged UNION ALL BY NAME SELECT * FROM b_merged) GROUP BY entity, id
    """)
    _write(con, txn, MERGED_IDS, "SELECT * FROM merged ORDER BY entity, id")
    stored = _split_stored(con, txn, workdir / "stored", buckets)
    with txn.writers(WORKS, AUTHORSHIPS, AFFILIATIONS) as out:
        for bucket in range(buckets):
            _merge_bucket(con, out, batch, stored, bucket)
    _merge_entities(con, txn, INSTITUTIONS, INSTITUTION_RECORDS, "institution_id", "institutions", batch)
    _merge_entities(con, txn, SOURCES, SOURCE_RECORDS, "source_id", "sources", batch)


def _split_stored(
    con: duckdb.DuckDBPyConnection, txn: Transaction, folder: Path, buckets: int
) -> Path | None:
    """Copy the store's work tables into buckets (one pass each), or None when the store holds no works."""
    if pq.ParquetFile(txn.path(WORKS.name)).metadata.num_rows == 0:
        return None
    bucket = work_bucket("work_id", buckets)
    for table in (WORKS, AUTHORSHIPS, AFFILIATIONS):
        _copy(
            con,
            folder / table.name,
            f"SELECT *, {bucket} AS bucket FROM read_parquet('{txn.path(table.name)}')",
            "stored",
            bucketed=True,
        )
    return folder


def _merge_bucket(
    con: duckdb.DuckDBPyConnection, out: dict[str, TableWriter], batch: Path, stored: Path | None, bucket: int
) -> None:
    """Merge one bucket: per work id the newest record wins (stored or new), merged ids go, redirects apply."""
    for table in (WORKS, AUTHORSHIPS, AFFILIATIONS):
        _load_files(con, f"b_{table.name}", batch_files(batch, table.name, bucket), TABLES[table.name])
        paths = batch_files(stored, table.name, bucket) if stored is not None else []
        _load_files(con, f"s_{table.name}", paths, table.schema)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE winners AS
        SELECT work_id, _new, _ord FROM (
            SELECT work_id, updated_date, 0 AS _new, 0::BIGINT AS _ord FROM s_works
            UNION ALL SELECT work_id, updated_date, 1, _ord FROM b_works
        )
        WHERE work_id NOT IN (SELECT id FROM merged WHERE entity = 'works')
        QUALIFY row_number() OVER (PARTITION BY work_id ORDER BY updated_date DESC NULLS LAST, _new DESC,
                                   _ord DESC) = 1
    """)
    redirect_source = """
        coalesce((SELECT m.merge_into_id FROM merged m WHERE m.entity = 'sources' AND m.id = t.source_id),
                 t.source_id) AS source_id"""
    taken = """
        SELECT s.* FROM s_{0} s JOIN winners w ON w.work_id = s.work_id AND w._new = 0
        UNION ALL BY NAME
        SELECT b.* EXCLUDE (_ord) FROM b_{0} b JOIN winners w ON w.work_id = b.work_id AND w._ord = b._ord
                                                           AND w._new = 1"""
    out[WORKS.name].write(
        _rows(
            con, f"SELECT * REPLACE ({redirect_source}) FROM ({taken.format('works')}) AS t ORDER BY work_id"
        )
    )
    out[AUTHORSHIPS.name].write(
        _rows(con, f"{taken.format('authorships')} ORDER BY work_id, author_position")
    )
    out[AFFILIATIONS.name].write(
        _rows(
            con,
            f"""
        SELECT DISTINCT work_id, author_position, coalesce(m.merge_into_id, a.institution_id) AS institution_id
        FROM ({taken.format("affiliations")}) AS a
        LEFT JOIN merged m ON m.entity = 'institutions' AND m.id = a.institution_id
        ORDER BY work_id, author_position, institution_id
    """,
        )
    )


def _merge_entities(
    con: duckdb.DuckDBPyConnection,
    txn: Transaction,
    table: Table,
    records: Table,
    key: str,
    entity: str,
    batch: Path,
) -> None:
    """Keep, per id and kind of record (entity, embedded), the newest non-null value of each field in
    `records`; the canonical table then takes each field from the entity record first, else the embedded one.
    Both steps pick newest-non-null per field, so the result does not depend on how files were batched."""
    stored = f"s_{records.name}"
    _load(con, txn, records, stored)
    _load_files(con, f"b_{table.name}", batch_files(batch, table.name), TABLES[table.name])
    fields = [f.name for f in table.schema if f.name not in (key, "record_source")]

    def picks(order: str) -> str:
        return ",\n".join(
            f"first({name} ORDER BY {order}) FILTER (WHERE {name} IS NOT NULL) AS {name}" for name in fields
        )

    _write(
        con,
        txn,
        records,
        f"""
        SELECT {key}, record_source, {picks("updated_date DESC NULLS LAST, _new DESC, _ord DESC")}
        FROM (
            SELECT *, 0 AS _new, 0::BIGINT AS _ord FROM {stored}
            UNION ALL BY NAME SELECT * EXCLUDE (_prio), 1 AS _new FROM b_{table.name}
        )
        WHERE {key} NOT IN (SELECT id FROM merged WHERE entity = '{entity}')
        GROUP BY {key}, record_source ORDER BY {key}, record_source
    """,
    )
    _write(
        con,
        txn,
        table,
        f"""
        SELECT {key}, {picks("_prio DESC")},
               CASE max(_prio) WHEN 2 THEN 'entity' ELSE 'embedded' END AS record_source
        FROM (SELECT *, CASE record_source WHEN 'entity' THEN 2 ELSE 1 END AS _prio FROM read_parquet(?))
        GROUP BY {key} ORDER BY {key}
    """,
        [str(txn.path(records.name))],
    )


def _load(con: duckdb.DuckDBPyConnection, txn: Transaction, table: Table, name: str) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM read_parquet(?)", [str(txn.path(table.name))]
    )


def _load_files(con: duckdb.DuckDBPyConnection, name: str, paths: list[str], schema: pa.Schema) -> None:
    """Load Parquet files into the temp table `name` (empty, with `schema`, when there are none)."""
    if paths:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM read_parquet(?, hive_partitioning=false)",
            [paths],
        )
    else:
        con.register("_empty", schema.empty_table())
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM _empty")
        con.unregister("_empty")


def _write(
    con: duckdb.DuckDBPyConnection,
    txn: Transaction,
    table: Table,
    query: str,
    params: list[str] | None = None,
) -> None:
    with txn.writers(table) as out:
        out[table.name].write(_rows(con, query, params))


_BATCH_ROWS = 100_000
"""Rows per record batch when a merged table is written: the ingest never holds a whole table in memory."""


def _rows(
    con: duckdb.DuckDBPyConnection, query: str, params: list[str] | None = None
) -> pa.RecordBatchReader:
    return con.sql(query, params=params).to_arrow_reader(_BATCH_ROWS)


_DUCKDB_TYPES = {
    pa.string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    pa.float64(): "DOUBLE",
    pa.date32(): "DATE",
    pa.timestamp("us"): "TIMESTAMP",
    pa.list_(pa.string()): "VARCHAR[]",
}


def _conformed(query: str, table: str, *extra: str) -> str:
    """`query` with exactly the batch table's columns and types (and the `extra` columns after them)."""
    columns = [f'CAST("{f.name}" AS {_DUCKDB_TYPES[f.type]}) AS "{f.name}"' for f in TABLES[table]]
    return f"SELECT {', '.join([*columns, *extra])} FROM ({query})"
