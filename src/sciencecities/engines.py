"""The one module that names an engine: connect Ibis to the store's Parquet tables (DuckDB by default)."""

from __future__ import annotations

from pathlib import Path

import ibis
from ibis.backends import BaseBackend

from sciencecities.tables import CANONICAL, DERIVED


def connect(directory: Path, edition: str | None = None) -> BaseBackend:
    """An in-memory DuckDB backend with the version's canonical (and the edition's derived) tables as views;
    canonical tables the store predates are empty."""
    con = ibis.duckdb.connect()
    for name, table in CANONICAL.items():
        path = directory / f"{name}.parquet"
        if path.exists():
            con.read_parquet(path, table_name=name)
        else:  # a table added after the store was made (e.g. ror_places): empty until ingested
            con.create_view(name, ibis.memtable(table.schema.empty_table()))
    if edition is not None:
        derived = directory / "derived" / edition
        for name in DERIVED:
            path = derived / f"{name}.parquet"
            if path.exists():
                con.read_parquet(path, table_name=name)
    return con
