"""Write a table in the format the user asked for: a Rich table, CSV, JSON (with metadata) or Parquet."""

from __future__ import annotations

import io
import json
import sys
from enum import Enum
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table as RichTable

from sciencecities.errors import InputError


class Format(str, Enum):
    """Output formats of the table verbs."""

    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def write(
    table: pa.Table, fmt: Format, out: Path | None, meta: dict[str, Any], console: Console, title: str = ""
) -> None:
    """Write `table` to `out` (or stdout); JSON carries `meta` beside the rows, Parquet in its schema metadata."""
    if fmt is Format.table:
        if out is not None:
            raise InputError("--out needs a file format", "add --format csv, json or parquet")
        console.print(rich_table(table, title))
        return
    if fmt is Format.parquet:
        if out is None:
            raise InputError("parquet output needs --out FILE", "add --out ranking.parquet")
        pq.write_table(table.replace_schema_metadata({"sciencecities": json.dumps(meta)}), out)
        return
    if fmt is Format.csv:
        buffer = io.BytesIO()
        pacsv.write_csv(table, buffer)
        text = (
            buffer.getvalue().decode("utf-8").replace('"', "")
            if _plain(table)
            else buffer.getvalue().decode()
        )
    else:
        text = json.dumps({"meta": meta, "data": table.to_pylist()}, indent=2, default=str) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


def _plain(table: pa.Table) -> bool:
    """True when no string cell needs CSV quoting (so quotes can be dropped for readability)."""
    for column in table.columns:
        if pa.types.is_string(column.type):
            for value in column.to_pylist():
                if value is not None and any(c in value for c in ',"\n\r'):
                    return False
    return True


def rich_table(table: pa.Table, title: str = "") -> RichTable:
    """A Rich table of an Arrow table; floats with 3 decimals (Share), ints right-aligned."""
    view = RichTable(title=title or None, title_justify="left")
    for field in table.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        view.add_column(field.name, justify="right" if numeric else "left", overflow="fold")
    for row in table.to_pylist():
        view.add_row(*(_cell(v) for v in row.values()))
    return view


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)
