"""The pipeline, in order: acquire -> normalise -> (resolve) -> measure -> rank. The code's table of contents."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq

from sciencecities import editions, engines
from sciencecities.acquire.files import InputFile, Skipped, discover
from sciencecities.config import Settings
from sciencecities.errors import InputError, QuarantineError
from sciencecities.measure import checks, counts, credit
from sciencecities.normalise.batch import bucket_count
from sciencecities.normalise.exports import ExportRead, add_records
from sciencecities.normalise.openalex import FileResult, ReadJob, read_into_batch
from sciencecities.normalise.openalex_spark import SparkInput, list_inputs, read_openalex_spark
from sciencecities.normalise.prefilter import EditionFilter, filter_file
from sciencecities.normalise.ror import read_ror
from sciencecities.normalise.scopus import read_scopus
from sciencecities.normalise.upsert import load_merged_ids, merge_into_store, write_batch
from sciencecities.normalise.wos import read_wos
from sciencecities.resolve import eligibility, journals, subjects
from sciencecities.resolve.geography import gazetteer, units
from sciencecities.resolve.geography.boundaries import BoundarySet, Groups
from sciencecities.resolve.geography.clusters import ClusterParams
from sciencecities.resolve.geography.inputs import affiliation_strings, read_overrides, read_population
from sciencecities.resolve.geography.places import place_institutions
from sciencecities.store import Store, now_iso
from sciencecities.tables import (
    ARTICLE_TOTALS,
    CITY_YEAR,
    COUNTRY_YEAR,
    CREDIT,
    DERIVED,
    ELIGIBLE_WORKS,
    GROUP_YEAR,
    INSTITUTION_GROUPS,
    INSTITUTION_PLACES,
    INSTITUTION_UNITS,
    INSTITUTION_YEAR,
    JOURNAL_SOURCES,
    QUARANTINE,
    ROR_PLACES,
    UNIT_POPULATION,
    WORK_SUBJECTS,
    Table,
)

Progress = Callable[[InputFile, int, int, int], None]
"""Called after each file with (file, records taken so far, bytes done so far, bytes in all)."""

INGEST_MEMORY = "2GB"
"""DuckDB's memory limit during an OpenAlex ingest, shared by the reader processes; reading and the merge spill
beyond it, so memory does not grow with the input (benchmarks/README.md)."""


@dataclass
class IngestReport:
    """What an ingest did: files read and skipped, records taken and quarantined, and the store's new counts."""

    store: Path
    files: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    unchanged: list[InputFile] = field(default_factory=list)
    taken: int = 0
    quarantined: int = 0
    merged_ids: int = 0
    tables: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    prefilter: str | None = None
    prefiltered: dict[str, int] = field(
        default_factory=lambda: {"lines": 0, "kept": 0, "unfiltered_files": 0}
    )


def ingest_openalex(
    store: Store,
    paths: Sequence[Path | str],
    *,
    force: bool = False,
    strict: bool = False,
    progress: Progress | None = None,
    edition: editions.Edition | None = None,
    memory_limit: str = INGEST_MEMORY,
    engine: str = "duckdb",
    spark_master: str | None = None,
) -> IngestReport:
    """Ingest OpenAlex works, institutions, sources and merged ids from files or snapshot folders.

    Files already ingested (same SHA-256, same prefilter) are skipped unless `force`; the store changes
    atomically. With `edition`, works outside its journals are dropped before they are parsed
    (normalise/prefilter.py), and the store remembers it: only that edition can be built from it. Files are read
    into a batch folder (normalise/batch.py) by DuckDB, or by Spark with `engine="spark"` (which also reads
    s3a:// or hdfs:// URIs its configuration can open); the merge into the store takes one bucket of works at a
    time within `memory_limit`, so memory does not grow with the input.
    """
    started = time.perf_counter()
    if _megabytes(memory_limit) is None:
        raise InputError(
            f"memory limit {memory_limit!r} is not a size", "give a number and a unit: 512MB, 4GB"
        )
    if engines.check_engine(engine) == "spark":
        if edition is not None:
            raise InputError(
                "the edition prefilter (--edition) runs on the DuckDB engine only",
                "ingest without --edition on Spark (then build the edition), or use --engine duckdb",
            )
        session = engines.spark_session(spark_master)
        files, skipped = _spark_files(session, paths)
    else:
        if remote := [p for p in paths if _URI.match(str(p))]:
            raise InputError(
                f"{remote[0]} is a URI: the DuckDB engine reads local files", "use --engine spark for URIs"
            )
        files, skipped = discover([Path(p) for p in paths])
    keep = EditionFilter.of(edition) if edition is not None else None
    prefilter = keep.edition if keep else None
    report = IngestReport(store.root, skipped=skipped, prefilter=prefilter)
    if store.exists and not force:
        known = {
            (f["sha256"], ing.get("prefilter", {}).get("edition"))
            for ing in store.manifest()["ingests"]
            for f in ing["files"]
            if f.get("sha256")
        }
        report.unchanged = [f for f in files if (f.sha256, prefilter) in known]
        files = [f for f in files if (f.sha256, prefilter) not in known]
    if not files:
        report.seconds = time.perf_counter() - started
        return report
    ingest_id = uuid.uuid4().hex[:12]
    with tempfile.TemporaryDirectory(prefix="sciencecities-") as tmp, store.transaction() as txn:
        work = Path(tmp)
        batch = work / "batch"
        total_bytes = sum(f.size for f in files)
        kept = _prefilter(keep, files, work, report) if keep else {}
        stored_works = store.manifest()["tables"].get("works", 0) if store.exists else 0
        buckets = bucket_count(_input_bytes(files, kept), stored_works)
        readable = [(i + 1, f) for i, f in enumerate(files) if not f.entity.startswith("merged_ids:")]
        merged_files = [f for f in files if f.entity.startswith("merged_ids:")]
        read = _Read()
        try:
            if engine == "spark":
                read = _read_spark(session, readable, batch, buckets, progress, total_bytes)
                merged = _merged_ids_local(session, merged_files, work)
            else:
                read = _read_duckdb(readable, batch, buckets, work, memory_limit, kept, progress, total_bytes)
                merged = [(f.entity.split(":", 1)[1], str(f.path)) for f in merged_files]
            con = duckdb.connect()
            con.execute("SET temp_directory = ?", [str(work / "spill")])
            con.execute("SET memory_limit = ?", [memory_limit])
            report.merged_ids = load_merged_ids(con, merged)
            merge_into_store(con, txn, batch, buckets, work)
        except duckdb.OutOfMemoryException as exc:
            raise InputError(
                f"the ingest ran out of memory with {read.taken:,} records read (--memory-limit {memory_limit}); "
                "the store is unchanged",
                "raise `ingest openalex --memory-limit`, or ingest the files in parts",
            ) from exc
        report.taken = read.taken
        quarantined = [q | {"ingest_id": ingest_id} for q in read.quarantined]
        for file in files:
            taken, rejected, how = read.files.get(file.name, (0, 0, "whole file"))
            report.files.append(
                {
                    "path": file.name,
                    "entity": file.entity,
                    "size": file.size,
                    "sha256": file.sha256,
                    "records": taken,
                    "quarantined": rejected,
                    "read": how,
                }
            )
        _merge_quarantine(con, txn, quarantined, [f.name for f in files])
        extra = {"prefilter": {"edition": prefilter, **report.prefiltered}} if prefilter else {}
        _record_ingest(
            txn,
            ingest_id,
            "openalex",
            report.files,
            report.taken,
            len(quarantined),
            merged_ids=report.merged_ids,
            engine=engine,
            **extra,
        )
        con.close()
    return _finished(report, store, started, quarantined, strict=strict)


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


@dataclass
class _Read:
    """What a reader put in the batch: per file (by name) records taken, quarantined and how it was read."""

    files: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    quarantined: list[dict[str, Any]] = field(default_factory=list)

    @property
    def taken(self) -> int:
        """Records taken from all files."""
        return sum(taken for taken, _, _ in self.files.values())


def _read_duckdb(
    readable: list[tuple[int, InputFile]],
    batch: Path,
    buckets: int,
    work: Path,
    memory_limit: str,
    kept: dict[Path, Path],
    progress: Progress | None,
    total_bytes: int,
) -> _Read:
    """Read the files into the batch with DuckDB, a process per core when the input is large."""
    workers = _read_workers(readable)
    threads = 1 if workers > 1 else None
    jobs = [
        ReadJob(
            f, i, batch, buckets, work / f"read-{i}", _share(memory_limit, workers), threads, kept.get(f.path)
        )
        for i, f in readable
    ]
    read = _Read()
    done_bytes = 0
    for job, result in zip(jobs, _read_all(jobs, workers), strict=True):
        done_bytes += job.file.size
        how = "line by line" if result.careful else "whole file"
        read.files[job.file.name] = (result.taken, len(result.quarantined), how)
        read.quarantined.extend(q.__dict__ for q in result.quarantined)
        if progress:
            progress(job.file, read.taken, done_bytes, total_bytes)
    return read


def _spark_files(session: Any, paths: Sequence[Path | str]) -> tuple[list[InputFile], list[Skipped]]:
    """The files Spark lists under `paths` (local paths or URIs); local ones get their SHA-256."""
    inputs, skipped_uris = list_inputs(session, [str(p) for p in paths])
    files = []
    for item in inputs:
        if item.uri.startswith("file:"):
            path = Path(urllib.parse.urlparse(item.uri).path)
            files.append(InputFile(path, item.entity, item.size, _sha256(path)))
        else:
            files.append(
                InputFile(Path(urllib.parse.urlparse(item.uri).path), item.entity, item.size, None, item.uri)
            )
    skipped = [Skipped(Path(urllib.parse.urlparse(s.uri).path), s.reason) for s in skipped_uris]
    return files, skipped


def _read_spark(
    session: Any,
    readable: list[tuple[int, InputFile]],
    batch: Path,
    buckets: int,
    progress: Progress | None,
    total_bytes: int,
) -> _Read:
    """Read the files into the batch with Spark (normalise/openalex_spark.py)."""
    inputs = {f.name: SparkInput(f.uri or f"file:{f.path}", f.entity, index, f.size) for index, f in readable}
    done = read_openalex_spark(session, list(inputs.values()), batch, buckets)
    by_uri = {f.input.uri: f for f in done.files}
    read = _Read()
    done_bytes = 0
    for index, file in readable:
        got = by_uri[inputs[file.name].uri]
        read.files[file.name] = (got.taken, got.quarantined, "spark")
        done_bytes += file.size
        if progress:
            progress(file, read.taken, done_bytes, total_bytes)
    rejected = batch / "quarantine"
    if rejected.is_dir():
        read.quarantined = pq.read_table(rejected).to_pylist()
    return read


def _merged_ids_local(session: Any, files: list[InputFile], work: Path) -> list[tuple[str, str]]:
    """The merged-ids CSV files as local paths: remote ones are copied by Spark into `work` first."""
    local = []
    for i, file in enumerate(files):
        entity = file.entity.split(":", 1)[1]
        if file.uri is None:
            local.append((entity, str(file.path)))
            continue
        out = work / f"merged-{i}"
        session.read.csv(file.uri, header=True).coalesce(1).write.csv(out.as_uri(), header=True)
        local.extend((entity, str(p)) for p in sorted(out.glob("part-*.csv")))
    return local


def _prefilter(
    keep: EditionFilter, files: list[InputFile], tmp: Path, report: IngestReport
) -> dict[Path, Path]:
    """Filter the works files in parallel (one process per file, as many as there are cores); returns, per
    file filtered, the plain file of its kept lines. Damaged files are left out: they are read whole."""
    works = [f for f in files if f.entity == "works"]
    jobs = [(keep, f.path, tmp / f"kept-{i}.jsonl") for i, f in enumerate(works)]
    workers = max(1, min(len(jobs), os.cpu_count() or 1))
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            results = list(pool.map(filter_file, jobs))
    else:
        results = [filter_file(job) for job in jobs]
    kept: dict[Path, Path] = {}
    for result in results:
        if result.damaged:
            report.prefiltered["unfiltered_files"] += 1
            continue
        report.prefiltered["lines"] += result.lines
        report.prefiltered["kept"] += result.kept
        kept[result.source] = result.kept_path
    return kept


def _input_bytes(files: list[InputFile], kept: dict[Path, Path]) -> int:
    """The input's size for the bucket count: a prefiltered file counts by its kept lines, about a tenth as
    many bytes once gzipped (JSON Lines of works compress about 10:1)."""
    return sum(kept[f.path].stat().st_size // 10 if f.path in kept else f.size for f in files)


PARALLEL_BYTES = 64 << 20
"""Input size from which files are read in parallel processes (below it, starting them costs more)."""


def _read_workers(readable: list[tuple[int, InputFile]]) -> int:
    """How many processes read the files: one per core, up to one per file, when the input is large enough."""
    if sum(f.size for _, f in readable) < PARALLEL_BYTES:
        return 1
    return max(1, min(len(readable), os.cpu_count() or 1))


def _read_all(jobs: list[ReadJob], workers: int) -> Iterator[FileResult]:
    """Read the files into the batch, in order; in `workers` processes when there is more than one (each opens
    its own DuckDB: no connection is open in this process while they run)."""
    if workers == 1:
        yield from map(read_into_batch, jobs)
        return
    with ProcessPoolExecutor(workers) as pool:
        yield from pool.map(read_into_batch, jobs)


def _megabytes(memory_limit: str) -> float | None:
    """A size such as '512MB' or '2GiB' in megabytes, or None when it is not one."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT])i?B", memory_limit.strip(), re.IGNORECASE)
    if match is None:
        return None
    return (
        float(match.group(1)) * {"K": 1 / 1024, "M": 1, "G": 1024, "T": 1024 * 1024}[match.group(2).upper()]
    )


def _share(memory_limit: str, workers: int) -> str:
    """Each of `workers` processes' part of the memory limit: the whole of it for one."""
    if workers == 1:
        return memory_limit
    return f"{max(1, int((_megabytes(memory_limit) or 0) / workers))}MB"


def ingest_ror(store: Store, paths: list[Path], *, strict: bool = False) -> IngestReport:
    """Ingest ROR schema-v2 records (a data dump .zip, JSON or JSON Lines) into `ror_places`, the place source
    between OpenAlex `geo` and affiliation strings; the newest record of each ROR id wins. Builds are reset,
    since places may change."""
    started = time.perf_counter()
    read = read_ror(paths)
    ingest_id = uuid.uuid4().hex[:12]
    report = IngestReport(store.root, files=read.files, taken=read.table.num_rows)
    quarantined = [row | {"ingest_id": ingest_id} for row in read.quarantined]
    with tempfile.TemporaryDirectory(prefix="sciencecities-") as tmp, store.transaction() as txn:
        con = duckdb.connect(str(Path(tmp) / "ror.duckdb"))
        con.register("new_ror", read.table)
        path = txn.path(ROR_PLACES.name)
        con.register("old_ror", pq.read_table(path) if path.exists() else read.table.schema.empty_table())
        merged = con.sql(
            "SELECT * EXCLUDE (n, fresh) FROM (SELECT *, row_number() OVER (PARTITION BY ror ORDER BY "
            "last_modified DESC NULLS LAST, fresh DESC) AS n FROM (SELECT *, 0 AS fresh FROM old_ror "
            "UNION ALL BY NAME SELECT *, 1 AS fresh FROM new_ror)) WHERE n = 1 ORDER BY ror"
        ).to_arrow_table()
        txn.replace(ROR_PLACES, merged)
        _merge_quarantine(con, txn, quarantined, [str(f["path"]) for f in read.files])
        _record_ingest(txn, ingest_id, "ror", read.files, report.taken, len(quarantined))
        con.close()
    return _finished(report, store, started, quarantined, strict=strict)


_EXPORT_READERS = {"wos": read_wos, "scopus": read_scopus}


def ingest_export(
    store: Store, kind: str, paths: list[Path], *, force: bool = False, strict: bool = False
) -> IngestReport:
    """Ingest Web of Science (`kind` 'wos') or Scopus ('scopus') export files into the canonical tables, by the
    same upsert as OpenAlex records; files already ingested (same SHA-256) are skipped unless `force`.

    Every file is read before the store changes: one that is not such an export raises InputError naming it
    and the line. Addresses are placed with the gazetteer (normalise/exports.py); builds are reset.
    """
    started = time.perf_counter()
    if kind not in _EXPORT_READERS:
        raise InputError(f"unknown export format {kind!r}", f"give one of {', '.join(_EXPORT_READERS)}")
    files = [_export_file(path, kind) for path in paths]
    report = IngestReport(store.root)
    if store.exists and not force:
        known = {f["sha256"] for ing in store.manifest()["ingests"] for f in ing["files"]}
        report.unchanged = [f for f in files if f.sha256 in known]
        files = [f for f in files if f.sha256 not in known]
    if not files:
        report.seconds = time.perf_counter() - started
        return report
    read = ExportRead()
    places = gazetteer.load()
    for index, file in enumerate(files, start=1):
        taken, quarantined_before = read.taken, len(read.quarantined)
        add_records(read, kind, file.path, index, _EXPORT_READERS[kind](file.path), places)
        report.files.append(
            {
                "path": str(file.path),
                "entity": kind,
                "size": file.size,
                "sha256": file.sha256,
                "records": read.taken - taken,
                "quarantined": len(read.quarantined) - quarantined_before,
            }
        )
    report.taken = read.taken
    ingest_id = uuid.uuid4().hex[:12]
    quarantined = [row | {"ingest_id": ingest_id} for row in read.quarantined]
    with tempfile.TemporaryDirectory(prefix="sciencecities-") as tmp, store.transaction() as txn:
        con = duckdb.connect(str(Path(tmp) / "export.duckdb"))
        for name, table in read.tables().items():
            con.register(f"new_{name}", table)
            con.execute(f"CREATE OR REPLACE TEMP TABLE b_{name} AS SELECT * FROM new_{name}")
            con.unregister(f"new_{name}")
        load_merged_ids(con, [])
        buckets = bucket_count(0, store.manifest()["tables"].get("works", 0) if store.exists else 0)
        write_batch(con, Path(tmp) / "batch", buckets, "exports")
        merge_into_store(con, txn, Path(tmp) / "batch", buckets, Path(tmp))
        _merge_quarantine(con, txn, quarantined, [str(f.path) for f in files])
        _record_ingest(txn, ingest_id, kind, report.files, report.taken, len(quarantined))
        con.close()
    return _finished(report, store, started, quarantined, strict=strict)


def _export_file(path: Path, kind: str) -> InputFile:
    if not path.is_file():
        state = "does not exist" if not path.exists() else "is not a file"
        raise InputError(f"{path} {state}", f"give the {kind} export files themselves")
    return InputFile(path.resolve(), kind, path.stat().st_size, _sha256(path))


def _record_ingest(
    txn: Any,
    ingest_id: str,
    source: str,
    files: list[dict[str, Any]],
    taken: int,
    quarantined: int,
    **extra: Any,
) -> None:
    """Add the ingest to the new version's manifest, and reset the builds: they are stale now."""
    txn.manifest["ingests"].append(
        {
            "id": ingest_id,
            "source": source,
            "finished": now_iso(),
            "files": files,
            "taken": taken,
            "quarantined": quarantined,
            **extra,
        }
    )
    txn.manifest["builds"] = {}
    shutil.rmtree(txn.dir / "derived", ignore_errors=True)


def _finished(
    report: IngestReport, store: Store, started: float, quarantined: list[dict[str, Any]], *, strict: bool
) -> IngestReport:
    """Complete an ingest's report (quarantine by reason, the store's tables, time); under `strict`, raise
    QuarantineError when anything was quarantined (the rest is ingested all the same)."""
    report.quarantined = len(quarantined)
    for row in quarantined:
        key = row["reason"].split(":")[0]
        report.quarantine_reasons[key] = report.quarantine_reasons.get(key, 0) + 1
    report.tables = {k: v for k, v in store.manifest()["tables"].items() if "/" not in k}
    report.seconds = time.perf_counter() - started
    if strict and report.quarantined:
        raise QuarantineError(
            f"{report.quarantined} records were quarantined",
            "see `sciencecities audit`; the other records were ingested",
        )
    return report


def _merge_quarantine(
    con: duckdb.DuckDBPyConnection, txn: Any, rows: list[dict[str, Any]], reread: list[str]
) -> None:
    new = pa.Table.from_pylist(rows, schema=QUARANTINE.schema)
    con.register("new_quarantine", new)
    table = con.sql(
        "SELECT * FROM read_parquet(?) WHERE source_file NOT IN (SELECT unnest(?::VARCHAR[])) "
        "UNION ALL BY NAME SELECT * FROM new_quarantine ORDER BY source_file, line",
        params=[str(txn.path("quarantine")), reread],
    ).to_arrow_table()
    txn.replace(QUARANTINE, table)
    con.unregister("new_quarantine")


@dataclass
class BuildReport:
    """What a build computed: the edition, options, row counts of the derived tables, and the checks."""

    edition: str
    options: dict[str, Any]
    rows: dict[str, int]
    checks: dict[str, Any]
    seconds: float
    geography: dict[str, Any] = field(default_factory=dict)


def method(settings: Settings) -> editions.Edition:
    """The edition named by the settings, with the flags that override its choices applied."""
    return editions.load(settings.edition).with_options(
        include_flagged=settings.include_flagged,
        legacy_weights=settings.legacy_weights,
        base_year=settings.base_year,
    )


def boundary_sets(settings: Settings) -> list[BoundarySet]:
    """The place-by-place boundary sets a build computes: the shipped ones, and the user's file when named."""
    sets = [BoundarySet.load(name) for name in ("metro", "city")]
    if settings.boundaries not in ("metro", "city", units.CLUSTERS):
        sets.append(BoundarySet.load(settings.boundaries))
    return sets


def build(store: Store, settings: Settings) -> BuildReport:
    """Compute the edition's derived tables (journal matches, eligible works and their subjects, credit, places
    and science cities of institutions, Count and Share per level, subject and year, article totals), check
    conservation at every level, and commit them atomically."""
    started = time.perf_counter()
    edition = method(settings)
    params = ClusterParams(eps_km=settings.cluster_eps_km, min_share=settings.cluster_min_share)
    sets = boundary_sets(settings)
    groups = Groups.load(settings.groups)
    gaz = gazetteer.load()
    overrides = read_overrides(settings.places, gaz) if settings.places is not None else None
    options = {
        "count_unaffiliated": settings.count_unaffiliated,
        "include_flagged": edition.eligibility.include_flagged,
        "legacy_weights": edition.weights.legacy,
        "base_year": edition.base_year,
        "boundaries": settings.boundaries,
        "places": str(settings.places) if settings.places else None,
        "groups": settings.groups,
        "population": str(settings.population) if settings.population else None,
        "cluster_eps_km": params.eps_km,
        "cluster_min_share": params.min_share,
    }
    store.current  # noqa: B018 - raises a StoreError with a hint when there is no store yet
    _check_prefilter(store, edition)
    with store.transaction() as txn:
        con = engines.connect(txn.dir, engine=settings.engine, spark_master=settings.spark_master)
        works, affiliations, institutions, sources = (
            con.table(n) for n in ("works", "affiliations", "institutions", "sources")
        )

        def save(table: Table, expr: Any) -> Any:
            return _materialise(con, txn, table, edition.name, expr)

        matched = save(JOURNAL_SOURCES, journals.journal_sources(sources, edition))
        eligible = save(ELIGIBLE_WORKS, eligibility.eligible_works(works, affiliations, matched, edition))
        topics = save(WORK_SUBJECTS, subjects.work_subjects(eligible, works, edition))
        save(ARTICLE_TOTALS, counts.article_totals(eligible, topics))
        credited = save(
            CREDIT, credit.credit(eligible, affiliations, count_unaffiliated=settings.count_unaffiliated)
        )
        inst_year = save(INSTITUTION_YEAR, counts.institution_year(credited, topics))
        overrides_sha = _sha256(settings.places) if settings.places is not None else None
        place_rows = _placed_before(txn, overrides_sha)
        if place_rows is None:
            strings = affiliation_strings(institutions, affiliations, con.table("authorships"))
            place_rows = place_institutions(
                institutions.to_pyarrow(), strings, gaz, overrides, ror=con.table("ror_places").to_pyarrow()
            )
        places = save(INSTITUTION_PLACES, place_rows)
        located_countries = counts.institution_countries(institutions, places)
        ctry_year = save(COUNTRY_YEAR, counts.country_year(credited, topics, located_countries))
        share = credited.group_by("institution_id").agg(share=credited.share.sum()).to_pyarrow()
        clustered, cluster_summary = units.cluster_units(place_rows, share, params)
        unit_rows = [units.institution_units(place_rows, gaz, s) for s in sets] + [clustered]
        located = save(INSTITUTION_UNITS, units.concat_units(unit_rows))
        reference = BoundarySet.load(units.GROUPS_REFERENCE)
        grouped = save(INSTITUTION_GROUPS, units.institution_groups(place_rows, gaz, groups, reference))
        set_names = [s.name for s in sets] + [units.CLUSTERS]
        per_set = {name: located.filter(located.boundaries == name) for name in set_names}
        city_year = save(
            CITY_YEAR,
            ibis.union(
                *(
                    counts.located_year(credited, topics, rows, "unit_id").mutate(
                        boundaries=ibis.literal(name)
                    )
                    for name, rows in per_set.items()
                )
            ),
        )
        save(GROUP_YEAR, counts.located_year(credited, topics, grouped, "group_id"))
        used = {
            name: set(rows.select("unit_id").distinct().to_pyarrow()["unit_id"].to_pylist())
            for name, rows in per_set.items()
        }
        populations = [units.unit_population(gaz, s, used[s.name]) for s in sets]
        populations.append(units.cluster_population(gaz, clustered, place_rows, params.eps_km))
        save(UNIT_POPULATION, _with_user_population(pa.concat_tables(populations), settings.population))
        levels = {
            "institution": (inst_year, None),
            "country": (
                ctry_year,
                counts.unlocated_share(credited, topics, located_countries, "country_code"),
            ),
        } | {
            f"city ({name})": (
                city_year.filter(city_year.boundaries == name),
                counts.unlocated_share(credited, topics, rows, "unit_id"),
            )
            for name, rows in per_set.items()
        }
        summary = checks.check_conservation(
            eligible, credited, topics, levels, count_unaffiliated=settings.count_unaffiliated
        )
        geography = _geography_summary(places, credited, sets, groups, cluster_summary, params)
        geography["overrides_sha256"] = overrides_sha
        rows = {name: con.table(name).count().to_pyarrow().as_py() for name in DERIVED}
        txn.manifest["builds"][edition.name] = {
            "edition": edition.name,
            "edition_version": edition.version,
            "edition_file": str(edition.origin) if edition.origin else None,
            "options": options,
            "engine": settings.engine,
            "built": now_iso(),
            "rows": rows,
            "checks": summary,
            "geography": geography,
        }
        con.disconnect()
    return BuildReport(edition.name, options, rows, summary, time.perf_counter() - started, geography)


def _check_prefilter(store: Store, edition: editions.Edition) -> None:
    """Refuse to build an edition from a store whose ingest dropped works for another edition's journals."""
    other = sorted(
        {
            ing["prefilter"]["edition"]
            for ing in store.manifest()["ingests"]
            if "prefilter" in ing and ing["prefilter"]["edition"] != edition.name
        }
    )
    if other:
        raise InputError(
            f"this store was ingested with --edition {', '.join(other)}: works outside those journals were "
            f"dropped before parsing, so {edition.name!r} cannot be built from it completely",
            f"build --edition {other[0]}, or ingest again without --edition (or with --edition {edition.name}) "
            "into another store",
        )


def _with_user_population(table: pa.Table, path: Path | None) -> pa.Table:
    """The GeoNames populations, with the units of the user's population file replaced (and added)."""
    if path is None:
        return table
    given = read_population(path)
    rows = {(r["boundaries"], r["unit_id"]): r for r in table.to_pylist()}
    for (boundaries, unit), population in given.items():
        for name in [boundaries] if boundaries else sorted({b for b, _ in rows} | {"metro"}):
            rows[(name, unit)] = {
                "boundaries": name,
                "unit_id": unit,
                "population": population,
                "places": None,
                "source": f"user file {path.name}",
            }
    return pa.Table.from_pylist(sorted(rows.values(), key=lambda r: (r["boundaries"], r["unit_id"])))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _placed_before(txn: Any, overrides_sha: str | None) -> pa.Table | None:
    """The institution places another edition computed from this same store version and overrides: places
    depend on neither the edition nor its options, and parsing affiliation strings is the slow part."""
    for name, built in txn.manifest["builds"].items():
        path = txn.dir / "derived" / name / f"{INSTITUTION_PLACES.name}.parquet"
        geography = built.get("geography")
        if geography is not None and geography.get("overrides_sha256") == overrides_sha and path.exists():
            return pq.read_table(path)
    return None


def _geography_summary(
    places: Any,
    credited: Any,
    sets: list[BoundarySet],
    groups: Groups,
    cluster_summary: pa.Table,
    params: ClusterParams,
) -> dict[str, Any]:
    """What the manifest records of geography: sets and versions, places by source, the Share placed."""
    joined = credited.join(places, "institution_id", how="left")
    by_source = (
        joined.group_by(source=joined.geo_source.fill_null("unplaced"))
        .agg(share=joined.share.sum(), institutions=joined.institution_id.nunique())
        .to_pyarrow()
        .to_pylist()
    )
    total = sum(r["share"] for r in by_source) or 0.0
    unplaced = sum(r["share"] for r in by_source if r["source"] == "unplaced")
    kinds = cluster_summary["kind"].to_pylist()
    return {
        "boundaries": {s.name: {"version": s.version, "origin": s.origin} for s in sets}
        | {units.CLUSTERS: {"version": 1, "eps_km": params.eps_km, "clusters": kinds.count("cluster")}},
        "groups": {"name": groups.name, "version": groups.version, "origin": groups.origin},
        "places_by_source": sorted(by_source, key=lambda r: -r["share"]),
        "placed_share": total - unplaced,
        "placed_fraction": (total - unplaced) / total if total else None,
    }


def _materialise(con: Any, txn: Any, table: Table, edition: str, expr: Any) -> Any:
    """Write a derived table into the staged version (streamed: never whole in memory) and read it back."""
    if isinstance(expr, pa.Table):
        txn.replace(table, expr, edition)
    else:
        with engines.result_batches(con, expr, txn.dir / f".scratch-{table.name}") as rows:
            txn.stream(table, rows, edition)
    return con.read_parquet(txn.path(table.name, edition), table_name=table.name)
