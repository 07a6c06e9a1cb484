"""The web application: a read-only JSON API over the Python API (OpenAPI schema at /api/openapi.json) and the
offline dashboard at /, from one store."""

from __future__ import annotations

import logging
import os
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from sciencecities import __version__
from sciencecities.errors import EditionError, GeographyError, InputError, ScienceCitiesError, StoreError
from sciencecities.present.web import schemas
from sciencecities.present.web.cache import DEFAULT_SIZE
from sciencecities.present.web.routes import entities, meta, rankings, reports
from sciencecities.present.web.routes import index as index_routes
from sciencecities.present.web.service import NotFoundError, Service
from sciencecities.present.web.tables import Body
from sciencecities.store import Store

log = logging.getLogger("sciencecities.web")

STATIC = Path(str(resources.files("sciencecities").joinpath("present/web/static")))
"""The dashboard's files: index.html, app.js, app.css and the vendored Vega libraries."""

CONTENT_SECURITY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
"""The dashboard loads nothing from elsewhere (no CDN, tiles or fonts); Vega compiles its expressions with
`Function`, hence 'unsafe-eval'."""

_STATUS: list[tuple[type[ScienceCitiesError], int]] = [
    (NotFoundError, 404),
    (StoreError, 404),
    (InputError, 400),
    (EditionError, 400),
    (GeographyError, 400),
]
"""The HTTP status of each error class (first match); any other sciencecities error is a 500."""

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": schemas.ErrorBody, "description": "A parameter cannot be used as given."},
    404: {"model": schemas.ErrorBody, "description": "No such entity, page, or built edition."},
}


def error_body(status: int, message: str, hint: str | None = None, errors: list[Any] | None = None) -> Body:
    """The one error shape: {ok: false, status, error, hint, errors}."""
    body = {"ok": False, "status": status, "error": message, "hint": hint, "errors": errors}
    return Body(body, status_code=status)


def create_app(
    store: Store | str | os.PathLike[str],
    *,
    cache_size: int = DEFAULT_SIZE,
    default_edition: str | None = None,
) -> FastAPI:
    """The read-only web API and dashboard over `store`, answering from a cache of `cache_size` results per
    (store version, edition, endpoint, query); `default_edition` is used when a request names none."""
    data = store if isinstance(store, Store) else Store(store)
    data.current  # noqa: B018 (a StoreError with a hint now, rather than on every request)
    app = FastAPI(
        title="sciencecities",
        version=__version__,
        summary="Science-city rankings (Count, Share, Adjusted Share) from a sciencecities store, read-only.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        responses=_ERRORS,
    )
    app.state.service = Service(data, cache_size=cache_size, default_edition=default_edition)
    for router in (meta.router, rankings.router, entities.router, reports.router, index_routes.router):
        app.include_router(router)
    _errors(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def dashboard() -> Response:
        response = FileResponse(STATIC / "index.html", media_type="text/html")
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY
        return response

    return app


def _errors(app: FastAPI) -> None:
    """Every error becomes the one JSON shape: ours with their hint, validation errors as 400 listing each
    parameter, unknown paths as 404, and anything unexpected as a logged 500."""

    @app.exception_handler(ScienceCitiesError)
    def ours(request: Request, exc: ScienceCitiesError) -> Response:
        status = next((code for kind, code in _STATUS if isinstance(exc, kind)), 500)
        if status == 500:
            log.error("%s on %s: %s", type(exc).__name__, request.url.path, exc)
        return error_body(status, exc.message, exc.hint)

    @app.exception_handler(RequestValidationError)
    def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"where": ".".join(str(p) for p in error.get("loc", ())), "problem": error.get("msg", "")}
            for error in exc.errors()
        ]
        said = "; ".join(f"{p['where']}: {p['problem']}" for p in problems[:5])
        return error_body(
            400, f"invalid request: {said}", "see /api/openapi.json for each parameter", problems
        )

    @app.exception_handler(HTTPException)
    def http(request: Request, exc: HTTPException) -> Response:
        hint = (
            "the API lives under /api (schema: /api/openapi.json); the dashboard at /"
            if exc.status_code == 404
            else None
        )
        return error_body(exc.status_code, str(exc.detail), hint)

    @app.exception_handler(Exception)
    def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return error_body(500, f"unexpected error: {type(exc).__name__}", "please report it with the URL")
