"""`sciencecities serve`: the read-only web API and the offline dashboard over a store, with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from sciencecities.errors import InputError
from sciencecities.present.cli.common import StoreOpt, err, settings
from sciencecities.present.web.cache import DEFAULT_SIZE
from sciencecities.store import Store

__all__ = ["serve_cmd"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve_cmd(
    store: StoreOpt = None,
    host: Annotated[
        str,
        typer.Option("--host", help="Address to listen on; 0.0.0.0 makes it reachable from other machines."),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (1-65535).")] = 8000,
    edition: Annotated[
        str | None,
        typer.Option(
            "--edition",
            help="The edition of requests that name none: a built edition's name (default: nature-index if built).",
        ),
    ] = None,
    cache_size: Annotated[
        int, typer.Option("--cache-size", help="Query results kept in memory (0 turns the cache off).")
    ] = DEFAULT_SIZE,
) -> None:
    """Serve the JSON API (/api, schema at /api/openapi.json) and the dashboard (/) of a built store; read-only."""
    import uvicorn

    from sciencecities.present.web import create_app

    if not 1 <= port <= 65535:
        raise InputError(f"port {port} is out of range", "give --port between 1 and 65535, e.g. 8000")
    if cache_size < 0:
        raise InputError("--cache-size cannot be negative", "give 0 to turn the cache off")
    conf = settings(store=store)
    data = Store(conf.store)
    builds = data.manifest().get("builds", {})
    if not builds:
        raise InputError(f"the store {data.root} has no built edition", "run `sciencecities build` first")
    if edition is not None and edition not in builds:
        raise InputError(
            f"edition {edition!r} is not built in {data.root}", f"use one of: {', '.join(builds)}"
        )
    app = create_app(data, cache_size=cache_size, default_edition=edition)
    shown = f"[{host}]" if ":" in host else host
    err.print(
        f"serving {data.root} ({', '.join(sorted(builds))}) at http://{shown}:{port}/  (API: /api; Ctrl+C stops)"
    )
    if host not in _LOOPBACK:
        err.print(
            "[yellow]listening beyond this machine:[/] the API is read-only, but anyone who can reach it can read it"
        )
    uvicorn.run(app, host=host, port=port, log_level="warning")
