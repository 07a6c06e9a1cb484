"""Entry point: global options, error translation, and the verbs."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from sciencecities import __version__
from sciencecities import editions as edition_files
from sciencecities.acquire.files import InputFile
from sciencecities.audit import audit as run_audit
from sciencecities.audit import edition_coverage
from sciencecities.demo import DEFAULT_DEMO_STORE, DEMO_EDITIONS, build_demo_store
from sciencecities.errors import InputError, QuarantineError, ScienceCitiesError
from sciencecities.measure.indicators import DEFAULT_MIN_ARTICLES
from sciencecities.measure.intervals import INTERVAL_COLUMNS
from sciencecities.pipeline import INGEST_MEMORY, IngestReport, ingest_openalex, ingest_ror
from sciencecities.pipeline import build as run_build
from sciencecities.present.cli.chart import chart_cmd
from sciencecities.present.cli.city import city_cmd
from sciencecities.present.cli.collab import collab_cmd
from sciencecities.present.cli.common import (
    BaseYearOpt,
    BoundariesOpt,
    EditionOpt,
    EngineOpt,
    FormatOpt,
    LevelOpt,
    OutOpt,
    SparkMasterOpt,
    StoreOpt,
    SubjectOpt,
    YearOpt,
    YearsOpt,
    ensure_built,
    err,
    out,
    parse_years,
    print_ingest,
    settings,
    span,
    start_engine,
)
from sciencecities.present.cli.exports import scopus_cmd, wos_cmd
from sciencecities.present.cli.fetch import fetch_app
from sciencecities.present.cli.highlights import highlights_cmd
from sciencecities.present.cli.index import index_app
from sciencecities.present.cli.locate import LOCATE_CONTEXT, locate_cmd
from sciencecities.present.cli.report import report_cmd
from sciencecities.present.cli.serve import serve_cmd
from sciencecities.present.export import Format, rich_table, write, write_sections
from sciencecities.rank.indicators import SIZE_INDEPENDENT
from sciencecities.rank.queries import rank as run_rank
from sciencecities.rank.queries import trend as run_trend
from sciencecities.rank.ranking import Ranking
from sciencecities.store import Store

app = typer.Typer(
    name="sciencecities",
    help="Science-city rankings (Count, Share) from OpenAlex records, reproducible and auditable.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Read bibliographic records into the store.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(index_app, name="index")
app.add_typer(fetch_app, name="fetch")
app.command("locate", context_settings=LOCATE_CONTEXT)(locate_cmd)
app.command("city")(city_cmd)
app.command("chart")(chart_cmd)
app.command("collab")(collab_cmd)
app.command("highlights")(highlights_cmd)
app.command("report")(report_cmd)
app.command("serve")(serve_cmd)

_STATE: dict[str, Any] = {}
_PLURAL = {
    "institution": "institutions",
    "city": "science cities",
    "country": "countries",
    "group": "groups",
}


def _version(value: bool) -> None:
    if value:
        out.print(f"sciencecities {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks on errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Science-city rankings from bibliographic records."""
    _STATE["debug"] = debug


@ingest_app.command("openalex")
def ingest_openalex_cmd(
    paths: Annotated[
        list[str],
        typer.Argument(
            help="Works/institutions/sources .jsonl(.gz) files, folders, or an "
            "OpenAlex snapshot folder (data/works/updated_date=*/...); with --engine spark also s3a:// or "
            "hdfs:// URIs."
        ),
    ],
    store: StoreOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Read files again even if already ingested.")
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit non-zero if any record is quarantined.")
    ] = False,
    edition: Annotated[
        str | None,
        typer.Option(
            "--edition",
            help="Keep only works of this edition's journals, dropped before parsing (fast on a full "
            "snapshot); the store can then build only this edition.",
        ),
    ] = None,
    memory_limit: Annotated[
        str,
        typer.Option(
            "--memory-limit",
            help="DuckDB's memory during the ingest, shared by its reader processes (e.g. 512MB, 4GB); "
            "beyond it, it spills to disk.",
        ),
    ] = INGEST_MEMORY,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
) -> None:
    """Ingest OpenAlex records; bad records go to quarantine, the rest is taken; re-running changes nothing."""
    conf = settings(store=store, strict=strict or None, engine=engine, spark_master=spark_master)
    method = edition_files.load(edition) if edition else None
    report = _ingest_with_progress(
        Store(conf.store), paths, force, method, memory_limit, conf.engine, conf.spark_master
    )
    print_ingest(report)
    if conf.strict and report.quarantined:
        raise QuarantineError(f"{report.quarantined} records were quarantined", "see `sciencecities audit`")


@ingest_app.command("ror")
def ingest_ror_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="A ROR data dump (.zip from Zenodo), or ROR v2 records as .json(.gz) or .jsonl(.gz)."
        ),
    ],
    store: StoreOpt = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit non-zero if any record is quarantined.")
    ] = False,
) -> None:
    """Ingest ROR records: the place of an institution with a ROR id when OpenAlex gives none (before parsing)."""
    conf = settings(store=store, strict=strict or None)
    with err.status("reading ROR records"):
        report = ingest_ror(Store(conf.store), paths)
    print_ingest(report)
    err.print("builds are reset: the next rank (or `sciencecities build`) places institutions again")
    if conf.strict and report.quarantined:
        raise QuarantineError(f"{report.quarantined} records were quarantined", "see `sciencecities audit`")


ingest_app.command("wos")(wos_cmd)
ingest_app.command("scopus")(scopus_cmd)


def _ingest_with_progress(
    store: Store,
    paths: list[str],
    force: bool,
    edition: edition_files.Edition | None = None,
    memory_limit: str = INGEST_MEMORY,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> IngestReport:
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[records]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task("ingest", total=None, records="")

        def advance(file: InputFile, records: int, done: int, total: int) -> None:
            rate = records / max(time.perf_counter() - started, 1e-9)
            bar.update(
                task,
                total=total,
                completed=done,
                records=f"{records:,} records, {rate:,.0f}/s  {file.path.name}",
            )

        return ingest_openalex(
            store,
            paths,
            force=force,
            progress=advance,
            edition=edition,
            memory_limit=memory_limit,
            engine=engine,
            spark_master=spark_master,
        )


@app.command("build")
def build_cmd(
    store: StoreOpt = None,
    edition: EditionOpt = None,
    count_unaffiliated: Annotated[
        bool,
        typer.Option(
            "--count-unaffiliated",
            help="Count authors without institution in n_a (CWTS); their share is lost.",
        ),
    ] = False,
    include_flagged: Annotated[
        bool | None,
        typer.Option(
            "--include-flagged/--exclude-flagged",
            help="Count all articles of Physical Review A/B/D and Astronomy & Astrophysics (the Nature Index "
            "counts only flagged ones) [default: the edition's choice, exclude].",
        ),
    ] = None,
    legacy_weights: Annotated[
        bool | None,
        typer.Option(
            "--legacy-weights/--unit-weights", help="Legacy weighted method: astronomy journals x 0.2."
        ),
    ] = None,
    base_year: BaseYearOpt = None,
    boundaries: Annotated[
        str | None,
        typer.Option(
            "--boundaries",
            help="Also build this boundary set (a .yaml file); metro, city and clusters are always built.",
        ),
    ] = None,
    places: Annotated[
        Path | None,
        typer.Option(
            "--places",
            help="CSV of place overrides: institution_id, and geonames_id or latitude and longitude.",
        ),
    ] = None,
    population: Annotated[
        Path | None,
        typer.Option(
            "--population",
            help="CSV of science-city populations (unit_id, population[, boundaries]) replacing GeoNames sums.",
        ),
    ] = None,
    groups: Annotated[
        str | None,
        typer.Option("--groups", help="Groups of science cities: a .yaml file [default: shipped]."),
    ] = None,
    cluster_eps_km: Annotated[
        float | None,
        typer.Option("--cluster-eps-km", help="Radius of the clusters set's DBSCAN, in km [default: 15]."),
    ] = None,
    cluster_min_share: Annotated[
        float | None,
        typer.Option(
            "--cluster-min-share",
            help="Share a cluster core's neighbourhood must hold [default: 0.05%% of the placed Share].",
        ),
    ] = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
) -> None:
    """Compute eligible works, subjects, credit, places and science cities, Count and Share per level, subject
    and year; check conservation at every level."""
    conf = settings(
        store=store,
        edition=edition,
        count_unaffiliated=count_unaffiliated or None,
        include_flagged=include_flagged,
        legacy_weights=legacy_weights,
        base_year=base_year,
        boundaries=boundaries,
        places=places,
        population=population,
        groups=groups,
        cluster_eps_km=cluster_eps_km,
        cluster_min_share=cluster_min_share,
        engine=engine,
        spark_master=spark_master,
    )
    start_engine(conf)
    with err.status(f"building edition {conf.edition} on {conf.engine}"):
        report = run_build(Store(conf.store), conf)
    rows = ", ".join(f"{k} {v:,}" for k, v in report.rows.items())
    err.print(f"built {report.edition} in {report.seconds:.1f}s: {rows}")
    checks = report.checks
    err.print(
        f"conservation ok over {checks['works_checked']:,} works (total Share {checks['total_share']:,.6f}; "
        f"{checks['unplaced_share']:.6f} of it at institutions without a country or place)"
    )
    geo = report.geography
    sources = ", ".join(
        f"{r['source']} {r['institutions']:,} institutions (Share {r['share']:,.3f})"
        for r in geo["places_by_source"]
    )
    fraction = geo["placed_fraction"]
    err.print(
        f"placed {'-' if fraction is None else f'{fraction:.1%}'} of the Share in science cities: {sources}; "
        f"boundary sets {', '.join(geo['boundaries'])}"
    )


def _terminal_view(ranking: Ranking) -> Any:
    """The ranking as shown in the terminal: comparison columns only when there is a comparison, change in %."""
    import pyarrow as pa

    table = ranking.table
    if "contribution" in table.column_names:
        pct = [None if v is None else f"{v:.1f}%" for v in table.column("contribution").to_pylist()]
        label = "% of city" if ranking.meta.get("city") else "% of country"
        table = table.drop_columns(["contribution"]).append_column(label, pa.array(pct, pa.string()))
    if "share_per_article" in table.column_names:
        table = _fractions_as_percent(table)
    if "share_lo" in table.column_names:
        share_95 = [
            None if lo is None else f"{lo:.2f}-{hi:.2f}"
            for lo, hi in zip(table["share_lo"].to_pylist(), table["share_hi"].to_pylist(), strict=True)
        ]
        rank_95 = [
            None if lo is None else (str(lo) if lo == hi else f"{lo}-{hi}")
            for lo, hi in zip(table["rank_lo"].to_pylist(), table["rank_hi"].to_pylist(), strict=True)
        ]
        table = table.drop_columns(list(INTERVAL_COLUMNS))
        table = table.append_column("Share 95%", pa.array(share_95, pa.string()))
        table = table.append_column("rank 95%", pa.array(rank_95, pa.string()))
    if ranking.meta.get("previous_years") is None:
        return table.drop_columns(["previous_rank", "adjusted_share_previous", "change"])
    change = [None if v is None else f"{v:+.1%}" for v in table.column("change").to_pylist()]
    index = table.column_names.index("change")
    return table.set_column(index, "change", pa.array(change, pa.string()))


def _fractions_as_percent(table: Any) -> Any:
    """The size-independent columns as the terminal shows them: proportions in %, MNCS to two decimals, and
    the citation indicators blank below the minimum size."""
    import pyarrow as pa

    def percent(values: list[float | None]) -> Any:
        return pa.array([None if v is None else f"{v:.0%}" for v in values], pa.string())

    shown = {
        "per article": pa.array(
            [None if v is None else f"{v:.3f}" for v in table["share_per_article"].to_pylist()], pa.string()
        ),
        "intl": percent(table["international_fraction"].to_pylist()),
        "company": percent(table["company_fraction"].to_pylist()),
        "MNCS": pa.array([None if v is None else f"{v:.2f}" for v in table["mncs"].to_pylist()], pa.string()),
        "PP(top10)": percent(table["pp_top10"].to_pylist()),
    }
    table = table.drop_columns(list(SIZE_INDEPENDENT))
    for name, column in shown.items():
        table = table.append_column(name, column)
    return table


@app.command("rank")
def rank_cmd(
    level: LevelOpt = "institution",
    year: YearOpt = None,
    years: YearsOpt = None,
    subject: SubjectOpt = None,
    vs: Annotated[
        str | None,
        typer.Option("--vs", help="Compare with this year or window [default: the one just before]."),
    ] = None,
    base_year: BaseYearOpt = None,
    top: Annotated[int | None, typer.Option("--top", help="Only ranks 1..N (ties at N included).")] = None,
    boundaries: BoundariesOpt = None,
    city: Annotated[
        str | None,
        typer.Option(
            "--city",
            help="Only the institutions of this science city (id or name, e.g. Boston or 'Cambridge, GB'), "
            "with their % of the city's Share.",
        ),
    ] = None,
    rollup: Annotated[
        bool,
        typer.Option(
            "--rollup", help="Credit institutions to their top-level parents through OpenAlex lineage."
        ),
    ] = False,
    per_capita: Annotated[
        bool,
        typer.Option(
            "--per-capita", help="Science cities: add population and Share per million inhabitants."
        ),
    ] = False,
    intervals: Annotated[
        bool,
        typer.Option(
            "--intervals",
            help="Add 95% stability intervals of Share and rank (bootstrap of the articles, DESIGN §4).",
        ),
    ] = False,
    resamples: Annotated[
        int, typer.Option("--resamples", help="Bootstrap resamples for --intervals (10-100,000).")
    ] = 1000,
    seed: Annotated[
        int, typer.Option("--seed", help="Seed of the resamples: the same seed gives the same intervals.")
    ] = 0,
    size_independent: Annotated[
        bool,
        typer.Option(
            "--size-independent",
            help="Add Share per article, international and company co-authorship, MNCS and PP(top 10%).",
        ),
    ] = False,
    min_articles: Annotated[
        int,
        typer.Option(
            "--min-articles", help="Scored articles an entity needs for MNCS and PP(top 10%) to be shown."
        ),
    ] = DEFAULT_MIN_ARTICLES,
    fmt: FormatOpt = Format.table,
    out_file: OutOpt = None,
    store: StoreOpt = None,
    edition: EditionOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
) -> None:
    """Rank by Share (fractional counting), with Count, Adjusted Share, previous rank and change; science
    cities also with their contribution to the country's Share (%), institutions of a --city with theirs to
    the city's."""
    conf = settings(
        store=store, edition=edition, boundaries=boundaries, engine=engine, spark_master=spark_master
    )
    window = parse_years(year, years)
    compare = parse_years(None, vs) if vs is not None else None
    if compare is not None and window is None:
        raise InputError("--vs needs --year or --years", "e.g. --year 2024 --vs 2020")
    data = Store(conf.store)
    name = ensure_built(data, conf, "city" if city is not None else level)
    shown = top if top is not None or fmt is not Format.table else 25
    ranking = run_rank(
        data,
        level=level,
        years=window,
        subject=subject,
        edition=name,
        top=shown,
        vs=compare,
        base_year=base_year,
        boundaries=conf.boundaries,
        city=city,
        rollup=rollup,
        per_capita=per_capita,
        intervals=intervals,
        resamples=resamples,
        seed=seed,
        size_independent=size_independent,
        min_articles=min_articles,
        engine=start_engine(conf),
    )
    meta = ranking.meta
    title = f"{level} ranking, {name}, {meta['subject']}, {span(window)}"
    if meta.get("city"):
        title += f", in {meta['city']['name']} ({meta['city']['id']})"
    if meta["boundaries"]:
        title += f", boundaries {meta['boundaries']}"
    if meta["previous_years"]:
        title += f" vs {span(tuple(meta['previous_years']))}"
    title += f"; Adjusted Share to {meta['base_year']} (store {data.root})"
    table = _terminal_view(ranking) if fmt is Format.table else ranking.table
    write(table, fmt, out_file, meta, out, title)
    if ranking.table.num_rows == 0:
        err.print(
            f"[yellow]nothing to rank:[/] {name} has no credited articles of {meta['subject']} in {span(window)}"
        )
    if fmt is Format.table and top is None:
        err.print("showing ranks 1-25; use --top N, or --format csv for all")
    if fmt is Format.table and window is None:
        err.print("all years summed; give --year Y for previous rank and change in Adjusted Share")
    if intervals and fmt is Format.table:
        err.print(
            f"95% stability intervals from {resamples:,} bootstrap resamples of the articles (seed {seed}); "
            "rank intervals are among all ranked entities"
        )
    if size_independent and fmt is Format.table:
        err.print(
            f"MNCS and PP(top10) are blank for entities with fewer than {min_articles} articles with citation data"
        )
    if out_file is not None:
        err.print(f"wrote {ranking.table.num_rows} rows to {out_file}")


@app.command("trend")
def trend_cmd(
    level: LevelOpt = "country",
    years: YearsOpt = None,
    subject: SubjectOpt = None,
    entity: Annotated[
        list[str] | None,
        typer.Option(
            "--id",
            help="An entity id to follow (repeatable), e.g. US, I136199984, us-csa-148 or jing-jin-ji.",
        ),
    ] = None,
    top: Annotated[
        int | None, typer.Option("--top", help="Follow the entities ranked 1..N in the last year.")
    ] = None,
    base_year: BaseYearOpt = None,
    boundaries: BoundariesOpt = None,
    fmt: FormatOpt = Format.table,
    out_file: OutOpt = None,
    store: StoreOpt = None,
    edition: EditionOpt = None,
    engine: EngineOpt = None,
    spark_master: SparkMasterOpt = None,
) -> None:
    """Share, Adjusted Share, Count and rank per entity and year."""
    conf = settings(
        store=store, edition=edition, boundaries=boundaries, engine=engine, spark_master=spark_master
    )
    window = parse_years(None, years)
    data = Store(conf.store)
    name = ensure_built(data, conf, level)
    if entity is None and top is None:
        top = 10
    result = run_trend(
        data,
        level=level,
        years=window,
        subject=subject,
        edition=name,
        ids=entity,
        top=top,
        base_year=base_year,
        boundaries=conf.boundaries,
        engine=start_engine(conf),
    )
    meta = result.meta
    title = f"{level} trend, {name}, {meta['subject']}, {span(window)}; Adjusted Share to {meta['base_year']}"
    write(result.table, fmt, out_file, meta, out, title)
    if out_file is not None:
        err.print(f"wrote {result.table.num_rows} rows to {out_file}")


@app.command("editions")
def editions_cmd(
    name: Annotated[
        str | None, typer.Argument(help="Show the journal coverage of this edition (name or .yaml).")
    ] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.table,
    out_file: OutOpt = None,
) -> None:
    """List the editions and, for the store, how many of each one's journals it holds; or one edition's journals."""
    import pyarrow as pa

    conf = settings(store=store)
    data = Store(conf.store)
    has_store = data.exists
    if name is not None:
        if not has_store:
            raise InputError(f"no store at {data.root}", "give --store DIR, or ingest records first")
        table = edition_coverage(data, name)
        if table.num_rows == 0:
            err.print(f"edition {name} counts every source: it has no journal list")
            return
        write(table, fmt, out_file, {"edition": name, "store": str(data.root)}, out, f"journals of {name}")
        found = sum(table.column("found").to_pylist())
        err.print(f"{found} of {table.num_rows} journals found in {data.root}")
        return
    rows = []
    builds = data.manifest().get("builds", {}) if has_store else {}
    for shipped_name in edition_files.shipped():
        method = edition_files.load(shipped_name)
        row: dict[str, Any] = {
            "edition": method.name,
            "version": method.version,
            "title": method.title,
            "journals": len(method.journal_list()) if method.has_journal_list else None,
            "subjects": ", ".join(method.subjects) or "-",
            "built": method.name in builds,
        }
        if has_store:
            coverage = edition_coverage(data, method.name)
            row["found_in_store"] = sum(coverage.column("found").to_pylist()) if coverage.num_rows else None
        rows.append(row)
    table = pa.Table.from_pylist(rows)
    write(table, fmt, out_file, {"store": str(data.root) if has_store else None}, out, "editions")
    if fmt is Format.table:
        err.print(
            "`sciencecities editions NAME` lists one edition's journals and how they matched; "
            "your own edition: a .yaml file (see docs/editions.md)"
        )


@app.command("audit")
def audit_cmd(
    store: StoreOpt = None,
    edition: EditionOpt = None,
    fmt: FormatOpt = Format.table,
    out_file: OutOpt = None,
) -> None:
    """What the numbers leave out: quarantine, skipped works, unaffiliated authors, institutions without a
    country or a place, places by source, and places outside the institution's country."""
    conf = settings(store=store, edition=edition)
    report = run_audit(Store(conf.store), conf.edition)
    if fmt is not Format.table:
        import pyarrow as pa

        sheets = {name: pa.Table.from_pylist(rows) for name, rows in report.sections.items() if rows}
        if fmt is Format.json:
            text = json.dumps({"totals": report.totals, **report.sections}, indent=2, default=str) + "\n"
            (out_file.write_text(text, encoding="utf-8") if out_file else sys.stdout.write(text))
            return
        write_sections(sheets, fmt, out_file, {"totals": report.totals, "store": str(conf.store)})
        err.print(f"wrote {len(sheets)} audit sections to {out_file}")
        return
    import pyarrow as pa

    for name, rows in report.sections.items():
        heading = name.replace("_", " ")
        if rows:
            out.print(rich_table(pa.Table.from_pylist(rows), heading))
        else:
            out.print(f"[bold]{heading}[/]: none")
    totals = report.totals
    out.print(
        f"{totals['works']:,} works in the store, {totals['quarantined']:,} records in quarantine "
        f"({totals['quarantine_table']})"
    )
    if totals.get("built"):
        out.print(
            f"edition {totals['edition']}: {totals['eligible_works']:,} eligible works, credited Share "
            f"{totals['credited_share']:,.3f}; {totals['institutions_without_country']} institutions without "
            f"a country hold Share {totals['share_without_country']:.3f}; "
            f"{totals['works_with_truncated_author_lists']} eligible works have truncated author lists "
            "(OpenAlex API responses stop at 100 authors)"
        )
        fraction = totals["placed_fraction"]
        out.print(
            f"places: {'-' if fraction is None else f'{fraction:.1%}'} of the credited Share is placed in a science "
            f"city; {totals['credited_institutions_without_place']} credited institutions without a place hold "
            f"Share {totals['share_without_place']:.3f} ({totals['institutions_without_place']} unplaced in all); "
            f"{totals['place_country_disagreements']} institutions are placed outside their country code"
        )
    else:
        out.print(
            f"edition {totals['edition']} is not built: run `sciencecities build` for the Share sections"
        )


@app.command("demo")
def demo_cmd(
    store: Annotated[
        Path, typer.Option("--store", help="Where to build the demo store.")
    ] = DEFAULT_DEMO_STORE,
    top: Annotated[int, typer.Option("--top", help="How many ranks to print.")] = 10,
) -> None:
    """Ingest the embedded real OpenAlex sample into a fresh store, build it, and print the top rankings."""
    err.print("sciencecities demo: 584 real OpenAlex works (CC0) shipped with the package")
    with err.status("ingesting and building the sample"):
        data, ingest, built = build_demo_store(store)
    err.print(
        f"ingested {ingest.taken:,} records ({ingest.quarantined} quarantined); built {built.edition}: "
        f"{built.rows['eligible_works']} eligible articles in {built.rows['journal_sources']} journal sources, "
        f"conservation {built.checks['conservation']}"
    )
    geo = built.geography
    err.print(
        f"placed {geo['placed_fraction']:.1%} of {built.edition}'s Share in science cities (boundaries metro): "
        + ", ".join(f"{r['source']} {r['institutions']} institutions" for r in geo["places_by_source"])
    )
    outputs = data.root / "outputs"
    outputs.mkdir(exist_ok=True)
    written = []
    for name in DEMO_EDITIONS:
        for level in ("city", "institution", "country"):
            ranking = run_rank(data, level=level, edition=name, top=top)
            view = _terminal_view(ranking)
            where = " (metropolitan areas)" if level == "city" else ""
            out.print(rich_table(view, f"Top {top} {_PLURAL[level]}{where} by Share, {name}, all years"))
            full = run_rank(data, level=level, edition=name)
            path = outputs / f"{name}_{level}_ranking.csv"
            write(full.table, Format.csv, path, full.meta, out)
            written.append(path)
    method = edition_files.load(built.edition)
    leaders = []
    for sid, label in method.subjects.items():
        first = run_rank(data, level="country", subject=sid, edition=built.edition, top=1).table.to_pylist()
        leaders.append(
            {
                "subject": label,
                "leader": ", ".join(r["name"] for r in first) or "-",
                "share": first[0]["share"] if first else None,
            }
        )
    import pyarrow as pa

    out.print(rich_table(pa.Table.from_pylist(leaders), f"Leading country per subject, {built.edition}"))
    out.print(
        f"{geo['placed_fraction']:.1%} of the Share of {built.edition} is placed in a science city; "
        f"`sciencecities audit --store {data.root}` lists the institutions without a place"
    )
    out.print(f"store: {data.root}")
    out.print("outputs: " + ", ".join(str(p) for p in written))
    out.print(
        f"next: sciencecities rank --store {data.root} --level city --boundaries clusters --years 2020-2024; "
        "sciencecities locate 31.82 117.23"
    )


def run() -> None:
    """Console entry point: run the app, turning our errors into one red line and a non-zero exit."""
    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit instead of raising it
    except ScienceCitiesError as exc:
        if _STATE.get("debug"):
            raise
        err.print(f"[red]error:[/] {exc.message}" + (f"\n[dim]hint: {exc.hint}[/]" if exc.hint else ""))
        sys.exit(2 if isinstance(exc, InputError) else 1)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):  # a usage error from Typer's parser
            exc.show()
            sys.exit(exc.exit_code)
        if _STATE.get("debug"):
            raise
        err.print(
            f"[red]unexpected error:[/] {type(exc).__name__}: {exc}\n[dim]run again with --debug for the "
            "traceback, and please report it[/]"
        )
        sys.exit(3)
    if isinstance(code, int) and code:
        sys.exit(code)
