"""Write a table in the format the user asked for: a Rich table, CSV, JSON (with metadata), Parquet or an
Excel workbook (one sheet per table and an `about` sheet saying how the numbers were made)."""

from __future__ import annotations

import io
import json
import math
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, time
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table as RichTable

from sciencecities.errors import InputError

if TYPE_CHECKING:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.workbook import Workbook


class Format(str, Enum):
    """Output formats of the table verbs."""

    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"
    xlsx = "xlsx"


def write(
    table: pa.Table, fmt: Format, out: Path | None, meta: dict[str, Any], console: Console, title: str = ""
) -> None:
    """Write `table` to `out` (or stdout); JSON carries `meta` beside the rows, Parquet in its schema metadata,
    xlsx in an `about` sheet (with `title`)."""
    if fmt is Format.table:
        if out is not None:
            raise InputError("--out needs a file format", "add --format csv, json, parquet or xlsx")
        console.print(rich_table(table, title))
        return
    if fmt is Format.xlsx:
        if out is None:
            raise InputError("xlsx output needs --out FILE", "add --out ranking.xlsx")
        write_xlsx(
            {out.stem: table}, out, {**meta, "title": title} if title and "title" not in meta else meta
        )
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


def write_sections(tables: dict[str, pa.Table], fmt: Format, out: Path | None, meta: dict[str, Any]) -> None:
    """Write several named tables (a city profile, an audit): JSON as one document, xlsx as one workbook, CSV
    and Parquet as one file per table in the folder `out` (with meta.json beside them)."""
    if fmt is Format.json:
        payload = {"meta": meta} | {name: table.to_pylist() for name, table in tables.items()}
        text = json.dumps(payload, indent=2, default=str) + "\n"
        (out.write_text(text, encoding="utf-8") if out else sys.stdout.write(text))
        return
    if out is None:
        raise InputError(
            f"{fmt.value} output of several tables needs --out", "add --out FILE.xlsx or --out FOLDER"
        )
    if fmt is Format.xlsx:
        write_xlsx(tables, out, meta)
        return
    if out.exists() and not out.is_dir():
        raise InputError(
            f"{out} is a file", f"{fmt.value} output writes one file per table: give --out a folder"
        )
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        write(table, fmt, out / f"{name}.{fmt.value}", meta, Console(stderr=True))
    (out / "meta.json").write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")


def write_xlsx(tables: dict[str, pa.Table], out: Path, meta: dict[str, Any]) -> None:
    """Write `tables` to one workbook, a sheet each in the dict's order, then an `about` sheet listing `meta`
    (nested keys dotted) with the time written and the version, so a shared file still says what it holds."""
    from openpyxl import Workbook

    from sciencecities import __version__

    about = _flatten(meta)
    keys = {key for key, _ in about}
    if "written" not in keys:
        about.append(("written", datetime.now(UTC).isoformat(timespec="seconds")))
    if "sciencecities_version" not in keys:
        about.append(("sciencecities_version", __version__))
    book = Workbook(write_only=True)
    for name, table in zip(_sheet_names(tables), tables.values(), strict=True):
        rows = zip(*(column.to_pylist() for column in table.columns), strict=True)
        _sheet(book, name, table.column_names, rows)
    _sheet(book, "about", ["key", "value"], about)
    book.save(out)


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31
_FORMULA_START = ("=", "+", "-", "@")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # control characters XML (so xlsx) cannot hold
_WIDTH = (8, 60)


def _sheet_names(names: Iterable[str]) -> list[str]:
    """Sheet names Excel accepts: none of []:*?/\\, no apostrophe at either end, at most 31 characters, unique
    regardless of case, and neither `about` (the metadata sheet) nor `History` (reserved by Excel)."""
    taken = {"about", "history"}
    result = []
    for name in names:
        base = _SHEET_FORBIDDEN.sub("_", name).strip("'") or "sheet"
        candidate, number = base[:_SHEET_MAX].rstrip("'"), 1
        while candidate.lower() in taken:
            number += 1
            suffix = f" ({number})"
            candidate = base[: _SHEET_MAX - len(suffix)] + suffix
        taken.add(candidate.lower())
        result.append(candidate)
    return result


def _sheet(book: Workbook, name: str, header: list[str], rows: Iterable[Iterable[Any]]) -> None:
    """Add a sheet: bold frozen header, then the rows with their types kept, columns as wide as their text."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    values = [[_excel(v) for v in row] for row in rows]
    sheet = book.create_sheet(name)
    sheet.freeze_panes = "A2"
    for index, column in enumerate(header):
        longest = max((len(str(row[index])) for row in values if row[index] is not None), default=0)
        width = min(max(longest, len(column)) + 2, _WIDTH[1])
        sheet.column_dimensions[get_column_letter(index + 1)].width = max(width, _WIDTH[0])
    head = [_text_cell(sheet, column) for column in header]
    for cell in head:
        cell.font = Font(bold=True)
    sheet.append(head)
    for row in values:
        sheet.append([_cell_of(sheet, v) for v in row])


def _cell_of(sheet: Any, value: Any) -> Any:
    """`value` as it goes into a sheet: as it is, unless it needs a typed cell to stay exact or inert."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return _text_cell(sheet, value)
    if isinstance(value, float) and float(f"{value:.16g}") != value:
        return _number_cell(sheet, value)
    return value


def _text_cell(sheet: Any, value: str) -> WriteOnlyCell:
    """A cell holding `value` as text, never as a formula even when it starts with = + - or @ (formula
    injection): typed as a string and quote-prefixed, as Excel stores text typed after an apostrophe."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    cell.quotePrefix = value.startswith(_FORMULA_START)
    return cell


def _number_cell(sheet: Any, value: float) -> WriteOnlyCell:
    """A number cell written as Python's shortest exact text (repr): openpyxl writes 16 significant digits,
    one short of what some doubles need (27.203914398103038), so they would not read back unchanged."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=repr(value))
    cell.data_type = "n"
    return cell


def _excel(value: Any) -> Any:
    """The value as Excel can hold it: numbers, text, naive dates and None as they are; NaN and infinities,
    zoned times, lists (joined with ', ') and dicts as text; control characters as U+FFFD."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, str):
        return _ILLEGAL.sub("\ufffd", value)
    if isinstance(value, datetime | time) and value.tzinfo is not None:
        return value.isoformat()
    if isinstance(value, list | tuple):
        return _excel(", ".join("" if v is None else str(v) for v in value))
    if isinstance(value, dict):
        return _excel(json.dumps(value, default=str))
    if isinstance(value, bytes):
        return value.hex()
    return value


def _flatten(meta: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(key, value) pairs of `meta`, nested dicts as dotted keys (options.count_unaffiliated)."""
    pairs: list[tuple[str, Any]] = []
    for key, value in meta.items():
        if isinstance(value, dict) and value:
            pairs.extend(_flatten(value, f"{prefix}{key}."))
        else:
            pairs.append((f"{prefix}{key}", value))
    return pairs


def _plain(table: pa.Table) -> bool:
    """True when no string cell needs CSV quoting (so quotes can be dropped for readability)."""
    for column in table.columns:
        if pa.types.is_string(column.type):
            for value in column.to_pylist():
                if value is not None and any(c in value for c in ',"\n\r'):
                    return False
    return True


HEADERS = {
    "previous_rank": "prev rank",
    "country_code": "cc",
    "adjusted_share": "adj share",
    "adjusted_share_previous": "adj prev",
    "share_per_million": "per million",
}
"""Shorter terminal headers for the long column names (exports keep the names)."""


def rich_table(table: pa.Table, title: str = "") -> RichTable:
    """A Rich table of an Arrow table; floats with 3 decimals (Share), ints right-aligned, long column names
    shortened (`HEADERS`) so that wide rankings stay readable in a terminal."""
    view = RichTable(title=title or None, title_justify="left")
    for field in table.schema:
        numeric = pa.types.is_integer(field.type) or pa.types.is_floating(field.type)
        header = HEADERS.get(field.name, field.name)
        view.add_column(header, justify="right" if numeric else "left", overflow="fold")
    for row in table.to_pylist():
        view.add_row(*(_cell(v) for v in row.values()))
    return view


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}"
    return str(value)
