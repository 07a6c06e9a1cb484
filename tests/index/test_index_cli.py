"""`sciencecities index` as a user runs it on a copy of the demo store, and the built index in the web API
(a real server on loopback) and in the report."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from conftest import cli
from sciencecities import Store
from sciencecities.index import load_index
from sciencecities.present.report import build_report
from web.live import Server, start

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def store(demo: Store, tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A copy of the demo store: building an index writes into the store."""
    root = tmp_path_factory.mktemp("index") / "store"
    shutil.copytree(demo.root, root)
    return Store(root)


@pytest.fixture(scope="module")
def built(store: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("index-out") / "out"
    done = cli(
        "index",
        "build",
        "innovation-hubs",
        "--store",
        str(store.root),
        "--out",
        str(out),
        "--samples",
        "40",
        "--sobol",
        "16",
        "--seed",
        "3",
    )
    assert done.returncode == 0, done.stderr
    return out, done.stdout, done.stderr


def test_explain_before_build_says_how(store: Store, tmp_path: Path) -> None:
    empty = tmp_path / "store"
    shutil.copytree(store.root, empty, ignore=shutil.ignore_patterns("index"))
    done = cli("index", "explain", "Boston", "--store", str(empty))
    assert done.returncode == 1
    assert "no index is built" in done.stderr and "sciencecities index build" in done.stderr


def test_build_prints_ranks_intervals_and_sensitivity(built: tuple[Path, str, str], store: Store) -> None:
    out, stdout, stderr = built
    assert "Boston metropolitan area" in stdout and "rank 5-95%" in stdout
    assert "Sobol sensitivity" in stdout and "aggregation" in stdout
    assert "ILLUSTRATIVE" in stderr and "40 Monte Carlo samples (seed 3)" in stderr
    with (out / "scores.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    kept = load_index(store, "innovation-hubs")
    assert len(rows) == len(kept.scores) == kept.manifest["units_scored"]
    assert [r["id"] for r in rows] == kept.scores["id"].tolist()
    assert all(r["tier_label"] and int(r["rank_lo"]) <= int(r["rank_hi"]) for r in rows)
    with (out / "sensitivity.csv").open() as handle:
        assert {r["factor"] for r in csv.DictReader(handle)} == {"weights", "normalisation", "aggregation"}
    meta = json.loads((out / "meta.json").read_text())
    assert meta["uncertainty"]["seed"] == 3 and meta["steps"]["uncertainty"]["sobol"] == 16
    for chart in ("scores.svg", "scores.html", "decomposition.svg", "decomposition.html"):
        assert (out / "charts" / chart).stat().st_size > 1000
    assert "<svg" in (out / "charts" / "scores.svg").read_text()


def test_build_again_with_the_same_seed_is_identical(
    built: tuple[Path, str, str], store: Store, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    done = cli(
        "index",
        "build",
        "innovation-hubs",
        "--store",
        str(store.root),
        "--out",
        str(out),
        "--format",
        "xlsx",
        "--samples",
        "40",
        "--sobol",
        "16",
        "--seed",
        "3",
    )
    assert done.returncode == 0, done.stderr
    book = openpyxl.load_workbook(out / "index.xlsx", read_only=True)
    sheet = list(book["scores"].iter_rows(values_only=True))
    with (built[0] / "scores.csv").open() as handle:
        first = list(csv.reader(handle))
    assert [list(map(str, r[:2])) for r in sheet[1:]] == [r[:2] for r in first[1:]]
    header = first[0]
    lo, hi = header.index("rank_lo"), header.index("rank_hi")
    assert [(r[lo], r[hi]) for r in sheet[1:]] == [(int(r[lo]), int(r[hi])) for r in first[1:]]


def test_explain(built: tuple[Path, str, str], store: Store, tmp_path: Path) -> None:
    done = cli(
        "index", "explain", "Boston", "--store", str(store.root), "--chart", str(tmp_path / "boston.svg")
    )
    assert done.returncode == 0, done.stderr
    assert "Boston metropolitan area (us-csa-148): rank" in done.stdout
    assert "Innovative talent" in done.stdout and "Share per million inhabitants" in done.stdout
    assert (tmp_path / "boston.svg").read_text().startswith("<svg")
    as_json = cli("index", "explain", "us-csa-148", "--store", str(store.root), "--format", "json")
    payload = json.loads(as_json.stdout)
    parts = payload["data"]
    indicators = [p for p in parts if p["level"] == "indicator"]
    assert sum(p["contribution"] for p in indicators) == pytest.approx(payload["meta"]["unit"]["score"])
    unknown = cli("index", "explain", "Atlantis", "--store", str(store.root))
    assert unknown.returncode == 2 and "Atlantis" in unknown.stderr


def test_bad_framework_is_one_clear_line(tmp_path: Path, store: Store) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndimensions: []\n")
    done = cli("index", "build", str(bad), "--store", str(store.root))
    assert done.returncode == 2
    assert "bad.yaml is not a valid framework" in done.stderr and "dimensions" in done.stderr


def test_web_api(built: tuple[Path, str, str], store: Store, tmp_path: Path) -> None:
    running, thread, url = start(store)
    try:
        reply = Server(url, store).get("/api/index")
        assert reply.status == 200
        body = reply.json()
        kept = load_index(store)
        assert body["framework"] == "innovation-hubs" and body["count"] == len(kept.scores)
        assert [r["id"] for r in body["data"]] == kept.scores["id"].tolist()
        assert body["manifest"]["uncertainty"]["seed"] == 3
        missing = Server(url, store).get("/api/index?framework=nothing-here")
        assert missing.status == 404 and "no index 'nothing-here'" in missing.json()["error"]
    finally:
        running.should_exit = True
        thread.join(timeout=10)
    empty = Store(tmp_path / "store")
    shutil.copytree(store.root, empty.root, ignore=shutil.ignore_patterns("index"))
    running, thread, url = start(empty)
    try:
        reply = Server(url, empty).get("/api/index")
        assert reply.status == 404 and reply.json()["hint"].startswith("build one")
    finally:
        running.should_exit = True
        thread.join(timeout=10)


def test_report_shows_the_index_only_when_built(
    built: tuple[Path, str, str], store: Store, tmp_path: Path
) -> None:
    with_index = build_report(store, tmp_path / "with", resamples=None, top=5)
    page = with_index.index.read_text()
    assert "Composite index: Innovation hubs" in page and "ILLUSTRATIVE" in page
    assert (tmp_path / "with" / "tables" / "index.csv").exists()
    assert (tmp_path / "with" / "charts" / "index.svg").exists()
    empty = Store(tmp_path / "store")
    shutil.copytree(store.root, empty.root, ignore=shutil.ignore_patterns("index"))
    without = build_report(empty, tmp_path / "without", resamples=None, top=5)
    assert "Composite index" not in without.index.read_text()
