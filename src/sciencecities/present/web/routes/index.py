"""The composite index built last in the store (`sciencecities index build`): its ranked table and choices."""

from __future__ import annotations

from typing import Annotated, Any

import pyarrow as pa
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from sciencecities.errors import StoreError
from sciencecities.index.build import load_index
from sciencecities.present.web.routes.params import ServiceDep
from sciencecities.present.web.service import NotFoundError
from sciencecities.present.web.tables import Body, rows

router = APIRouter(prefix="/api", tags=["index"])

Row = dict[str, Any]


class IndexOut(BaseModel):
    """A built composite index: one row per science city (rank, score, tier, rank interval, dimension
    scores), the weights, the Sobol sensitivity of the ranks, and the manifest of every choice and seed."""

    framework: str
    title: str
    built: str
    count: int = Field(description="Science cities scored.")
    data: list[Row]
    weights: list[Row]
    sensitivity: list[Row]
    manifest: dict[str, Any]


@router.get("/index", response_model=IndexOut, summary="The latest composite index")
def latest_index(
    service: ServiceDep,
    framework: Annotated[
        str | None,
        Query(
            max_length=60,
            pattern=r"^[a-z0-9][a-z0-9-]*$",
            description="A framework's name (default: the index built last).",
        ),
    ] = None,
) -> Body:
    """The ranked table of a composite index kept in the store, with its choices (normalisation, weighting,
    aggregation, tiers, uncertainty seed and samples); 404 when none is built."""
    try:
        result = load_index(service.store, framework)
    except StoreError as exc:
        raise NotFoundError(exc.message, exc.hint) from None
    manifest = result.manifest

    def table(name: str) -> list[Row]:
        return rows(pa.Table.from_pandas(result.tables[name], preserve_index=False))

    return Body(
        {
            "framework": manifest["framework"],
            "title": manifest.get("title") or manifest["framework"],
            "built": manifest["built"],
            "count": len(result.scores),
            "data": table("scores"),
            "weights": table("weights"),
            "sensitivity": table("sensitivity"),
            "manifest": manifest,
        }
    )
