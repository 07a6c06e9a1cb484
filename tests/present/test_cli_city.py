"""`sciencecities city NAME` as a user runs it."""

from __future__ import annotations

import json

import pytest

from conftest import cli
from sciencecities import Store

pytestmark = pytest.mark.slow

EDITION = "nature-index"


def test_city_verb_json(demo: Store) -> None:
    result = cli("city", "Boston", "--store", str(demo.root), "--years", "2015-2024", "--format", "json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["summary"]["id"] == "us-csa-148" and payload["meta"]["edition"] == EDITION
    assert {"by_year", "subjects", "institutions"} <= set(payload)
    table = cli("city", "Hefei", "--store", str(demo.root))
    assert table.returncode == 0 and "Hefei (cn-anhui-hefei)" in table.stdout


def test_city_and_audit_as_xlsx_workbooks(demo: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    path = tmp_path / "boston.xlsx"
    result = cli("city", "Boston", "--store", str(demo.root), "--years", "2015-2024", "--format", "xlsx",
                 "--out", str(path))
    assert result.returncode == 0, result.stderr
    book = load_workbook(path)
    assert book.sheetnames == ["summary", "by_year", "subjects", "institutions", "collaborators", "about"]
    about = {row[0]: row[1] for row in book["about"].iter_rows(min_row=2, values_only=True)}
    built = demo.manifest()["builds"][EDITION]
    assert about["edition"] == EDITION and about["boundaries"] == "metro"
    assert about["coverage.eligible_articles"] == built["rows"]["eligible_works"]
    assert about["coverage.placed_share_fraction"] == built["geography"]["placed_fraction"]
    audit = tmp_path / "audit.xlsx"
    result = cli("audit", "--store", str(demo.root), "--format", "xlsx", "--out", str(audit))
    assert result.returncode == 0, result.stderr
    sheets = load_workbook(audit).sheetnames
    assert {"skipped_works", "places_by_source", "institutions_without_place", "about"} <= set(sheets)


def test_city_as_csv_files_and_audit_as_parquet_files_read_back(demo: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv

    import pyarrow.parquet as pq

    from sciencecities.rank.profile import city_profile

    folder = tmp_path / "boston"
    result = cli("city", "Boston", "--store", str(demo.root), "--years", "2015-2024", "--format", "csv",
                 "--out", str(folder))
    assert result.returncode == 0, result.stderr
    profile = city_profile(demo, "Boston", years=(2015, 2024), edition=EDITION)
    with (folder / "institutions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == profile.institutions["id"].to_pylist()
    assert json.loads((folder / "meta.json").read_text())["city"] == "us-csa-148"
    audit = tmp_path / "audit"
    result = cli("audit", "--store", str(demo.root), "--format", "parquet", "--out", str(audit))
    assert result.returncode == 0, result.stderr
    places = pq.read_table(audit / "places_by_source.parquet").to_pylist()
    assert sum(r["institutions"] for r in places) == demo.read("institutions").num_rows


def test_chart_verb_draws_each_kind(demo: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = ["--store", str(demo.root), "--edition", "all-articles", "--years", "2015-2024"]
    for kind, suffix in (("top", "png"), ("bump", "svg"), ("map", "png"), ("network", "png")):
        path = tmp_path / f"{kind}.{suffix}"
        result = cli("chart", kind, *store, "--out", str(path))
        assert result.returncode == 0, result.stderr
        assert path.stat().st_size > 1000
    assert (tmp_path / "top.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "bump.svg").read_bytes()[:500]
    subjects = cli("chart", "subjects", "--store", str(demo.root), "--out", str(tmp_path / "s.png"))
    assert subjects.returncode == 2 and "--city" in subjects.stderr
    bad = cli("chart", "top", "--store", str(demo.root), "--out", str(tmp_path / "x.gif"))
    assert bad.returncode == 2 and ".png" in bad.stderr
