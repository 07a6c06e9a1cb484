"""Benchmark: the metric stage of `build` (Count and Share at every level, year and subject) at 10M and 50M
credit rows, beside its floor, pandas, and Spark.

The data are synthetic, seeded and labelled so (the `credit` of benchmarks/intervals.py: works with 1 to 10
institutions from 20,000 Zipf-sized institutions in 2,000 cities; years 2015-2024), plus what the stage joins:
a subject for each work (one of five, a second one for 8% of works), a country for each institution (60,
Zipf-like) and a group for the cities of some countries (10 groups).

What is timed is what `build` does after credit exists: `institution_year`, then `located_year` for science
cities, countries and groups (dedup-first: collapsed to work and entity, then aggregated; overall and per
subject; all years), each written to Parquet. Journal matching, eligibility, the credit itself and geography
come before it and are not in these rows (see ingest.py for the reading side).

Rows (each in a fresh interpreter, so that its peak RSS is its own):

- floor: one DuckDB scan summing the share column of credit;
- sciencecities on DuckDB: the Ibis expressions of `measure.counts`, as `build` runs them;
- naive peer: pandas, the same four tables with `groupby` (dedup-first too);
- sciencecities on Spark (local[*]): the same Ibis expressions on the PySpark backend (`--spark` to add it).

    python benchmarks/build.py                         # 10M and 50M rows, DuckDB beside floor and pandas
    python benchmarks/build.py --rows 10000000 --spark
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import intervals
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

SUBJECTS = ("chemistry", "physical", "earth", "biological", "health")
COUNTRIES, GROUPS = 60, 10
ROWS = ("floor", "duckdb", "pandas", "spark")


def generate(folder: Path, rows: int, seed: int) -> None:
    """credit.parquet and units.parquet (intervals.py), work_subjects, countries and groups."""
    intervals.generate(folder, rows, seed)
    rng = np.random.default_rng(seed + 1)
    credit = pq.read_table(folder / "credit.parquet", columns=["work_id"])
    works = pc.unique(credit["work_id"])
    first = rng.integers(0, len(SUBJECTS), len(works))
    second = rng.random(len(works)) < 0.08
    subject = np.concatenate(
        [first, (first[second] + 1 + rng.integers(0, 4, int(second.sum()))) % len(SUBJECTS)]
    )
    work = pa.concat_arrays([works, works.filter(pa.array(second))])
    names = pa.array(SUBJECTS).take(pa.array(subject))
    pq.write_table(pa.table({"work_id": work, "subject": names}), folder / "work_subjects.parquet")
    units = pq.read_table(folder / "units.parquet")
    country_p = 1 / np.arange(1, COUNTRIES + 1)
    country = rng.choice(COUNTRIES, size=units.num_rows, p=country_p / country_p.sum())
    codes = pa.array([f"C{c:02d}" for c in country])
    pq.write_table(
        pa.table({"institution_id": units["institution_id"], "country_code": codes}),
        folder / "countries.parquet",
    )
    city_number = pc.cast(pc.utf8_slice_codeunits(units["unit_id"], 1), pa.int64()).to_numpy()
    grouped = (country < GROUPS) & (city_number % 3 == 0)
    groups = pa.table(
        {
            "institution_id": units["institution_id"].filter(pa.array(grouped)),
            "group_id": pa.array([f"G{c}" for c in country[grouped]]),
        }
    )
    pq.write_table(groups, folder / "groups.parquet")


def _usage() -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}


def _tables(con: Any, folder: Path) -> dict[str, Any]:
    return {
        name: con.read_parquet(folder / f"{name}.parquet", table_name=name)
        for name in ("credit", "work_subjects", "units", "countries", "groups")
    }


def _metric_stage(con: Any, folder: Path, out: Path) -> int:
    """The four per-level tables of `build`, by the project's own expressions, written to Parquet."""
    from sciencecities.measure import counts

    t = _tables(con, folder)
    outputs = {
        "institution_year": counts.institution_year(t["credit"], t["work_subjects"]),
        "city_year": counts.located_year(t["credit"], t["work_subjects"], t["units"], "unit_id"),
        "country_year": counts.country_year(t["credit"], t["work_subjects"], t["countries"]),
        "group_year": counts.located_year(t["credit"], t["work_subjects"], t["groups"], "group_id"),
    }
    written = 0
    for name, expr in outputs.items():
        path = out / f"{name}.parquet"
        expr.to_parquet(path)
        written += ds.dataset(path).count_rows()  # a file on DuckDB, a folder of parts on Spark
    return written


def measure(row: str, folder: Path) -> dict[str, Any]:
    """One row, in this (fresh) process."""
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        out = Path(tmp)
        start, cpu = time.perf_counter(), _usage()["cpu_s"]
        extra: dict[str, Any] = {}
        if row == "floor":
            import duckdb

            total = duckdb.sql(f"SELECT sum(share) FROM '{folder / 'credit.parquet'}'").fetchall()
            written = 1 if total else 0
        elif row == "duckdb":
            import ibis

            written = _metric_stage(ibis.duckdb.connect(), folder, out)
        elif row == "pandas":
            written = _pandas(folder, out)
        else:
            import ibis

            from sciencecities import engines

            session = engines.spark_session(None)
            con = ibis.pyspark.connect(session)
            start = time.perf_counter()
            written = _metric_stage(con, folder, out)
            extra = _jvm(session)
        wall = time.perf_counter() - start
        usage = _usage()
        return {
            "wall_s": wall,
            "cpu_s": usage["cpu_s"] - cpu + extra.get("jvm_cpu_s", 0.0),
            "peak_rss_mib": usage["peak_rss_mib"] + extra.get("jvm_peak_mib", 0.0),
            "rows_written": written,
        }


def _jvm(session: Any) -> dict[str, float]:
    """The JVM's CPU time and peak RSS (VmHWM), which the Python process's numbers leave out."""
    pid = session.sparkContext._gateway.proc.pid
    status = Path(f"/proc/{pid}/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    times = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return {
        "jvm_peak_mib": peak / 1024,
        "jvm_cpu_s": (int(times[11]) + int(times[12])) / os.sysconf("SC_CLK_TCK"),
    }


def _pandas(folder: Path, out: Path) -> int:
    """The naive peer: the same four tables with pandas groupby, dedup-first."""
    import pandas as pd

    credit = pd.read_parquet(folder / "credit.parquet")
    subjects = pd.read_parquet(folder / "work_subjects.parquet")

    def with_subjects(rows: pd.DataFrame) -> pd.DataFrame:
        overall = rows.assign(subject="all")
        return pd.concat([overall, rows.merge(subjects, on="work_id")], ignore_index=True)

    def per_level(rows: pd.DataFrame, key: str) -> pd.DataFrame:
        return (
            with_subjects(rows)
            .groupby([key, "subject", "year"], as_index=False)
            .agg(count=("share", "size"), share=("share", "sum"))
        )

    written = 0
    tables = {"institution_year": per_level(credit, "institution_id")}
    for name, file, key in (
        ("city_year", "units.parquet", "unit_id"),
        ("country_year", "countries.parquet", "country_code"),
        ("group_year", "groups.parquet", "group_id"),
    ):
        joined = credit.merge(pd.read_parquet(folder / file), on="institution_id")
        per_work = joined.groupby(["work_id", "year", key], as_index=False)["share"].sum()
        tables[name] = per_level(per_work, key)
    for name, table in tables.items():
        table.to_parquet(out / f"{name}.parquet")
        written += len(table)
    return written


def run_row(script: str, row: str, folder: Path, *extra: str) -> dict[str, Any]:
    """Measure one row of a benchmark `script` in a fresh interpreter (its own peak RSS); its last line is JSON."""
    command = [sys.executable, script, "--measure", row, "--folder", str(folder), *extra]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _child(row: str, folder: Path) -> dict[str, Any]:
    return run_row(__file__, row, folder)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", default="10000000,50000000", help="credit rows, comma-separated")
    parser.add_argument("--spark", action="store_true", help="add the Spark row (pyspark and Java 17+)")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "sciencecities-bench")
    parser.add_argument("--measure", choices=ROWS, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.folder)))
        return
    print(intervals._machine())
    print("| credit rows | row | wall s | x floor | rows written | peak RSS MiB | CPU s |")
    print("|--:|---|--:|--:|--:|--:|--:|")
    for rows in (int(r) for r in args.rows.split(",")):
        folder = args.data / f"synthetic-credit-{rows}"
        if not (folder / "groups.parquet").exists():
            generate(folder, rows, intervals.SEED)
        floor = None
        for row in [r for r in ROWS if r != "spark" or args.spark]:
            result = _child(row, folder)
            floor = floor or result["wall_s"]
            print(
                f"| {rows:,} | {row} | {result['wall_s']:.2f} | {result['wall_s'] / floor:.1f} | "
                f"{result['rows_written']:,} | {result['peak_rss_mib']:,.0f} | {result['cpu_s']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
