"""What the store holds: status, built editions, their boundary sets, years and subjects; countries; the world
outlines the map draws."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import pyarrow.compute as pc
from fastapi import APIRouter, Path
from fastapi.responses import Response

from sciencecities import __version__
from sciencecities.countries import countries as country_table
from sciencecities.present.web import schemas
from sciencecities.present.web.routes.params import EditionQ, ServiceDep, SubjectQ
from sciencecities.present.web.service import Edition, Service
from sciencecities.present.web.tables import Body, rows
from sciencecities.rank.queries import coverage

router = APIRouter(prefix="/api", tags=["store"])


@router.get("", response_model=schemas.Status, summary="What this server serves")
def status(service: ServiceDep) -> Body:
    """The store, its live version, the built editions (default first) and the cache's counts."""
    manifest = service.manifest()
    cache_stats = {
        "size": service.cache.size,
        "entries": len(service.cache),
        "hits": service.cache.hits,
        "misses": service.cache.misses,
    }
    return Body(
        {
            "sciencecities_version": __version__,
            "store": str(service.store.root),
            "store_version": str(manifest.get("version", service.version())),
            "editions": service.edition_names(),
            "default_edition": service.default_edition(),
            "cache": cache_stats,
        }
    )


def _edition(service: Service, edition: Edition) -> dict[str, Any]:
    return {
        "name": edition.name,
        "title": edition.method.title,
        "version": edition.method.version,
        "default": edition.name == service.default_edition(),
        "built": edition.built.get("built", ""),
        "subjects": [{"id": sid, "name": label} for sid, label in edition.method.subjects.items()],
        "boundaries": edition.boundaries,
        "years": list(edition.years),
        "options": edition.built.get("options", {}),
        "coverage": coverage(service.manifest(), edition.built),
    }


@router.get("/editions", response_model=list[schemas.Edition], summary="The built editions")
def editions(service: ServiceDep) -> Body:
    """Every edition built in the store, the default first, with subjects, boundary sets and years."""
    return Body([_edition(service, service.edition(name)) for name in service.edition_names()])


@router.get("/editions/{name}", response_model=schemas.Edition, summary="One built edition")
def edition(service: ServiceDep, name: str = Path(max_length=100)) -> Body:
    """One built edition by name."""
    return Body(_edition(service, service.edition(name)))


@router.get("/boundaries", response_model=list[schemas.BoundarySet], summary="Boundary sets of an edition")
def boundaries(service: ServiceDep, edition: EditionQ = None) -> Body:
    """The boundary sets built for the edition (the units science cities are), metro first."""
    chosen = service.edition(edition)
    details = chosen.built.get("geography", {}).get("boundaries", {})
    return Body([{"name": name, "details": details.get(name, {})} for name in chosen.boundaries])


@router.get("/years", response_model=list[schemas.Year], summary="Years with articles")
def years(service: ServiceDep, edition: EditionQ = None, subject: SubjectQ = None) -> Body:
    """The years in which the edition has eligible articles (of the subject), with how many (weighted)."""
    chosen = service.edition(edition)
    sid = service.subject(chosen, subject)
    totals = service.cached(
        "years", chosen.name, sid, lambda: service.store.read("article_totals", chosen.name)
    )
    picked = totals.filter(pc.equal(totals["subject"], sid)).sort_by("year")
    return Body([{"year": r["year"], "articles": r["weighted"]} for r in picked.to_pylist()])


@router.get("/subjects", response_model=list[schemas.Subject], summary="Subjects of an edition")
def subjects(service: ServiceDep, edition: EditionQ = None) -> Body:
    """The edition's subjects (id and name); rankings take either, or a unique prefix."""
    chosen = service.edition(edition)
    return Body([{"id": sid, "name": label} for sid, label in chosen.method.subjects.items()])


@router.get("/countries", response_model=list[schemas.Country], summary="Country codes and names")
def countries() -> Body:
    """ISO 3166 alpha-2 codes with names and continents (GeoNames), for filters and labels."""
    table = (
        country_table()
        .select(["country_code", "name", "continent"])
        .rename_columns(["code", "name", "continent"])
    )
    return Body(rows(table))


@cache
def _world() -> bytes:
    return resources.files("sciencecities").joinpath("data/geo/world/countries-110m.json").read_bytes()


@router.get(
    "/world",
    summary="World outlines (TopoJSON)",
    responses={200: {"content": {"application/json": {}}, "description": "Natural Earth 1:110m countries"}},
)
def world() -> Response:
    """Country outlines for the map: Natural Earth 1:110m via world-atlas 2.0.2, shipped with the package."""
    return Response(_world(), media_type="application/json", headers={"Cache-Control": "max-age=86400"})
