"""`sciencecities fetch openalex`: an edition's works, institutions and sources from the OpenAlex API, then
the same ingest as `ingest openalex`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from sciencecities import editions as edition_files
from sciencecities.acquire.openalex_api import (
    DEFAULT_BASE_URL,
    Client,
    FetchProgress,
    fetch_directory,
    fetch_openalex,
)
from sciencecities.errors import InputError
from sciencecities.pipeline import ingest_openalex
from sciencecities.present.cli.common import EditionOpt, StoreOpt, err, parse_years, settings
from sciencecities.store import Store

STOPPED = 75
"""Exit code of a fetch stopped by --max-requests (EX_TEMPFAIL): run it again to continue."""

fetch_app = typer.Typer(help="Fetch records from a bibliographic API into the store.", no_args_is_help=True)


@fetch_app.command("openalex")
def fetch_openalex_cmd(
    years: Annotated[str, typer.Option("--years", help="Publication years, e.g. 2015-2024.")],
    edition: EditionOpt = None,
    store: StoreOpt = None,
    mailto: Annotated[
        str | None,
        typer.Option(
            "--mailto", envvar="SCIENCECITIES_MAILTO", help="Your e-mail address, for OpenAlex's polite pool."
        ),
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key",
            envvar="SCIENCECITIES_OPENALEX_API_KEY",
            help="OpenAlex API key (never written to the checkpoint or messages).",
        ),
    ] = None,
    base_url: Annotated[
        str,
        typer.Option("--base-url", envvar="SCIENCECITIES_OPENALEX_URL", help="The OpenAlex API's base URL."),
    ] = DEFAULT_BASE_URL,
    max_requests: Annotated[
        int | None,
        typer.Option(
            "--max-requests", min=1, help="Stop cleanly after this many requests; run again to continue."
        ),
    ] = None,
    retries: Annotated[
        int, typer.Option("--retries", min=0, help="Retries of a failed request before giving up.")
    ] = 5,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for a response.")
    ] = 60.0,
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard the checkpoint and files of this fetch and start over.")
    ] = False,
) -> None:
    """Fetch the works of an edition's journals in the given years (cursor paging, retries, a checkpoint to
    resume from), then the institutions and sources they name, and ingest them all."""
    window = parse_years(None, years)
    if window is None:
        raise InputError("--years is required", "e.g. --years 2015-2024")
    conf = settings(store=store, edition=edition)
    method = edition_files.load(conf.edition)
    data = Store(conf.store)
    directory = fetch_directory(data.root, method, window)
    client = Client(base_url=base_url, mailto=mailto, api_key=api_key, timeout=timeout, attempts=retries + 1)
    with Progress(
        TextColumn("[bold]fetch[/] {task.fields[phase]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[requests]} requests"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("fetch", total=None, phase="works", requests=0)

        def advance(state: FetchProgress) -> None:
            bar.update(
                task, completed=state.records, total=state.total, phase=state.phase, requests=state.requests
            )

        report = fetch_openalex(
            directory,
            method,
            window,
            client=client,
            max_requests=max_requests,
            restart=restart,
            progress=advance,
        )
    got = ", ".join(f"{n:,} {entity}" for entity, n in report.records.items()) or "nothing new"
    err.print(
        f"fetched {got} in {report.requests:,} requests ({report.retries:,} retries) into {report.directory}"
        + (f"; {report.refetched:,} works fetched again with all their authors" if report.refetched else ""),
        soft_wrap=True,
    )
    if report.requests and not mailto and not api_key:
        err.print("[dim]tip: --mailto ADDRESS puts the requests in OpenAlex's polite pool[/]")
    for entity, n in report.missing.items():
        if n:
            err.print(
                f"[yellow]{n:,} {entity} named by the works are not in OpenAlex[/] (merged or deleted ids)"
            )
    if not report.finished:
        err.print(f"[yellow]{report.stopped}[/]", soft_wrap=True)
        raise SystemExit(STOPPED)  # not typer.Exit: run() drops its code under standalone_mode=False
    with err.status(f"ingesting into {data.root}"):
        ingested = ingest_openalex(data, report.paths)
    if not ingested.files:
        err.print(f"nothing new to ingest into {data.root}")
        return
    counts = ", ".join(f"{name} {n:,}" for name, n in ingested.tables.items())
    err.print(
        f"ingested {len(ingested.files)} file(s), {ingested.taken:,} records; store {data.root}: {counts}"
    )
    if ingested.quarantined:
        err.print(f"[yellow]{ingested.quarantined:,} records quarantined[/]; see `sciencecities audit`")
    err.print(f"next: sciencecities build --store {data.root} --edition {method.name}")
