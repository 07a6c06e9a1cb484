"""The indicators of a framework per science city: the bibliometric ones computed from a built edition of the
store through the Python API (rank, size_independent, collaboration), and the others read from the user's
CSV or Parquet file keyed by science-city id or name."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from sciencecities.errors import InputError
from sciencecities.index.framework import Framework, Source
from sciencecities.rank.collaboration import collaboration
from sciencecities.rank.indicators import size_independent
from sciencecities.rank.queries import rank
from sciencecities.rank.ranking import Years
from sciencecities.store import Store

UNIT_COLUMNS = ("id", "name", "country_code", "count")
"""The columns that describe each unit beside its indicators."""


def parse_window(text: str | None, where: str) -> Years | None:
    """A window written "2015-2024" or "2024" as (first, last); None stays None."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4})\s*)?", str(text))
    if not match:
        raise InputError(
            f"{where}: cannot read the years {text!r}", "write a window as FIRST-LAST, e.g. 2015-2024"
        )
    first, last = int(match.group(1)), int(match.group(2) or match.group(1))
    if first > last:
        raise InputError(f"{where}: the window {text} is empty", "give the first year first, e.g. 2015-2024")
    return (first, last)


@dataclass(frozen=True)
class Units:
    """The units in scope (`UNIT_COLUMNS`, one row per science city, index: id) and every science city of the
    boundary set with articles in the edition (id, name), against which a user's file is matched."""

    units: pd.DataFrame
    known: pd.DataFrame


def units_in_scope(store: Store, framework: Framework) -> Units:
    """The science cities of the framework's scope: those with at least `min_count` articles in the window."""
    scope = framework.scope
    years = parse_window(scope.years, "scope.years")
    common = {
        "level": "city",
        "edition": scope.edition,
        "boundaries": scope.boundaries,
        "subject": scope.subject,
    }
    ranked = rank(store, years=years, **common).table.to_pandas()
    every = rank(store, **common).table.to_pandas()[["id", "name"]]
    chosen = ranked[ranked["count"] >= scope.min_count]
    if chosen.empty:
        raise InputError(
            f"no science city has {scope.min_count} or more articles in {scope.edition} "
            f"({scope.years or 'all years'})",
            "lower scope.min_count or widen scope.years in the framework",
        )
    units = chosen[list(UNIT_COLUMNS)].set_index("id", drop=False).rename_axis(None)
    return Units(units, every)


def bibliometric(store: Store, framework: Framework, units: pd.DataFrame) -> pd.DataFrame:
    """One column per indicator whose source is a metric, one row per unit (index: unit ids); a unit without
    a value (no articles in a window, no previous window to grow from, no population) has a missing value."""
    cache: dict[tuple[object, ...], pd.Series] = {}
    columns = {}
    for indicator in framework.indicators():
        if indicator.source.metric is None:
            continue
        key = (indicator.source.metric, indicator.source.years, indicator.source.vs)
        if key not in cache:
            cache[key] = _metric(store, framework, indicator.source, f"indicator {indicator.id}")
        columns[indicator.id] = cache[key].reindex(units.index)
    return pd.DataFrame(columns, index=units.index)


def _metric(store: Store, framework: Framework, source: Source, where: str) -> pd.Series:
    """The values of one metric per science city id."""
    scope = framework.scope
    years = parse_window(source.years or scope.years, f"{where}: years")
    common = {"edition": scope.edition, "boundaries": scope.boundaries, "subject": scope.subject}
    metric = source.metric
    if metric in ("share", "count", "share_per_million"):
        table = rank(store, level="city", years=years, per_capita=metric == "share_per_million", **common)
        frame = table.table.to_pandas().set_index("id")
        return frame[metric].astype(float)
    if metric == "adjusted_share_growth":
        if years is None:
            raise InputError(
                f"{where}: adjusted_share_growth compares two windows",
                "give the source `years` (e.g. 2018-2024) and optionally `vs` (e.g. 2011-2017)",
            )
        vs = parse_window(source.vs, f"{where}: vs")
        frame = rank(store, level="city", years=years, vs=vs, **common).table.to_pandas().set_index("id")
        return frame["change"].astype(float)
    if metric == "international_coauthorship":
        table = size_independent(store, level="city", years=years, min_articles=1, **common)
        return table.to_pandas().set_index("id")["international_fraction"].astype(float)
    if metric == "collaboration_strength":
        pairs = collaboration(store, level="city", years=years, **common).table.to_pandas()
        both = pd.concat(
            [
                pairs[["id_a", "score"]].set_axis(["id", "score"], axis=1),
                pairs[["id_b", "score"]].set_axis(["id", "score"], axis=1),
            ]
        )
        strength = both.groupby("id")["score"].sum()
        active = rank(store, level="city", years=years, **common).table.to_pandas()["id"]
        return strength.reindex(active, fill_value=0.0).astype(float)
    raise InputError(f"{where}: unknown metric {metric!r}", "see the metrics listed in docs/index.md")


@dataclass(frozen=True)
class UserFile:
    """The columns of a user's indicator file matched to units (index: unit ids), and the rows that matched
    no science city (line, key, reason): reported, never silently dropped."""

    values: pd.DataFrame
    unmatched: pd.DataFrame
    path: Path
    rows: int


def read_user_file(path: Path, columns: list[str], known: pd.DataFrame) -> UserFile:
    """Read `columns` of a CSV (lines starting with # are comments) or Parquet file keyed by science-city `id`
    (or, without one, `name`, matched without regard to case); an InputError names the file, line and column
    of a value that is not a number, a missing column, or a key given twice."""
    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"no indicators file {path}", "give the path of a CSV or Parquet file with --indicators"
        )
    if path.suffix.lower() == ".parquet":
        frame = pq.read_table(path).to_pandas()
        records = [(i + 1, row) for i, row in enumerate(frame.to_dict("records"))]
        header = list(frame.columns)
        where = "row"
    else:
        records, header = _csv_rows(path)
        where = "line"
    key = "id" if "id" in header else "name" if "name" in header else None
    if key is None:
        raise InputError(
            f"{path}: no `id` or `name` column", "key each row by science-city id (e.g. us-csa-148) or name"
        )
    absent = [c for c in columns if c not in header]
    if absent:
        raise InputError(
            f"{path}: the framework reads the column(s) {', '.join(absent)}, which the file does not have",
            f"the file has {', '.join(header)}; fix the framework's `column` or the file's header",
        )
    by_id = dict(zip(known["id"], known["id"], strict=True))
    by_name: dict[str, str] = {}
    for unit, name in zip(known["id"], known["name"], strict=True):
        by_name.setdefault(str(name).casefold(), unit)
    lookup = by_id if key == "id" else by_name
    values: dict[str, dict[str, float]] = {}
    seen: dict[str, int] = {}
    unmatched = []
    for number, row in records:
        raw_key = row.get(key)
        text = "" if raw_key is None else str(raw_key).strip()
        unit = lookup.get(text if key == "id" else text.casefold())
        if unit is None:
            unmatched.append((number, text, f"no science city with this {key} among the store's cities"))
            continue
        if unit in seen:
            raise InputError(
                f"{path}: {where}s {seen[unit]} and {number} are both for {unit}",
                "keep one row per science city",
            )
        seen[unit] = number
        values[unit] = {c: _number(row.get(c), path, where, number, c) for c in columns}
    table = pd.DataFrame.from_dict(values, orient="index", columns=columns).astype(float)
    report = pd.DataFrame(unmatched, columns=[where, key, "reason"]).rename(
        columns={where: "line", key: "key"}
    )
    return UserFile(table, report, path, len(records))


def _csv_rows(path: Path) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The data rows of a CSV with their line numbers, skipping blank lines and # comments, and the header."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = [
            (n, line) for n, line in enumerate(handle, start=1) if line.strip() and not line.startswith("#")
        ]
    if not lines:
        raise InputError(f"{path}: no header and no rows", "give a header line, e.g. id,name,researchers")
    reader = csv.reader(line for _, line in lines)
    parsed = list(reader)
    header = [h.strip() for h in parsed[0]]
    rows = []
    for (number, _), cells in zip(lines[1:], parsed[1:], strict=True):
        if len(cells) != len(header):
            raise InputError(
                f"{path}:{number}: {len(cells)} fields where the header has {len(header)}",
                "quote fields that hold commas, and give every row the header's columns",
            )
        rows.append((number, dict(zip(header, cells, strict=True))))
    return rows, header


def _number(value: object, path: Path, where: str, number: int, column: str) -> float:
    """A cell as a float: empty, NA and None are missing (NaN); anything else must be a number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    if text.upper() in ("", "NA", "N/A", "NAN", "NULL"):
        return math.nan
    try:
        return float(text)
    except ValueError:
        raise InputError(
            f"{path}: {where} {number}, column {column}: {text!r} is not a number",
            "write numbers with a dot for decimals, and leave a missing value empty",
        ) from None
