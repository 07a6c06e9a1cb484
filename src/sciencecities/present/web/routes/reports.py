"""Highlights (the facts of a news story about a year's ranking) and the audit summary."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import pyarrow as pa
from fastapi import APIRouter, Query
from fastapi.responses import Response

from sciencecities.errors import InputError
from sciencecities.present.web import schemas
from sciencecities.present.web.routes.params import (
    BoundariesQ,
    EditionQ,
    LevelQ,
    SectionQ,
    SectionsFormatQ,
    ServiceDep,
    YearQ,
)
from sciencecities.present.web.tables import DOWNLOADS, Body, download, section

router = APIRouter(prefix="/api", tags=["reports"])


@router.get("/highlights", response_model=schemas.HighlightsOut, summary="Highlights of a year's ranking")
def highlights(
    service: ServiceDep,
    year: YearQ = None,
    vs: Annotated[
        int | None, Query(ge=1000, le=9999, description="The earlier year (default: the year before).")
    ] = None,
    level: LevelQ = "city",
    edition: EditionQ = None,
    boundaries: BoundariesQ = None,
) -> Body:
    """The top 10 and their moves, new entrants per tier, risers and fallers, entities per country, subject
    sweeps and overtakes (`sciencecities.highlights`), each a sentence with its numbers, and as Markdown;
    default year: the edition's latest."""
    chosen = service.edition(edition)
    if not chosen.years:
        raise InputError(
            f"edition {chosen.name!r} has no eligible articles", "build it from a store with articles"
        )
    picked = year if year is not None else chosen.years[-1]
    earlier = vs if vs is not None else picked - 1
    service.window(chosen, picked, None)
    service.window(chosen, earlier, None)
    story = service.highlights(
        chosen,
        year=picked,
        vs=earlier,
        level=level,
        boundaries=service.boundaries(chosen, boundaries) if level == "city" else "metro",
    )
    return Body(
        {
            "meta": story.meta,
            "year": story.year,
            "vs": story.vs,
            "level": story.level,
            "edition": story.edition,
            "boundaries": story.boundaries,
            "facts": [asdict(fact) for fact in story.facts],
            "markdown": story.to_markdown(),
        }
    )


@router.get("/audit", response_model=schemas.AuditOut, responses=DOWNLOADS, summary="The audit summary")
def audit(
    service: ServiceDep,
    edition: EditionQ = None,
    fmt: SectionsFormatQ = "json",
    part: SectionQ = None,
) -> Response:
    """What the numbers leave out (`sciencecities.audit`): quarantined records, skipped works, unaffiliated
    authorships, institutions without a country or a place with their Share, places by source."""
    chosen = service.edition(edition)
    report = service.audit(chosen)
    if fmt != "json":
        tables = {name: pa.Table.from_pylist(found) for name, found in report.sections.items() if found}
        return download(section(tables, part), fmt, {"totals": report.totals}, f"{chosen.name}-audit")
    return Body({"totals": report.totals, "sections": report.sections})
