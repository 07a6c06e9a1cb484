"""`sciencecities ingest wos|scopus`: Web of Science and Scopus export files into the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sciencecities.errors import QuarantineError
from sciencecities.pipeline import ingest_export
from sciencecities.present.cli.common import StoreOpt, err, print_ingest, settings
from sciencecities.store import Store

ForceOpt = Annotated[bool, typer.Option("--force", help="Read files again even if already ingested.")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Exit non-zero if any record is quarantined.")]


def wos_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Web of Science export files: plain text or tab-delimited, UTF-8 or UTF-16."),
    ],
    store: StoreOpt = None,
    force: ForceOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Ingest Web of Science exports: C1 addresses placed with the gazetteer, authors linked by C1 brackets."""
    _ingest("wos", paths, store, force, strict)


def scopus_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Scopus CSV export files.")],
    store: StoreOpt = None,
    force: ForceOpt = False,
    strict: StrictOpt = False,
) -> None:
    """Ingest Scopus CSV exports: affiliations placed with the gazetteer, authors linked by 'Authors with
    affiliations'."""
    _ingest("scopus", paths, store, force, strict)


def _ingest(kind: str, paths: list[Path], store: Path | None, force: bool, strict: bool) -> None:
    conf = settings(store=store, strict=strict or None)
    with err.status(f"reading {kind} records and placing their addresses"):
        report = ingest_export(Store(conf.store), kind, paths, force=force)
    print_ingest(report)
    if conf.strict and report.quarantined:
        raise QuarantineError(f"{report.quarantined} records were quarantined", "see `sciencecities audit`")
