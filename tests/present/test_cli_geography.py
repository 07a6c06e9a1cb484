"""The geography verbs as a user runs them: rank --level city|group, ingest ror, build flags, audit, locate;
on the session's demo store (read only, or copied before a change)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from conftest import cli
from sciencecities import Store, rank
from sciencecities.rank.ranking import CITY_COLUMNS

pytestmark = pytest.mark.slow

ROR = Path(__file__).parent.parent / "normalise" / "data" / "ror" / "ror_v2_search_response_20_records.json"


def test_city_ranking_csv_matches_the_api_for_each_boundary_set(demo: Store) -> None:
    root = demo.root
    for boundaries in ("metro", "clusters"):
        result = cli("rank", "--store", str(root), "--level", "city", "--boundaries", boundaries, "--format", "csv")
        assert result.returncode == 0, result.stderr
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert list(rows[0]) == list(CITY_COLUMNS)
        api = rank(Store(root), level="city", boundaries=boundaries).table.to_pylist()
        assert [(r["id"], int(r["count"])) for r in rows] == [(r["id"], r["count"]) for r in api]


def test_group_trend_and_city_json_meta(demo: Store, tmp_path: Path) -> None:
    root = demo.root
    out = tmp_path / "cities.json"
    result = cli("rank", "--store", str(root), "--level", "city", "--boundaries", "city", "--top", "3",
                 "--format", "json", "--out", str(out))
    assert result.returncode == 0, result.stderr
    meta = json.loads(out.read_text())["meta"]
    assert meta["level"] == "city" and meta["boundaries"] == "city"
    trend = cli("trend", "--store", str(root), "--level", "group", "--id", "china-mainland", "--format", "csv")
    assert trend.returncode == 0, trend.stderr
    rows = list(csv.DictReader(io.StringIO(trend.stdout)))
    assert rows and {r["id"] for r in rows} == {"china-mainland"}


def test_a_users_boundary_file_is_built_on_demand_keeping_the_build_options(
    demo: Store, tmp_path: Path
) -> None:
    root = demo.root
    store = tmp_path / "store"
    shutil.copytree(root, store)
    built = cli("build", "--store", str(store), "--count-unaffiliated")
    assert built.returncode == 0, built.stderr
    assert "placed" in built.stderr and "of the Share in science cities" in built.stderr
    mine = tmp_path / "towns.yaml"
    mine.write_text("name: towns\nversion: 1\ntitle: every place alone\nrules:\n  - rule: place\n")
    result = cli("rank", "--store", str(store), "--level", "city", "--boundaries", str(mine), "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert "boundary set towns is not built" in result.stderr
    options = Store(store).manifest()["builds"]["nature-index"]["options"]
    assert options["count_unaffiliated"] is True and options["boundaries"] == str(mine)


def test_ingest_ror_then_audit_shows_places_by_source(demo: Store, tmp_path: Path) -> None:
    root = demo.root
    store = tmp_path / "store"
    shutil.copytree(root, store)
    result = cli("ingest", "ror", str(ROR), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert "20 records taken" in result.stderr and "builds are reset" in result.stderr
    audit = cli("audit", "--store", str(store), "--edition", "all-articles", "--format", "json")
    assert audit.returncode == 0, audit.stderr
    report = json.loads(audit.stdout)
    assert report["totals"]["built"] is False  # reset by the ingest
    cli("build", "--store", str(store), "--edition", "all-articles")
    report = json.loads(cli("audit", "--store", str(store), "--edition", "all-articles", "--format", "json").stdout)
    sources = {r["source"] for r in report["places_by_source"]}
    assert {"openalex", "ror", "parsed"} <= sources
    bad = tmp_path / "bad.json"
    bad.write_text("this is not json")
    failed = cli("ingest", "ror", str(bad), "--store", str(store))
    assert failed.returncode == 2 and "bad.json" in failed.stderr


def test_locate_a_coordinate_and_an_institution(demo: Store) -> None:
    root = demo.root
    sydney = cli("locate", "-33.87", "151.21", "--format", "json")
    assert sydney.returncode == 0, sydney.stderr
    data = json.loads(sydney.stdout)["data"][0]
    assert (data["place_name"], data["country_code"], data["group_ids"]) == ("Sydney", "AU", ["oceania"])
    hefei = cli("locate", "31.82", "117.23")
    assert hefei.returncode == 0 and "Hefei (cn-anhui-hefei)" in hefei.stdout
    assert "Yangtze River Delta" in hefei.stdout and "China prefecture" in hefei.stdout
    harvard = cli("locate", "--institution", "I136199984", "--store", str(root))
    assert harvard.returncode == 0, harvard.stderr
    assert "Boston metropolitan area (us-csa-148)" in harvard.stdout and "openalex" in harvard.stdout
    bad = cli("locate", "95", "10")
    assert bad.returncode == 2 and "latitude 95" in bad.stderr
    clusters = cli("locate", "48.26", "11.67", "--boundaries", "clusters")
    assert clusters.returncode == 1 and "--institution" in clusters.stderr
