"""Entity profiles: a science city's (`rank.profile.city_profile`), and for an institution, country or group its
all-years row, its Share by year and by subject, and its collaborators."""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
import pyarrow.compute as pc
from fastapi import APIRouter, Path
from fastapi.responses import Response

from sciencecities.present.web import schemas
from sciencecities.present.web.routes.params import (
    BoundariesQ,
    EditionQ,
    Level,
    SectionQ,
    SectionsFormatQ,
    ServiceDep,
    TopQ,
    YearQ,
    YearsQ,
)
from sciencecities.present.web.service import Edition, Service
from sciencecities.present.web.tables import DOWNLOADS, Body, download, rows, section
from sciencecities.rank.collaboration import LEVELS as PAIR_LEVELS
from sciencecities.rank.ranking import Years

router = APIRouter(prefix="/api", tags=["profiles"])


@router.get(
    "/entities/{level}/{entity_id}",
    response_model=schemas.Profile,
    responses={**DOWNLOADS, 404: {"model": schemas.ErrorBody}},
    summary="The profile of an institution, science city, country or group",
)
def profile(
    service: ServiceDep,
    level: Level,
    entity_id: Annotated[str, Path(max_length=200, description="The entity's id, as rankings list it.")],
    year: YearQ = None,
    years: YearsQ = None,
    edition: EditionQ = None,
    boundaries: BoundariesQ = None,
    top: TopQ = 10,
    fmt: SectionsFormatQ = "json",
    part: SectionQ = None,
) -> Response:
    """Rank, Share, Count and change over the window (default: all years), every year's rank and Share, Share
    per subject (with specialisation for cities), the top institutions and the top collaborators."""
    chosen = service.edition(edition)
    window = service.window(chosen, year, years)
    unit_set = service.boundaries(chosen, boundaries) if level == "city" else "metro"
    if level == "city":
        city = service.city_profile(chosen, entity_id, window, unit_set, top)
        summary, tables, meta = city.summary, city.tables(), city.meta
        tables.pop("summary")
    else:
        summary, tables, meta = _other(service, chosen, level, entity_id, window, top)
    if fmt != "json":
        named = {"summary": pa.Table.from_pylist([summary]), **tables}
        return download(section(named, part), fmt, meta, f"{chosen.name}-{level}-{entity_id}")
    body = {
        "meta": meta,
        "level": level,
        "summary": summary,
        "sections": {name: rows(table) for name, table in tables.items()},
    }
    return Body(body)


def _other(
    service: Service, edition: Edition, level: str, entity_id: str, window: Years | None, top: int
) -> tuple[dict[str, Any], dict[str, pa.Table], dict[str, Any]]:
    """Summary, sections and meta of an entity that is not a science city."""
    service.entity(edition, level, entity_id, "metro")  # NotFoundError when never ranked
    ranked = service.rank(edition, level=level, years=window, vs=None, subject="all", boundaries="metro")
    row = _row(ranked.table, entity_id)
    summary = {
        "id": entity_id,
        "name": row.get("name"),
        "country_code": row.get("country_code"),
        "years": "all" if window is None else f"{window[0]}-{window[1]}",
        "rank": row.get("rank"),
        "of": ranked.table.num_rows,
        "previous_rank": row.get("previous_rank"),
        "count": row.get("count", 0),
        "share": row.get("share", 0.0),
        "adjusted_share": row.get("adjusted_share"),
        "change": row.get("change"),
    }
    if summary["name"] is None:
        summary["name"] = service.entity(edition, level, entity_id, "metro").get("name")
    history = service.trend(
        edition, level=level, years=None, subject="all", boundaries="metro", ids=[entity_id], top=None
    ).table
    tables: dict[str, pa.Table] = {"by_year": history.drop_columns(["id", "name", "country_code"])}
    subject_rows = []
    for sid, label in edition.method.subjects.items():
        in_subject = service.rank(
            edition, level=level, years=window, vs=None, subject=sid, boundaries="metro"
        )
        found = _row(in_subject.table, entity_id)
        subject_rows.append(
            {
                "subject": sid,
                "name": label,
                "rank": found.get("rank"),
                "count": found.get("count", 0),
                "share": found.get("share", 0.0),
            }
        )
    tables["subjects"] = pa.Table.from_pylist(
        subject_rows,
        schema=pa.schema(
            [
                ("subject", pa.string()),
                ("name", pa.string()),
                ("rank", pa.int64()),
                ("count", pa.int64()),
                ("share", pa.float64()),
            ]
        ),
    )
    if level == "country":
        institutions = service.rank(
            edition, level="institution", years=window, vs=None, subject="all", boundaries="metro"
        ).table
        mine = institutions.filter(pc.equal(institutions["country_code"], entity_id))
        tables["institutions"] = mine.slice(0, top)
    if level in PAIR_LEVELS:
        pairs = service.collaboration(
            edition, level=level, years=window, subject="all", boundaries="metro", entity=entity_id
        ).table
        partners = pairs.filter(pc.less_equal(pairs["rank"], top)).select(
            ["rank", "id_b", "name_b", "country_code_b", "articles", "score"]
        )
        tables["collaborators"] = partners.rename_columns(
            ["rank", "id", "name", "country_code", "articles", "score"]
        )
    return summary, tables, ranked.meta | {"entity": entity_id, "level": f"{level} profile"}


def _row(table: pa.Table, entity_id: str) -> dict[str, Any]:
    found = table.filter(pc.equal(table["id"], entity_id)).to_pylist()
    return found[0] if found else {}
