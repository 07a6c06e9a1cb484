"""Merge a canonical batch into the store's tables: newest record wins, merged ids removed or redirected."""

from __future__ import annotations

import duckdb

from sciencecities.store import Transaction
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


def merge_into_store(con: duckdb.DuckDBPyConnection, txn: Transaction) -> None:
    """Upsert the batch tables (`b_*`) into the staged store version `txn`."""
    _load(con, txn, MERGED_IDS, "s_merged")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE merged AS
        SELECT entity, id, any_value(merge_into_id) AS merge_into_id, max(merge_date) AS merge_date
        FROM (SELECT * FROM s_merged UNION ALL BY NAME SELECT * FROM b_merged) GROUP BY entity, id
    """)
    _write(con, txn, MERGED_IDS, "SELECT * FROM merged ORDER BY entity, id")
    _merge_works(con, txn)
    _merge_entities(con, txn, INSTITUTIONS, INSTITUTION_RECORDS, "institution_id", "institutions")
    _merge_entities(con, txn, SOURCES, SOURCE_RECORDS, "source_id", "sources")


def _merge_works(con: duckdb.DuckDBPyConnection, txn: Transaction) -> None:
    for table, name in ((WORKS, "s_works"), (AUTHORSHIPS, "s_authorships"), (AFFILIATIONS, "s_affiliations")):
        _load(con, txn, table, name)
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
    _write(
        con,
        txn,
        WORKS,
        f"""
        SELECT * REPLACE ({redirect_source}) FROM (
            SELECT s.* FROM s_works s JOIN winners w ON w.work_id = s.work_id AND w._new = 0
            UNION ALL BY NAME
            SELECT b.* EXCLUDE (_ord) FROM b_works b JOIN winners w ON w.work_id = b.work_id AND w._ord = b._ord
                                                                  AND w._new = 1
        ) AS t ORDER BY work_id
    """,
    )
    _write(
        con,
        txn,
        AUTHORSHIPS,
        """
        SELECT s.* FROM s_authorships s JOIN winners w ON w.work_id = s.work_id AND w._new = 0
        UNION ALL BY NAME
        SELECT b.* EXCLUDE (_ord, institution_ids, institution_objects), len(b.institution_ids) AS n_institutions
        FROM b_authorships b JOIN winners w ON w.work_id = b.work_id AND w._ord = b._ord AND w._new = 1
        ORDER BY work_id, author_position
    """,
    )
    _write(
        con,
        txn,
        AFFILIATIONS,
        """
        SELECT DISTINCT work_id, author_position,
               coalesce(m.merge_into_id, a.institution_id) AS institution_id
        FROM (
            SELECT s.* FROM s_affiliations s JOIN winners w ON w.work_id = s.work_id AND w._new = 0
            UNION ALL BY NAME
            SELECT b.* EXCLUDE (_ord) FROM b_affiliations b
            JOIN winners w ON w.work_id = b.work_id AND w._ord = b._ord AND w._new = 1
        ) AS a
        LEFT JOIN merged m ON m.entity = 'institutions' AND m.id = a.institution_id
        ORDER BY work_id, author_position, institution_id
    """,
    )


def _merge_entities(
    con: duckdb.DuckDBPyConnection, txn: Transaction, table: Table, records: Table, key: str, entity: str
) -> None:
    """Keep, per id and kind of record (entity, embedded), the newest non-null value of each field in
    `records`; the canonical table then takes each field from the entity record first, else the embedded one.
    Both steps pick newest-non-null per field, so the result does not depend on how files were batched."""
    stored = f"s_{records.name}"
    _load(con, txn, records, stored)
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


_BATCH_ROWS = 100_000
"""Rows per batch when a merged table is written: the ingest never holds a whole table in memory."""


def _load(con: duckdb.DuckDBPyConnection, txn: Transaction, table: Table, name: str) -> None:
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM read_parquet(?)", [str(txn.path(table.name))]
    )


def _write(
    con: duckdb.DuckDBPyConnection,
    txn: Transaction,
    table: Table,
    query: str,
    params: list[str] | None = None,
) -> None:
    txn.stream(table, con.sql(query, params=params).to_arrow_reader(_BATCH_ROWS))
