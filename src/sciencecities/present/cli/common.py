"""What the CLI's verb modules share: the consoles, the common options, settings from flags, year windows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from sciencecities import editions as edition_files
from sciencecities import engines
from sciencecities.config import Settings
from sciencecities.errors import InputError
from sciencecities.pipeline import IngestReport
from sciencecities.pipeline import build as run_build
from sciencecities.present.export import Format
from sciencecities.rank.access import boundaries_name
from sciencecities.rank.ranking import LEVELS
from sciencecities.store import Store

err = Console(stderr=True)
out = Console()

StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", help="Store directory [env SCIENCECITIES_STORE; default ./sciencecities-data]."),
]
EditionOpt = Annotated[
    str | None,
    typer.Option(
        "--edition", help="Edition (method): a shipped name or a .yaml file [default: nature-index]."
    ),
]
SubjectOpt = Annotated[
    str | None, typer.Option("--subject", help="A subject of the edition (id or name); default overall.")
]
YearOpt = Annotated[int | None, typer.Option("--year", help="One publication year.")]
YearsOpt = Annotated[str | None, typer.Option("--years", help="A window of years, e.g. 2015-2024.")]
BaseYearOpt = Annotated[
    int | None, typer.Option("--base-year", help="Base year of Adjusted Share [default: the latest year].")
]
LevelOpt = Annotated[str, typer.Option("--level", help=f"What to rank: {', '.join(LEVELS)}.")]
BoundariesOpt = Annotated[
    str | None,
    typer.Option(
        "--boundaries",
        help="Boundary set of the city level: metro, city, clusters, or a .yaml file [default: metro].",
    ),
]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine", help="Run on duckdb (embedded) or spark (local or a cluster) [default: duckdb]."
    ),
]
SparkMasterOpt = Annotated[
    str | None,
    typer.Option(
        "--spark-master", help="With --engine spark: the master, e.g. local[4] or spark://host:7077."
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
OutOpt = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write to this file instead of the terminal.")
]


def settings(**flags: Any) -> Settings:
    """Settings from defaults < SCIENCECITIES_* environment < the flags given on the command line."""
    given = {k: v for k, v in flags.items() if v is not None}
    return Settings(**given)


def parse_years(year: int | None, years: str | None) -> tuple[int, int] | None:
    """`--year 2024` or `--years 2015-2024` as an inclusive (first, last) window."""
    if year is not None and years is not None:
        raise InputError("give --year or --years, not both", "e.g. --year 2024 or --years 2015-2024")
    if year is not None:
        return (year, year)
    if years is None:
        return None
    match = re.fullmatch(r"\s*(\d{4})\s*(?:-|\.\.|:)\s*(\d{4})\s*", years) or re.fullmatch(
        r"\s*(\d{4})\s*", years
    )
    if not match:
        raise InputError(f"cannot read the years {years!r}", "write a window as FIRST-LAST, e.g. 2015-2024")
    first, last = int(match.group(1)), int(match.group(match.lastindex or 1))
    if first > last:
        raise InputError(f"the window {years} is empty", "give the first year first, e.g. 2015-2024")
    return (first, last)


def span(years: tuple[int, int] | None) -> str:
    """A window as people write it: 2024, 2015-2024, or all years."""
    if years is None:
        return "all years"
    return str(years[0]) if years[0] == years[1] else f"{years[0]}-{years[1]}"


def ensure_built(data: Store, conf: Settings, level: str | None = None) -> str:
    """The edition's name, building it first when the store has not built it yet, or (for the city level)
    building it again, with the options it was built with, when it lacks the boundary set asked for."""
    name = edition_files.load(conf.edition).name
    built = data.manifest().get("builds", {}).get(name) if data.exists else None
    if built is None:
        err.print(f"edition {name} is not built yet: building it now")
        run_build(data, conf)
        return name
    wanted = boundaries_name(conf.boundaries)
    if level == "city" and wanted not in built.get("geography", {}).get("boundaries", {}):
        err.print(f"boundary set {wanted} is not built for {name} yet: building it now")
        options = {k: v for k, v in built["options"].items() if k in Settings.model_fields}
        run_build(data, conf.model_copy(update=options | {"boundaries": conf.boundaries}))
    return name


def start_engine(conf: Settings) -> str:
    """The engine the settings name, with Spark started on their master (once per process) when chosen."""
    engine = engines.check_engine(conf.engine)
    if engine == "spark":
        with err.status("starting Spark"):
            engines.spark_session(conf.spark_master)
    return engine


def print_ingest(report: IngestReport) -> None:
    """What an ingest did: files skipped or unchanged, records taken and quarantined by reason, the tables."""
    for skipped in report.skipped:
        err.print(f"[yellow]skipped[/] {skipped.path}: {skipped.reason}")
    if report.unchanged:
        err.print(
            f"{len(report.unchanged)} file(s) already ingested, unchanged (use --force to read them again)"
        )
    if not report.files:
        err.print(f"nothing new to ingest into {report.store}")
        return
    rate = report.taken / max(report.seconds, 1e-9)
    if report.prefilter:
        counts = report.prefiltered
        err.print(
            f"prefilter {report.prefilter}: kept {counts['kept']:,} of {counts['lines']:,} works lines, "
            "the rest were outside its journals or had no source and were dropped before parsing"
            + (
                f"; {counts['unfiltered_files']} damaged file(s) read whole"
                if counts["unfiltered_files"]
                else ""
            )
        )
    err.print(
        f"read {len(report.files)} file(s): {report.taken:,} records taken in {report.seconds:.1f}s "
        f"({rate:,.0f} records/s)" + (f", {report.merged_ids:,} merged ids" if report.merged_ids else "")
    )
    if report.quarantined:
        reasons = ", ".join(
            f"{n} {r}" for r, n in sorted(report.quarantine_reasons.items(), key=lambda x: -x[1])
        )
        err.print(
            f"[yellow]{report.quarantined:,} records quarantined[/] ({reasons}); "
            "see `sciencecities audit --store ...`"
        )
    tables = ", ".join(f"{name} {n:,}" for name, n in report.tables.items())
    err.print(f"store {report.store}: {tables}")
