"""Benchmark: latency of the web API under 50 concurrent clients on loopback (`sciencecities serve` on the demo
store), p50 and p95 per row.

The server runs as its own process (the real `serve` command, uvicorn, one worker); the clients are threads of
this process, each with one keep-alive HTTP/1.1 connection, sending its requests one after another. Rows:

- floor: a static file of the dashboard (`/static/app.css`, 5 kB), the least a request costs;
- ranking, cached: `/api/rankings` over a mix of 16 queries (levels, years, subjects, countries, pages, sorts),
  each computed once in a warm-up, so what is timed is the cache lookup, the filter, sort and page, and JSON;
- naive peer, uncached: the same mix on a server started with `--cache-size 0`, so every request runs
  `sciencecities.rank` (DuckDB through Ibis) again, as a web layer without a cache would.

Every loop is bounded by a count and by time, and sends traffic only to 127.0.0.1.

    python benchmarks/web.py                     # 2,000 requests per cached row, 200 uncached (about 2 minutes)
    python benchmarks/web.py --requests 500 --uncached 100
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

CLIENTS = 50
MIX = [
    "/api/rankings?level=city",
    "/api/rankings?level=city&page=2",
    "/api/rankings?level=city&sort=count",
    "/api/rankings?level=city&country=US",
    "/api/rankings?level=city&country=CN,DE&sort=share&order=asc",
    "/api/rankings?level=city&years=2012-2021",
    "/api/rankings?level=city&year=2020",
    "/api/rankings?level=city&subject=health",
    "/api/rankings?level=city&boundaries=clusters",
    "/api/rankings?level=city&q=san",
    "/api/rankings?level=institution",
    "/api/rankings?level=institution&per_page=100&page=2",
    "/api/rankings?level=country",
    "/api/rankings?level=country&year=2020",
    "/api/rankings?level=group",
    "/api/rankings?level=city&edition=all-articles",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(store: Path, cache_size: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start `sciencecities serve` on a free loopback port and wait until it answers."""
    port = free_port()
    command = [sys.executable, "-m", "sciencecities", "serve", "--store", str(store), "--port", str(port)]
    process = subprocess.Popen([*command, "--cache-size", str(cache_size)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=5).read()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the server did not start within 60 s")


def load(port: int, paths: list[str], requests: int, seconds: float) -> dict[str, float]:
    """`requests` GETs cycling through `paths` from CLIENTS threads (each a keep-alive connection), stopping early
    after `seconds`; latencies in ms."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    counter = iter(range(requests))
    stop = time.monotonic() + seconds

    def client() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine: list[float] = []
        failed = 0
        while time.monotonic() < stop:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            started = time.perf_counter()
            try:
                connection.request("GET", paths[n % len(paths)])
                response = connection.getresponse()
                response.read()
                failed += response.status != 200
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            mine.append((time.perf_counter() - started) * 1000)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors += failed

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "wall": wall,
        "rate": len(ordered) / wall,
        "p50": statistics.median(ordered),
        "p95": ordered[int(0.95 * (len(ordered) - 1))],
        "max": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per cached row")
    parser.add_argument("--uncached", type=int, default=200, help="requests of the uncached row")
    parser.add_argument("--seconds", type=float, default=120, help="time limit of each row")
    args = parser.parse_args()

    from sciencecities import __version__, build_demo_store

    with tempfile.TemporaryDirectory(prefix="sciencecities-bench-web-") as folder:
        store = Path(folder) / "store"
        started = time.perf_counter()
        build_demo_store(store)
        print(f"demo store built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        rows = []
        cached, port = serve(store, 256)
        try:
            load(port, MIX + ["/static/app.css"], len(MIX) + 1, args.seconds)  # warm-up: every query once
            rows.append(
                (
                    "floor: static file `/static/app.css`",
                    load(port, ["/static/app.css"], args.requests, args.seconds),
                )
            )
            rows.append(
                ("`/api/rankings`, cached (16-query mix)", load(port, MIX, args.requests, args.seconds))
            )
        finally:
            cached.terminate()
            cached.wait(timeout=30)
        uncached, port = serve(store, 0)
        try:
            load(port, MIX[:1], 1, args.seconds)  # imports and the first connection, not timed
            rows.append(
                ("naive peer: `/api/rankings`, no cache", load(port, MIX, args.uncached, args.seconds))
            )
        finally:
            uncached.terminate()
            uncached.wait(timeout=30)

    print(
        f"sciencecities {__version__}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end; {CLIENTS} concurrent clients on 127.0.0.1\n"
    )
    print("| row | requests | errors | wall s | req/s | p50 ms | p95 ms | max ms |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|")
    for name, r in rows:
        print(
            f"| {name} | {r['requests']:,} | {r['errors']} | {r['wall']:.1f} | {r['rate']:,.0f} | "
            f"{r['p50']:.1f} | {r['p95']:.1f} | {r['max']:.1f} |"
        )


if __name__ == "__main__":
    main()
