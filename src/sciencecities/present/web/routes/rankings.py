"""Rankings, the map's points, trends and collaboration pairs: each a call of the Python API, then filtered,
sorted and paged (or downloaded whole)."""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Query
from fastapi.responses import Response

from sciencecities.errors import InputError
from sciencecities.present.web import schemas
from sciencecities.present.web.routes.params import (
    BoundariesQ,
    CountryQ,
    EditionQ,
    FormatQ,
    LevelQ,
    OrderQ,
    PageQ,
    PairLevel,
    PerPageQ,
    SearchQ,
    ServiceDep,
    SortQ,
    SubjectQ,
    YearQ,
    YearsQ,
)
from sciencecities.present.web.service import Edition, Service
from sciencecities.present.web.tables import DOWNLOADS, Body, download, filtered, listing, rows, sort
from sciencecities.rank.ranking import Ranking

router = APIRouter(prefix="/api", tags=["rankings"])

RESAMPLES_MAX = 1000
"""The most bootstrap resamples a request may ask for (the CLI allows more; a server shares its cores)."""


def _ranking(
    service: Service,
    edition: Edition,
    *,
    level: str,
    year: int | None,
    years: str | None,
    vs: str | None,
    subject: str | None,
    boundaries: str | None,
    city: str | None = None,
    rollup: bool = False,
    per_capita: bool = False,
    intervals: bool = False,
    resamples: int = 200,
    seed: int = 0,
    size_independent: bool = False,
) -> Ranking:
    window = service.window(edition, year, years)
    compare = service.window(edition, None, vs, "comparison years") if vs is not None else None
    if compare is not None and window is None:
        raise InputError("vs needs year or years", "e.g. year=2024&vs=2020")
    uses_set = level == "city" or city is not None
    query: dict[str, Any] = {
        "level": level,
        "years": window,
        "vs": compare,
        "subject": service.subject(edition, subject),
        "boundaries": service.boundaries(edition, boundaries) if uses_set else "metro",
        "city": city,
        "rollup": rollup,
        "per_capita": per_capita,
        "intervals": intervals,
        "size_independent": size_independent,
    }
    if intervals:
        query |= {"resamples": resamples, "seed": seed}
    return service.rank(edition, **query)


def _answer(
    table: pa.Table,
    meta: dict[str, Any],
    fmt: str,
    name: str,
    page: int,
    per_page: int,
    **extra: Any,
) -> Response:
    if fmt != "json":
        return download({name: table}, fmt, meta, name)
    return Body(listing(table, meta, page, per_page, **extra))


@router.get("/rankings", response_model=schemas.TablePage, responses=DOWNLOADS, summary="A ranking")
def rankings(
    service: ServiceDep,
    level: LevelQ = "city",
    year: YearQ = None,
    years: YearsQ = None,
    vs: Annotated[
        str | None, Query(max_length=20, description="Compare with these years (default: the window before).")
    ] = None,
    subject: SubjectQ = None,
    edition: EditionQ = None,
    boundaries: BoundariesQ = None,
    country: CountryQ = [],  # noqa: B006 (FastAPI copies defaults)
    q: SearchQ = None,
    ids: Annotated[
        list[str], Query(alias="id", max_length=50, description="Keep these entities (repeat, up to 50).")
    ] = [],  # noqa: B006
    city: Annotated[
        str | None,
        Query(max_length=200, description="With level=institution: the institutions of this science city."),
    ] = None,
    rollup: Annotated[bool, Query(description="Institutions: credit children to top-level parents.")] = False,
    per_capita: Annotated[bool, Query(description="Cities: population and Share per million.")] = False,
    intervals: Annotated[bool, Query(description="95% stability intervals of Share and rank.")] = False,
    resamples: Annotated[int, Query(ge=10, le=RESAMPLES_MAX, description="Bootstrap resamples.")] = 200,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1, description="Seed of the resamples.")] = 0,
    size_independent: Annotated[
        bool, Query(description="Share per article, co-authorship fractions, MNCS, PP(top 10%).")
    ] = False,
    page: PageQ = 1,
    per_page: PerPageQ = 50,
    sort_by: Annotated[SortQ, Query(alias="sort")] = None,
    order: OrderQ = None,
    fmt: Annotated[FormatQ, Query(alias="format")] = "json",
) -> Response:
    """Rank by Share (DESIGN §4) with Count, Adjusted Share, previous rank and change, over all years, one year or
    a window, overall or in one subject; filter by country and name, sort by any column, page or download."""
    chosen = service.edition(edition)
    ranked = _ranking(
        service,
        chosen,
        level=level,
        year=year,
        years=years,
        vs=vs,
        subject=subject,
        boundaries=boundaries,
        city=city,
        rollup=rollup,
        per_capita=per_capita,
        intervals=intervals,
        resamples=resamples,
        seed=seed,
        size_independent=size_independent,
    )
    column = "id" if level == "country" else "country_code"
    table = filtered(ranked.table, service.countries(country), q, column)
    if ids:
        table = table.filter(pc.is_in(table["id"], value_set=pa.array(ids, pa.string())))
    table = sort(table, sort_by, order, ("rank", "name", "id"))
    return _answer(table, ranked.meta, fmt, f"{chosen.name}-{level}-ranking", page, per_page)


@router.get("/map", response_model=schemas.MapPoints, summary="Science cities to draw on the map")
def city_map(
    service: ServiceDep,
    year: YearQ = None,
    years: YearsQ = None,
    subject: SubjectQ = None,
    edition: EditionQ = None,
    boundaries: BoundariesQ = None,
    country: CountryQ = [],  # noqa: B006
    q: SearchQ = None,
    top: Annotated[int, Query(ge=1, le=5000, description="Keep the cities ranked 1..top.")] = 500,
) -> Body:
    """The city ranking's rows (rank, Share, change) with each city's latitude and longitude
    (`rank.queries.city_locations`: the Share-weighted mean of its institutions' places)."""
    chosen = service.edition(edition)
    ranked = _ranking(
        service, chosen, level="city", year=year, years=years, vs=None, subject=subject, boundaries=boundaries
    )
    places = service.locations(chosen, ranked.meta["boundaries"])
    table = filtered(ranked.table, service.countries(country), q, "country_code")
    table = table.filter(pc.less_equal(table["rank"], top))
    located = (
        table.select(["rank", "id", "name", "country_code", "count", "share", "change"])
        .join(places, "id", join_type="left outer")
        .sort_by([("rank", "ascending"), ("name", "ascending"), ("id", "ascending")])
    )
    placed = located.filter(pc.invert(pc.is_null(located["latitude"])))
    return Body(
        {
            "meta": ranked.meta,
            "data": rows(placed),
            "count": placed.num_rows,
            "unplaced": located.num_rows - placed.num_rows,
        }
    )


@router.get(
    "/trend", response_model=schemas.TablePage, responses=DOWNLOADS, summary="Share per entity and year"
)
def trend(
    service: ServiceDep,
    level: LevelQ = "city",
    years: YearsQ = None,
    subject: SubjectQ = None,
    edition: EditionQ = None,
    boundaries: BoundariesQ = None,
    ids: Annotated[
        list[str], Query(alias="id", max_length=50, description="Entity ids to follow (repeat, up to 50).")
    ] = [],  # noqa: B006
    top: Annotated[
        int | None, Query(ge=1, le=100, description="Follow the entities ranked 1..top in the last year.")
    ] = None,
    page: PageQ = 1,
    per_page: PerPageQ = 1000,
    fmt: Annotated[FormatQ, Query(alias="format")] = "json",
) -> Response:
    """Share, Adjusted Share, Count and rank per entity and year (`sciencecities.trend`); default: the top 10."""
    chosen = service.edition(edition)
    wanted = sorted({i for i in ids if i})
    result = service.trend(
        chosen,
        level=level,
        years=service.window(chosen, None, years),
        subject=service.subject(chosen, subject),
        boundaries=service.boundaries(chosen, boundaries) if level == "city" else "metro",
        ids=wanted or None,
        top=top if top is not None or wanted else 10,
    )
    return _answer(result.table, result.meta, fmt, f"{chosen.name}-{level}-trend", page, per_page)


@router.get(
    "/collaboration", response_model=schemas.TablePage, responses=DOWNLOADS, summary="Collaboration pairs"
)
def collaboration(
    service: ServiceDep,
    level: Annotated[PairLevel, Query(description="Pairs of institutions, cities or countries.")] = "city",
    year: YearQ = None,
    years: YearsQ = None,
    subject: SubjectQ = None,
    edition: EditionQ = None,
    boundaries: BoundariesQ = None,
    entity: Annotated[
        str | None, Query(max_length=200, description="Only this entity's partners (an id or a name).")
    ] = None,
    country: CountryQ = [],  # noqa: B006
    q: SearchQ = None,
    page: PageQ = 1,
    per_page: PerPageQ = 50,
    sort_by: Annotated[SortQ, Query(alias="sort")] = None,
    order: OrderQ = None,
    fmt: Annotated[FormatQ, Query(alias="format")] = "json",
) -> Response:
    """Pairs ranked by collaboration score (Share of both on the articles they co-author, DESIGN §4); `country`
    keeps pairs with a side in those countries, `q` pairs with a side whose name contains it."""
    chosen = service.edition(edition)
    pairs = service.collaboration(
        chosen,
        level=level,
        years=service.window(chosen, year, years),
        subject=service.subject(chosen, subject),
        boundaries=service.boundaries(chosen, boundaries) if level == "city" else "metro",
        entity=entity,
    )
    table = _pairs_filtered(pairs.table, service.countries(country), q)
    table = sort(table, sort_by, order, ("rank", "name_a", "name_b"))
    return _answer(table, pairs.meta, fmt, f"{chosen.name}-{level}-collaboration", page, per_page)


def _pairs_filtered(table: pa.Table, countries: list[str], q: str | None) -> pa.Table:
    """Pairs with either side kept by `filtered` (country and name search)."""
    keep = None
    for side in ("a", "b"):
        view = table.select([f"id_{side}", f"name_{side}", f"country_code_{side}"]).rename_columns(
            ["id", "name", "country_code"]
        )
        marked = view.append_column("_row", pa.array(range(table.num_rows), pa.int64()))
        rows_kept = filtered(marked, countries, q, "country_code")["_row"]
        keep = rows_kept if keep is None else pa.chunked_array([*keep.chunks, *rows_kept.chunks], pa.int64())
    if not countries and not q:
        return table
    kept = sorted(set(keep.to_pylist())) if keep is not None else []
    return table.take(pa.array(kept, pa.int64()))
