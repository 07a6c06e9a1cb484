"""What every chart builder does with its input: check the columns and rows, inline the rows into the
spec (so rendering never reads a file or URL), and label and describe the usual ranking columns."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

import altair as alt
import pandas as pd
import pyarrow as pa

from sciencecities.errors import InputError

Rows: TypeAlias = "pa.Table | pd.DataFrame"
"""A builder's input: an Arrow table as the Python API returns it (a pandas frame works too)."""

_TOOLTIPS: dict[str, alt.Tooltip] = {
    "rank": alt.Tooltip("rank:Q", title="Rank"),
    "name": alt.Tooltip("name:N", title="Name"),
    "country_code": alt.Tooltip("country_code:N", title="Country"),
    "year": alt.Tooltip("year:Q", title="Year", format="d"),
    "count": alt.Tooltip("count:Q", title="Count", format=",d"),
    "share": alt.Tooltip("share:Q", title="Share", format=",.2f"),
    "adjusted_share": alt.Tooltip("adjusted_share:Q", title="Adjusted Share", format=",.2f"),
    "change": alt.Tooltip("change:Q", title="Change in Adjusted Share", format="+,.2f"),
    "contribution": alt.Tooltip("contribution:Q", title="% of the country's Share", format=".1f"),
}
"""How the columns of rankings and trends read in a tooltip (metric names as DESIGN §4 spells them)."""

NO_COUNTRY = "none"
"""The colour group of rows without a country code (groups, unplaced institutions)."""


def frame(rows: Rows, columns: Iterable[str], chart: str) -> pd.DataFrame:
    """The rows as a pandas frame, once they are known to have `columns` and at least one row: an empty
    picture or a silently blank encoding would look like a result."""
    df = rows.to_pandas() if isinstance(rows, pa.Table) else rows.copy()
    wanted = list(columns)
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise InputError(
            f"the {chart} needs the columns {', '.join(missing)}",
            f"pass a table with {', '.join(wanted)} (this one has {', '.join(map(str, df.columns)) or 'none'})",
        )
    if df.empty:
        raise InputError(
            f"no rows to draw the {chart} from",
            "widen the years, subject or level, or check that the edition is built (`sciencecities build`)",
        )
    return df.reset_index(drop=True)


def positive(value: int, name: str) -> None:
    """Refuse a count of things to draw below 1."""
    if value < 1:
        raise InputError(
            f"{name} must be at least 1, not {value}", f"pass {name}=10 or another positive number"
        )


def inline(df: pd.DataFrame) -> alt.InlineData:
    """The rows as inline data values (NaN as null), so the spec carries its data and has no row limit."""
    return alt.InlineData(values=alt.to_values(df)["values"])


def tooltip(df: pd.DataFrame, columns: Iterable[str]) -> list[alt.Tooltip]:
    """Tooltips for those of `columns` that `df` has, in that order."""
    return [_TOOLTIPS[c] for c in columns if c in df.columns]


def labels(df: pd.DataFrame) -> pd.Series:
    """One label per row: the name (the id when there is none), with the id added to names that occur more
    than once (two cities called Cambridge), so labels can order an axis."""
    names = df["name"].fillna(df["id"]).astype(str)
    repeated = names.duplicated(keep=False)
    return names.where(~repeated, names + " (" + df["id"].astype(str) + ")")


def countries(df: pd.DataFrame) -> pd.Series:
    """The country code to colour by, `NO_COUNTRY` where there is none."""
    return df["country_code"].fillna(NO_COUNTRY)
