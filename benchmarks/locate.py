"""Benchmark `locate`: load time once, then per-call latency beside a floor and a naive peer (DESIGN §9).

Run: python benchmarks/locate.py [--calls N] [--seed S]

Two seeded workloads of N points each:
- land-ish: GeoNames places (drawn uniformly from the shipped gazetteer) moved by up to 20 km in a random
  direction, like the campuses institutions sit on;
- anywhere: uniform on the sphere, so about 70% open ocean, where no place lies within 30 km.
Rows: the floor is the bare `Gazetteer.nearest` call that every locate makes; `Locator.locate` adds the
boundary set, country name and groups; the module-level `locate` adds its cached-Locator lookup; the naive
peer finds the plain nearest place by a NumPy haversine scan over all gazetteer places (no reach or pull, no
boundaries), i.e. what one would write without a spatial index. One untimed pass of the floor over both
workloads first warms the gazetteer's Place cache, so the order of the rows does not favour the later ones.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

EARTH_RADIUS_KM = 6371.0088
TARGET_MS = 50.0


def land_ish(rng: np.random.Generator, n: int, latitudes: np.ndarray, longitudes: np.ndarray) -> np.ndarray:
    """Random gazetteer places moved up to 20 km in a random direction (small-offset approximation)."""
    rows = rng.integers(0, len(latitudes), n)
    distance = rng.uniform(0, 20, n) / EARTH_RADIUS_KM
    bearing = rng.uniform(0, 2 * np.pi, n)
    lat = np.radians(latitudes[rows])
    lon = np.radians(longitudes[rows])
    lat2 = np.arcsin(np.sin(lat) * np.cos(distance) + np.cos(lat) * np.sin(distance) * np.cos(bearing))
    lon2 = lon + np.arctan2(
        np.sin(bearing) * np.sin(distance) * np.cos(lat), np.cos(distance) - np.sin(lat) * np.sin(lat2)
    )
    lon2 = (lon2 + np.pi) % (2 * np.pi) - np.pi
    return np.column_stack([np.degrees(lat2), np.degrees(lon2)])


def anywhere(rng: np.random.Generator, n: int) -> np.ndarray:
    """Points uniform on the sphere (latitude from arcsin of a uniform sine)."""
    return np.column_stack([np.degrees(np.arcsin(rng.uniform(-1, 1, n))), rng.uniform(-180, 180, n)])


def naive_peer(latitudes: np.ndarray, longitudes: np.ndarray) -> Callable[[float, float], tuple[int, float]]:
    """The plain nearest place by a linear haversine scan with NumPy over all places."""
    lat_r, lon_r = np.radians(latitudes), np.radians(longitudes)
    cos_lat = np.cos(lat_r)

    def nearest(latitude: float, longitude: float) -> tuple[int, float]:
        p, q = math.radians(latitude), math.radians(longitude)
        a = np.sin((lat_r - p) / 2) ** 2 + math.cos(p) * cos_lat * np.sin((lon_r - q) / 2) ** 2
        row = int(np.argmin(a))
        return row, 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(float(a[row]), 1.0)))

    return nearest


def latencies(call: Callable[[float, float], object], points: np.ndarray) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call, one point at a time.

    CPU time leaves out the time the process waited for a core, so it shows the cost of a call even when other
    work shares the machine; wall time is what a caller sees.
    """
    wall, cpu = [], []
    for latitude, longitude in points.tolist():
        started, started_cpu = time.perf_counter_ns(), time.process_time_ns()
        call(latitude, longitude)
        cpu.append((time.process_time_ns() - started_cpu) / 1e6)
        wall.append((time.perf_counter_ns() - started) / 1e6)
    return wall, cpu


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def timed(loads: list[tuple[str, float]], name: str, step: Callable[[], object]) -> object:
    """Run one load step, note its seconds under `name`, and return its result."""
    started = time.perf_counter()
    result = step()
    loads.append((name, time.perf_counter() - started))
    return result


def main() -> None:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="points per workload (default 2000)")
    parser.add_argument("--seed", type=int, default=20261123, help="random seed")
    args = parser.parse_args()

    loads: list[tuple[str, float]] = []
    started = time.perf_counter()
    from sciencecities.resolve.geography import gazetteer
    from sciencecities.resolve.geography.locate import Locator, locate

    loads.append(("import the locate module", time.perf_counter() - started))
    metro = timed(loads, "Locator('metro'): gazetteer, world index, metro set, groups", Locator)
    city = timed(loads, "Locator('city'), gazetteer already loaded", lambda: Locator("city"))
    assert isinstance(metro, Locator) and isinstance(city, Locator)
    timed(loads, "first locate with country DE (builds the DE index)", lambda: metro.locate(48.3, 11.7, "DE"))
    timed(
        loads, "first locate with country US (builds the US index)", lambda: metro.locate(40.0, -100.0, "US")
    )

    folder = Path(str(resources.files("sciencecities") / "data" / "geo"))
    places = pq.read_table(folder / "places.parquet", columns=["latitude", "longitude"])
    latitudes = places.column("latitude").to_numpy().astype(np.float64)
    longitudes = places.column("longitude").to_numpy().astype(np.float64)
    rng = np.random.default_rng(args.seed)
    workloads = {
        "land-ish": land_ish(rng, args.calls, latitudes, longitudes),
        "anywhere": anywhere(rng, args.calls),
    }
    world = gazetteer.load()
    subjects: list[tuple[str, Callable[[float, float], object]]] = [
        ("floor: Gazetteer.nearest (BallTree)", world.nearest),
        ("Locator('metro').locate", metro.locate),
        ("Locator('city').locate", city.locate),
        ("locate(...) module function, metro", lambda lat, lon: locate(lat, lon)),
        (f"naive peer: NumPy haversine scan, {len(latitudes):,} places", naive_peer(latitudes, longitudes)),
    ]
    for points in workloads.values():  # untimed warm-up of the gazetteer's Place cache, equal for every row
        latencies(world.nearest, points)

    print(f"Load (once per process), seconds; {len(world):,} gazetteer places")
    print("| step | s |\n|---|---:|")
    for name, seconds in loads:
        print(f"| {name} | {seconds:.3f} |")
    print(f"\nPer call, ms; {args.calls} points per workload, seed {args.seed}; target < {TARGET_MS:g} ms")
    print(
        f"| {'what':<50} | {'workload':<9} | {'calls':>5} | {'mean':>7} | {'p50':>7} | {'p95':>7} | "
        f"{'max':>8} | {'cpu p95':>7} | {'cpu max':>7} |"
    )
    print(f"|{'-' * 52}|{'-' * 11}|{'-' * 6}:|" + f"{'-' * 8}:|" * 3 + f"{'-' * 9}:|" + f"{'-' * 8}:|" * 2)
    worst = worst_cpu = 0.0
    for name, call in subjects:
        for workload, points in workloads.items():
            wall, cpu = latencies(call, points)
            print(
                f"| {name:<50} | {workload:<9} | {len(wall):>5} | {statistics.fmean(wall):>7.3f} | "
                f"{statistics.median(wall):>7.3f} | {percentile(wall, 0.95):>7.3f} | {max(wall):>8.3f} | "
                f"{percentile(cpu, 0.95):>7.3f} | {max(cpu):>7.3f} |"
            )
            if "locate" in name:
                worst, worst_cpu = max(worst, max(wall)), max(worst_cpu, max(cpu))
    verdict = "met" if worst < TARGET_MS else "missed in wall time"
    print(
        f"\nslowest locate call: {worst:.3f} ms wall, {worst_cpu:.3f} ms CPU; target < {TARGET_MS:g} ms {verdict}"
    )
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"load average at the end (1, 5, 15 min): {load} on {os.cpu_count()} CPUs; other work inflates wall max"
    )


if __name__ == "__main__":
    main()
