"""The query parameters the routes share, as Annotated types, and the service dependency."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request

from sciencecities.present.web.service import Service
from sciencecities.present.web.tables import TableFormat


def service(request: Request) -> Service:
    """The app's service (one per app, made by `create_app`)."""
    return request.app.state.service  # type: ignore[no-any-return]


ServiceDep = Annotated[Service, Depends(service)]

Level = Literal["institution", "city", "country", "group"]
PairLevel = Literal["institution", "city", "country"]

LevelQ = Annotated[
    Level, Query(description="What to rank: institution, city (a science city), country, group.")
]
EditionQ = Annotated[
    str | None,
    Query(
        max_length=100,
        description="A built edition (see /api/editions); default: the server's.",
        examples=["nature-index"],
    ),
]
BoundariesQ = Annotated[
    str | None,
    Query(
        max_length=100,
        description="A boundary set built for the edition (metro, city, clusters, ...).",
        examples=["metro"],
    ),
]
SubjectQ = Annotated[
    str | None,
    Query(
        max_length=100,
        description="A subject of the edition (id, name or unique prefix).",
        examples=["chemistry"],
    ),
]
YearQ = Annotated[int | None, Query(ge=1000, le=9999, description="One publication year.")]
YearsQ = Annotated[
    str | None,
    Query(
        max_length=20,
        description="A window of years, FIRST-LAST (e.g. 2015-2024), or one year.",
        examples=["2015-2024"],
    ),
]
CountryQ = Annotated[
    list[str],
    Query(description="Keep these countries (ISO 3166 alpha-2; repeat, or comma-separated)."),
]
SearchQ = Annotated[
    str | None, Query(max_length=200, description="Keep rows whose name contains this (any case or accents).")
]
PageQ = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PerPageQ = Annotated[int, Query(ge=1, le=1000, description="Rows per page.")]
SortQ = Annotated[str | None, Query(max_length=100, description="Sort by this column (default: rank).")]
OrderQ = Annotated[
    Literal["asc", "desc"] | None, Query(description="Sort order (default: descending for numbers but rank).")
]
FormatQ = Annotated[
    TableFormat,
    Query(description="json (one page) or a download of the whole filtered table: csv, xlsx, parquet."),
]
TopQ = Annotated[int, Query(ge=1, le=100, description="How many institutions and collaborators to list.")]
SectionsFormatQ = Annotated[
    str, Query(alias="format", pattern="^(json|csv|xlsx|parquet)$", description="json or a download.")
]
SectionQ = Annotated[
    str | None, Query(alias="section", max_length=50, description="With csv or parquet: the one section.")
]
