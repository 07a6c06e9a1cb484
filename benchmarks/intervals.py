"""Benchmark: stability intervals (`measure.intervals.bootstrap`) at city level on a synthetic 10M-row `credit`.

The data are synthetic, seeded and labelled so: about 1.5M works with 1 to 10 institutions each (more often
more: P(k) proportional to k), drawn from 20,000 institutions with Zipf-like sizes (P proportional to 1/rank),
which lie in 2,000 cities (P proportional to rank**-0.8); Shares are random and sum to 1 per work; years
2015-2024. Rows of one work and institution are merged, and works are cut so the table has 10M rows.

Rows (each measured in a fresh subprocess, so that its peak RSS is its own):

- floor: one DuckDB scan of credit joined to the cities, summing Share per city (the point estimate);
- bootstrap, B resamples: `bootstrap` on DuckDB through Ibis, the whole interval computation;
- naive peer: NumPy, per resample a Poisson(1) weight per work (`Generator.poisson`) and `np.bincount` of
  the weighted Shares per city, then ranks and percentiles; timed for its preparation and for 100
  resamples, and extrapolated (labelled) to 1,000.

    python benchmarks/intervals.py                      # 10M rows; 100 and 1,000 resamples (about 6 minutes)
    python benchmarks/intervals.py --rows 1000000 --resamples 100
    python benchmarks/intervals.py --resamples 100 --spark 100   # beside Spark (pyspark installed)

The Spark row's peak RSS adds the JVM's high-water mark (VmHWM) to the Python process's, and its CPU the
JVM's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

SEED = 20261123
INSTITUTIONS, CITIES = 20_000, 2_000


def generate(folder: Path, rows: int, seed: int) -> None:
    """Write credit.parquet (work_id, institution_id, year, share) and units.parquet (institution_id, unit_id)."""
    rng = np.random.default_rng(seed)
    institution_p = 1 / np.arange(1, INSTITUTIONS + 1)
    sizes = np.arange(1, 11)
    works = int(rows / 6.5)  # 7 institutions per work drawn on average, about 6.7 left after merging repeats
    per_work = rng.choice(sizes, size=works, p=sizes / sizes.sum())
    work = np.repeat(np.arange(works), per_work)
    institution = rng.choice(INSTITUTIONS, size=work.size, p=institution_p / institution_p.sum())
    pair = np.unique(work.astype(np.int64) * INSTITUTIONS + institution)  # one row per work and institution
    work, institution = pair // INSTITUTIONS, pair % INSTITUTIONS
    if work.size < rows:
        raise SystemExit(f"generated {work.size:,} rows, fewer than {rows:,}: raise the works per row")
    keep = np.searchsorted(work, work[rows - 1], side="right")  # whole works only
    work, institution = work[:keep], institution[:keep]
    raw = rng.exponential(size=work.size)
    share = raw / np.bincount(work, weights=raw)[work]
    year = rng.integers(2015, 2025, size=works)[work]
    city_p = 1 / np.arange(1, CITIES + 1) ** 0.8
    city = rng.choice(CITIES, size=INSTITUTIONS, p=city_p / city_p.sum())

    def ids(prefix: str, numbers: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")

    folder.mkdir(parents=True, exist_ok=True)
    credit = pa.table(
        {
            "work_id": ids("W", work + 2_000_000_000),
            "institution_id": ids("I", institution + 4_000_000_000),
            "year": pa.array(year, pa.int64()),
            "share": share,
        }
    )
    pq.write_table(credit, folder / "credit.parquet")
    units = {"institution_id": ids("I", np.arange(INSTITUTIONS) + 4_000_000_000), "unit_id": ids("U", city)}
    pq.write_table(pa.table(units), folder / "units.parquet")
    (folder / "shape.json").write_text(
        json.dumps({"rows": int(work.size), "works": int(np.unique(work).size)})
    )


def _usage() -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024}


def _ibis_rows(folder: Path) -> Any:
    import ibis

    con = ibis.duckdb.connect()
    credit = con.read_parquet(folder / "credit.parquet", table_name="credit")
    units = con.read_parquet(folder / "units.parquet", table_name="units")
    return credit.join(units, "institution_id").select("work_id", "unit_id", "share")


def measure_floor(folder: Path) -> dict[str, Any]:
    rows = _ibis_rows(folder)
    start, cpu = time.perf_counter(), _usage()["cpu_s"]
    out = rows.group_by("unit_id").agg(share=rows.share.sum()).to_pyarrow()
    wall = time.perf_counter() - start
    return {"wall_s": wall, "cpu_used_s": _usage()["cpu_s"] - cpu, "entities": out.num_rows}


def measure_bootstrap(folder: Path, resamples: int) -> dict[str, Any]:
    from sciencecities.measure.intervals import bootstrap

    rows = _ibis_rows(folder)
    start, cpu = time.perf_counter(), _usage()["cpu_s"]
    out = bootstrap(rows, "unit_id", resamples, seed=0).to_pyarrow()
    wall = time.perf_counter() - start
    return {"wall_s": wall, "cpu_used_s": _usage()["cpu_s"] - cpu, "entities": out.num_rows}


def measure_spark(folder: Path, resamples: int) -> dict[str, Any]:
    """`bootstrap` on a local Spark (all cores) through Ibis; peak RSS adds the JVM's high-water mark."""
    import ibis
    from pyspark.sql import SparkSession

    from sciencecities.measure.intervals import bootstrap

    session = (
        SparkSession.builder.master(f"local[{os.cpu_count()}]")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.memory", "12g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    con = ibis.pyspark.connect(session)
    credit = con.read_parquet(folder / "credit.parquet", table_name="credit")
    units = con.read_parquet(folder / "units.parquet", table_name="units")
    rows = credit.join(units, "institution_id").select("work_id", "unit_id", "share")
    start, cpu = time.perf_counter(), _usage()["cpu_s"]
    out = bootstrap(rows, "unit_id", resamples, seed=0).to_pyarrow()
    wall = time.perf_counter() - start
    jvm = session.sparkContext._gateway.proc.pid  # type: ignore[union-attr]
    status = Path(f"/proc/{jvm}/status").read_text()
    jvm_peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    times = Path(f"/proc/{jvm}/stat").read_text().rsplit(")", 1)[1].split()
    jvm_cpu = (int(times[11]) + int(times[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime of the JVM
    session.stop()
    usage = _usage()
    return {
        "wall_s": wall,
        "cpu_used_s": usage["cpu_s"] - cpu + jvm_cpu,
        "entities": out.num_rows,
        "peak_rss_mib": usage["peak_rss_mib"] + jvm_peak / 1024,
    }


def measure_numpy(folder: Path, resamples: int) -> dict[str, Any]:
    """The naive peer: per resample, Poisson weights per work and a bincount per city."""
    start, cpu = time.perf_counter(), _usage()["cpu_s"]
    credit = pq.read_table(folder / "credit.parquet", columns=["work_id", "institution_id", "share"])
    units = pq.read_table(folder / "units.parquet")
    city_of = dict(zip(units["institution_id"].to_pylist(), units["unit_id"].to_pylist(), strict=True))
    institutions = credit["institution_id"].combine_chunks().dictionary_encode()
    city_names = np.array([city_of[i] for i in institutions.dictionary.to_pylist()])
    cities, city_code = np.unique(city_names, return_inverse=True)
    work = credit["work_id"].combine_chunks().dictionary_encode().indices.to_numpy()
    city = city_code[institutions.indices.to_numpy()]
    pair, where = np.unique(work.astype(np.int64) * cities.size + city, return_inverse=True)  # dedup-first
    share = np.bincount(where, weights=credit["share"].to_numpy())
    pair_work, pair_city = pair // cities.size, pair % cities.size
    prepared = time.perf_counter()
    rng = np.random.default_rng(0)
    shares = np.empty((resamples, cities.size))
    for b in range(resamples):
        weight = rng.poisson(1.0, size=pair_work.max() + 1)
        shares[b] = np.bincount(pair_city, weights=share * weight[pair_work], minlength=cities.size)
    # ranks per resample, ties sharing the best rank (by Share only), then the percentiles per city
    order = np.sort(shares, axis=1)[:, ::-1]
    ranks = np.stack([np.searchsorted(-order[b], -shares[b], side="left") + 1 for b in range(resamples)])
    np.percentile(shares, [2.5, 97.5], axis=0)
    np.percentile(ranks, [2.5, 97.5], axis=0)
    end = time.perf_counter()
    return {
        "wall_s": end - start,
        "prepare_s": prepared - start,
        "resamples_s": end - prepared,
        "cpu_used_s": _usage()["cpu_s"] - cpu,
        "entities": int(cities.size),
    }


def _child(folder: Path, what: str, resamples: int) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its peak RSS is its own."""
    command = [
        sys.executable,
        __file__,
        "--data",
        str(folder),
        "--measure",
        what,
        "--resamples",
        str(resamples),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _machine() -> str:
    import duckdb
    import ibis

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    load = os.getloadavg()[0]
    try:
        import pyspark

        spark = f", pyspark {pyspark.__version__}"
    except ImportError:
        spark = ""
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory:.1f} GiB RAM, load {load:.2f} at start; Python "
        f"{platform.python_version()}, duckdb {duckdb.__version__}, ibis-framework {ibis.__version__}, numpy "
        f"{np.__version__}, pyarrow {pa.__version__}{spark}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument(
        "--resamples", default="100,1000", help="bootstrap resamples to time, comma-separated"
    )
    parser.add_argument("--naive-resamples", type=int, default=100)
    parser.add_argument(
        "--spark", default="", help="also time bootstrap on local Spark for these resamples (needs pyspark)"
    )
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--data", type=Path, default=None, help="folder for the generated Parquet (kept)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measures = {
            "floor": measure_floor,
            "bootstrap": measure_bootstrap,
            "numpy": measure_numpy,
            "spark": measure_spark,
        }
        extra = () if args.measure == "floor" else (int(args.resamples),)
        result = measures[args.measure](args.data, *extra)
        print(json.dumps(_usage() | result))
        return
    folder = args.data or Path(f"/tmp/sciencecities-bench-intervals-{args.rows}-{args.seed}")
    if not (folder / "shape.json").exists():
        start = time.perf_counter()
        generate(folder, args.rows, args.seed)
        print(f"generated {folder} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    shape = json.loads((folder / "shape.json").read_text())
    print(f"Machine: {_machine()}")
    print(f"Data: synthetic credit, {shape['rows']:,} rows, {shape['works']:,} works, seed {args.seed}\n")
    print("| row | resamples | wall s | CPU s | peak RSS MiB | entities |")
    print("|---|--:|--:|--:|--:|--:|")

    def show(name: str, resamples: str, r: dict[str, Any]) -> None:
        print(
            f"| {name} | {resamples} | {r['wall_s']:.2f} | {r['cpu_used_s']:.1f} | {r['peak_rss_mib']:,.0f} | "
            f"{r['entities']:,} |",
            flush=True,
        )

    show("floor: DuckDB scan, Share per city", "-", _child(folder, "floor", 0))
    for b in (int(x) for x in args.resamples.split(",")):
        show("`bootstrap` on DuckDB (Ibis)", f"{b:,}", _child(folder, "bootstrap", b))
    for b in (int(x) for x in args.spark.split(",") if x):
        show("`bootstrap` on Spark, local (Ibis)", f"{b:,}", _child(folder, "spark", b))
    naive = _child(folder, "numpy", args.naive_resamples)
    show("naive peer: NumPy", f"{args.naive_resamples:,}", naive)
    per = naive["resamples_s"] / args.naive_resamples
    print(
        f"\nNaive peer: preparation {naive['prepare_s']:.1f} s, then {per * 1000:.0f} ms per resample; "
        f"extrapolated to 1,000 resamples: {naive['prepare_s'] + 1000 * per:.0f} s (not measured)."
    )


if __name__ == "__main__":
    main()
