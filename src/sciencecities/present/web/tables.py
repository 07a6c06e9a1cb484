"""What the web API does to a table the Python API returned: filter by country and search, sort, cut a page,
and answer as JSON or as a download (CSV, xlsx or Parquet, written by `present.export`)."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
from fastapi.responses import JSONResponse, Response
from rich.console import Console

from sciencecities.errors import InputError
from sciencecities.present.export import Format, write, write_xlsx
from sciencecities.present.web.service import NotFoundError
from sciencecities.rank.names import normalise

TableFormat = Literal["json", "csv", "xlsx", "parquet"]
"""The formats of a table endpoint: JSON (one page) or a download of the whole filtered table."""

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}
DOWNLOADS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "One page as JSON, or with `format` the whole filtered table as a file.",
        "content": {media: {} for media in MEDIA.values()},
    }
}
"""The extra response types of a table endpoint, for the OpenAPI schema."""


def clean(value: Any) -> Any:
    """`value` with every float that JSON cannot hold (NaN, infinity) as None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


class Body(JSONResponse):
    """A JSON response that holds no NaN or infinity (null instead) and writes dates and paths as text."""

    def render(self, content: Any) -> bytes:
        return json.dumps(clean(content), ensure_ascii=False, separators=(",", ":"), default=str).encode()


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """The table's rows as JSON-ready dicts."""
    return clean(table.to_pylist())  # type: ignore[no-any-return]


def filtered(table: pa.Table, countries: list[str], q: str | None, country_column: str) -> pa.Table:
    """The rows whose `country_column` is one of `countries` (all when empty) and whose name or id contains
    `q` (case, accents and 'metropolitan area' ignored)."""
    if countries and country_column in table.column_names:
        table = table.filter(pc.is_in(table[country_column], value_set=pa.array(countries, pa.string())))
    wanted = normalise(q) if q else ""
    if wanted:
        names = (
            [normalise(n or "") for n in table["name"].to_pylist()] if "name" in table.column_names else []
        )
        ids = [(i or "").lower() for i in table["id"].to_pylist()] if "id" in table.column_names else []
        keep = [
            wanted in (names[i] if names else "") or (q or "").strip().lower() == (ids[i] if ids else "")
            for i in range(table.num_rows)
        ]
        table = table.filter(pa.array(keep, pa.bool_()))
    return table


def sort(table: pa.Table, column: str | None, order: str | None, tiebreak: tuple[str, ...]) -> pa.Table:
    """The table sorted by `column` (asc or desc; default descending for numbers, ascending for text), ties in
    the table's own order of `tiebreak`; as it is when `column` is None."""
    if column is None:
        return table
    if column not in table.column_names:
        raise InputError(f"cannot sort by {column!r}", f"sort by one of: {', '.join(table.column_names)}")
    numeric = pa.types.is_integer(table.schema.field(column).type) or pa.types.is_floating(
        table.schema.field(column).type
    )
    direction = (
        "descending"
        if (order or ("desc" if numeric and column != "rank" else "asc")) == "desc"
        else "ascending"
    )
    keys = [
        (column, direction),
        *((c, "ascending") for c in tiebreak if c in table.column_names and c != column),
    ]
    return table.sort_by(keys)


def page(table: pa.Table, number: int, per_page: int) -> tuple[pa.Table, int]:
    """Page `number` (1-based) of `per_page` rows, and the number of pages (at least 1); NotFoundError past
    the last page."""
    pages = max(1, math.ceil(table.num_rows / per_page))
    if number > pages:
        raise NotFoundError(
            f"page {number} is past the last page ({pages} of {per_page} rows; {table.num_rows} rows in all)",
            f"ask for page 1-{pages}, or more rows per page with per_page",
        )
    return table.slice((number - 1) * per_page, per_page), pages


def listing(
    table: pa.Table, meta: dict[str, Any], number: int, per_page: int, **extra: Any
) -> dict[str, Any]:
    """One page of a table as the API lists it: {meta, columns, data, count, total, page, per_page, pages}."""
    part, pages = page(table, number, per_page)
    return {
        "meta": meta,
        "columns": table.column_names,
        "data": rows(part),
        "count": part.num_rows,
        "total": table.num_rows,
        "page": number,
        "per_page": per_page,
        "pages": pages,
        **extra,
    }


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def download(tables: dict[str, pa.Table], fmt: str, meta: dict[str, Any], name: str) -> Response:
    """The tables as a file to save: one xlsx workbook (a sheet each and an `about` sheet), or one table as CSV
    or Parquet (with the metadata in its schema), written by `present.export`."""
    filename = _SAFE.sub("-", name).strip("-") or "table"
    if fmt != "xlsx" and len(tables) != 1:
        raise InputError(
            f"{fmt} holds one table and this answer has {len(tables)}: {', '.join(tables)}",
            "pick one with section=NAME, or use format=xlsx for all of them in one workbook",
        )
    with tempfile.TemporaryDirectory(prefix="sciencecities-web-") as folder:
        path = Path(folder) / f"{filename}.{fmt}"
        if fmt == "xlsx":
            write_xlsx(tables, path, meta)
        else:
            write(next(iter(tables.values())), Format(fmt), path, meta, Console(stderr=True))
        content = path.read_bytes()
    return Response(
        content,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


def section(tables: dict[str, pa.Table], name: str | None) -> dict[str, pa.Table]:
    """All the tables, or the one `name` names (InputError listing them otherwise)."""
    if name is None:
        return tables
    if name not in tables:
        raise InputError(f"no section {name!r} here", f"use one of: {', '.join(tables)}")
    return {name: tables[name]}
