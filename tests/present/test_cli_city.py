"""`sciencecities city NAME` as a user runs it."""

from __future__ import annotations

import json

import pytest
from test_cli import cli

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
