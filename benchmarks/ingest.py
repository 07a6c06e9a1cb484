"""Benchmark: `ingest openalex` of generated works beside its floor and a naive peer, and the edition prefilter.

The works are synthetic (`sciencecities.acquire.synthetic`, seeded, labelled SYNTHETIC): OpenAlex-shaped
lines of the snapshot's bulk fields, in the snapshot layout, two part files per size. They are generated once
into `--data` (default: the system temp folder) and reused.

Rows per size (each measured in a fresh interpreter, so that its peak RSS is its own; a row that starts
worker processes reports the largest process, `ru_maxrss` of the children):

- floor: bare gzip decompression of the works files, one process per file (zlib in 1 MiB blocks);
- floor (isal): the same with ISA-L (`isal`), which the edition prefilter uses: about 5 times zlib's speed, so
  it is the floor of that path (DuckDB's JSON reader gunzips with its own zlib-compatible code);
- naive peer: a plain Python json loop, one process per file: `json.loads` of every line and the fields the
  ingest keeps pulled out into lists (works, authorships, affiliations);
- ingest: `sciencecities.ingest_openalex` into a fresh store (DuckDB's JSON reader with the explicit schema,
  canonical tables, upsert, Parquet), the whole ingest;
- spark: the same ingest with `engine="spark"` (a local Spark session reads and canonicalises the files into
  the batch, and the same merge takes them into the store); its peak RSS and CPU add the JVM's;
- ingest --edition: the same with `edition=nature-index`, on works of which about 1% are in the edition's
  journals (generated separately with that share), so almost every line is dropped before parsing.

    python benchmarks/ingest.py                        # 100k and 1M works (~1 GB and ~10 GB of raw JSON)
    python benchmarks/ingest.py --sizes 100000         # one size (about a minute)
    python benchmarks/ingest.py --memory-limit 512MB   # the ingest's DuckDB memory limit (default: its default)
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import intervals
from build import run_row

BLOCK = 1 << 20
ROWS = ("floor", "isal", "peer", "ingest", "spark", "prefilter")


def dataset(root: Path, works: int, edition_share: float) -> tuple[Path, dict[str, Any]]:
    """The generated folder for a size and share (generated on first use) and its facts."""
    from sciencecities.acquire.synthetic import Spec, generate

    folder = root / f"synthetic-works-{works}-{edition_share}"
    facts = folder / "facts.txt"
    if not facts.exists():
        written = generate(Spec(works=works, files=2, edition_share=edition_share), folder)
        facts.write_text(
            json.dumps(
                {
                    "raw_bytes": written.raw_bytes,
                    "gzip_bytes": written.gzip_bytes,
                    "in_edition": written.in_edition,
                }
            )
        )
    return folder, json.loads(facts.read_text())


def _works_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("data/works/*/*.gz"))


def _decompress(path: Path, codec: Any = zlib) -> int:
    size = 0
    decoder = codec.decompressobj(wbits=31)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(BLOCK), b""):
            size += len(decoder.decompress(block))
            while decoder.unused_data:
                rest = decoder.unused_data
                decoder = codec.decompressobj(wbits=31)
                size += len(decoder.decompress(rest))
    return size


def _decompress_isal(path: Path) -> int:
    from isal import isal_zlib

    return _decompress(path, isal_zlib)


def _json_loop(path: Path) -> int:
    """The naive peer: every line parsed, the kept fields copied into plain lists."""
    import gzip

    works, authorships, affiliations = [], [], []
    with gzip.open(path, "rb") as handle:
        for line in handle:
            record = json.loads(line)
            source = (record.get("primary_location") or {}).get("source") or {}
            works.append((record["id"], record.get("publication_year"), record.get("type"), source.get("id")))
            for position, authorship in enumerate(record.get("authorships") or []):
                authorships.append((record["id"], position, (authorship.get("author") or {}).get("id")))
                for institution in authorship.get("institutions") or []:
                    affiliations.append((record["id"], position, institution.get("id")))
    return len(works)


def _pooled(function: Any, files: list[Path]) -> list[Any]:
    with ProcessPoolExecutor(len(files)) as pool:
        return list(pool.map(function, files))


def measure(row: str, folder: Path, memory_limit: str | None) -> dict[str, Any]:
    """One row, in this (fresh) process."""
    files = _works_files(folder)
    extra: dict[str, float] = {}
    if row in ("ingest", "spark", "prefilter"):  # imports and Spark's start are outside the time, as the
        from sciencecities import Store, editions, ingest_openalex  # floor's interpreter start is

        if row == "spark":
            from sciencecities.engines import spark_session

            spark_session()
    start = time.perf_counter()
    if row == "floor":
        detail = {"decompressed_bytes": sum(_pooled(_decompress, files))}
    elif row == "isal":
        detail = {"decompressed_bytes": sum(_pooled(_decompress_isal, files))}
    elif row == "peer":
        detail = {"works": sum(_pooled(_json_loop, files))}
    else:
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
            options: dict[str, Any] = {"memory_limit": memory_limit} if memory_limit else {}
            if row == "prefilter":
                options["edition"] = editions.load("nature-index")
            if row == "spark":
                options["engine"] = "spark"
            report = ingest_openalex(Store(Path(tmp) / "store"), [folder], **options)
            detail = {"works": report.tables.get("works", 0), "quarantined": report.quarantined}
            if row == "spark":
                from build import _jvm

                extra = _jvm(spark_session())
    wall = time.perf_counter() - start
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": wall,
        "cpu_s": own.ru_utime
        + own.ru_stime
        + children.ru_utime
        + children.ru_stime
        + extra.get("jvm_cpu_s", 0),
        "peak_rss_mib": max(own.ru_maxrss, children.ru_maxrss) / 1024 + extra.get("jvm_peak_mib", 0),
        **detail,
    }


def _child(row: str, folder: Path, memory_limit: str | None = None) -> dict[str, Any]:
    return run_row(__file__, row, folder, *(["--memory-limit", memory_limit] if memory_limit else []))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100000,1000000", help="works per dataset, comma-separated")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "sciencecities-bench")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"rows to run, of {', '.join(ROWS)}")
    parser.add_argument(
        "--memory-limit", help="the ingest's DuckDB memory limit (default: the ingest's default)"
    )
    parser.add_argument("--measure", choices=ROWS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.folder, args.memory_limit)))
        return
    print(intervals._machine())
    print(f"memory limit: {args.memory_limit or 'the default'}")
    print(
        "| works | row | raw JSON GB | wall s | MB/s raw | works/s | x floor | x isal floor | peak RSS MiB | CPU s |"
    )
    print("|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|")
    rows = args.rows.split(",")
    for works in (int(s) for s in args.sizes.split(",")):
        full, facts = dataset(args.data, works, 0.88)
        floors: dict[str, float] = {}
        for row in rows:
            folder, shown = (full, facts)
            if row == "prefilter":  # its own data (1% in the edition), so its own floors first
                folder, shown = dataset(args.data, works, 0.01)
                floors = {
                    "floor": _report(works, "floor (1% set)", shown, _child("floor", folder), {}),
                    "isal": _report(works, "floor (isal, 1% set)", shown, _child("isal", folder), {}),
                }
            result = _child(row, folder, args.memory_limit)
            wall = _report(works, "floor (isal)" if row == "isal" else row, shown, result, floors)
            if row in ("floor", "isal"):
                floors[row] = wall


def _report(
    works: int, row: str, facts: dict[str, Any], result: dict[str, Any], floors: dict[str, float]
) -> float:
    wall = float(result["wall_s"])
    itself = "isal" if row.startswith("floor (isal") else "floor" if row.startswith("floor") else None
    ratios = [
        "1.00" if k == itself else f"{wall / floors[k]:.2f}" if k in floors else "-"
        for k in ("floor", "isal")
    ]
    print(
        f"| {works:,} | {row} | {facts['raw_bytes'] / 1e9:.2f} | {wall:.1f} | "
        f"{facts['raw_bytes'] / 1e6 / wall:,.0f} | {works / wall:,.0f} | {ratios[0]} | {ratios[1]} | "
        f"{result['peak_rss_mib']:,.0f} | {result['cpu_s']:.1f} |",
        flush=True,
    )
    return wall


if __name__ == "__main__":
    main()
