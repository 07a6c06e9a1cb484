"""Response schemas of the web API (kept apart from the store's tables; they make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

Row = dict[str, Any]


class ErrorBody(BaseModel):
    """The one shape of every error: what was wrong and what to do about it."""

    ok: bool = False
    status: int = Field(description="The HTTP status, repeated.")
    error: str = Field(description="What was wrong.")
    hint: str | None = Field(None, description="What to do about it.")
    errors: list[Row] | None = Field(None, description="Each invalid parameter, for validation errors.")


class CacheStats(BaseModel):
    size: int
    entries: int
    hits: int
    misses: int


class Status(BaseModel):
    """What the server serves: the store, its version, the built editions."""

    sciencecities_version: str
    store: str
    store_version: str
    editions: list[str]
    default_edition: str
    cache: CacheStats


class Subject(BaseModel):
    id: str
    name: str


class BoundarySet(BaseModel):
    name: str
    details: Row = Field(description="As the build recorded it: origin, version, options.")


class Edition(BaseModel):
    """A built edition: its method's subjects, the boundary sets built for it, and its years with articles."""

    name: str
    title: str
    version: int
    default: bool
    built: str
    subjects: list[Subject]
    boundaries: list[str]
    years: list[int]
    options: Row
    coverage: Row


class Year(BaseModel):
    year: int
    articles: float = Field(description="Eligible articles (weighted) of the subject in the year.")


class Country(BaseModel):
    code: str
    name: str
    continent: str


class TablePage(BaseModel):
    """One page of a table: the rows, and how the numbers were made (`meta`)."""

    meta: Row
    columns: list[str]
    data: list[Row]
    count: int = Field(description="Rows on this page.")
    total: int = Field(description="Rows in the filtered table.")
    page: int
    per_page: int
    pages: int


class MapPoints(BaseModel):
    """Science cities to draw: ranking rows with latitude and longitude."""

    meta: Row
    data: list[Row]
    count: int
    unplaced: int = Field(description="Cities of the filtered ranking without coordinates (not drawn).")


class Profile(BaseModel):
    """An entity's profile: a summary row and named sections (by_year, subjects, institutions, collaborators)."""

    meta: Row
    level: str
    summary: Row
    sections: dict[str, list[Row]]


class Fact(BaseModel):
    kind: str
    text: str
    numbers: Row


class HighlightsOut(BaseModel):
    meta: Row
    year: int
    vs: int
    level: str
    edition: str
    boundaries: str | None
    facts: list[Fact]
    markdown: str


class AuditOut(BaseModel):
    totals: Row
    sections: dict[str, list[Row]]
