"""The static report: self-contained, offline, and every number in it equal to the API's."""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sciencecities import Store, rank
from sciencecities.present.report import build_report

EDITION = "all-articles"
YEAR = 2023


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [value for name, value in attrs if name in ("src", "href") and value]


@pytest.fixture(scope="module")
def report(demo: Store, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("report")
    return out, build_report(demo, out, year=YEAR, edition=EDITION, top=10, resamples=200, seed=4)


def test_the_page_links_only_files_beside_it(report: tuple[Path, object]) -> None:
    out, _ = report
    page = (out / "index.html").read_text()
    parser = _Links()
    parser.feed(page)
    local = [link for link in parser.links if not link.startswith("#")]
    assert local and not [link for link in local if re.match(r"[a-z]+://", link)]
    for link in local:
        assert (out / link).is_file(), link
    images = [link for link in local if link.endswith(".png")]
    assert len(images) >= 3
    for image in images:
        assert (out / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tables_equal_the_rankings(demo: Store, report: tuple[Path, object]) -> None:
    out, _ = report
    with (out / "tables" / "cities.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    want = [
        r
        for r in rank(demo, level="city", years=(YEAR, YEAR), edition=EDITION).table.to_pylist()
        if r["rank"] <= 10
    ]
    assert [(r["id"], int(r["count"])) for r in rows] == [(r["id"], r["count"]) for r in want]
    assert [float(r["share"]) for r in rows] == pytest.approx([r["share"] for r in want], abs=1e-12)
    page = (out / "index.html").read_text()
    assert want[0]["name"] in page and f"{want[0]['share']:,.3f}" in page


def test_tables_carry_the_rankings_intervals(demo: Store, report: tuple[Path, object]) -> None:
    out, _ = report
    want = rank(demo, level="country", years=(YEAR, YEAR), edition=EDITION, intervals=True, resamples=200, seed=4)
    with (out / "tables" / "countries.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    expected = {r["id"]: r for r in want.table.to_pylist()}
    for row in rows:
        assert (int(row["rank_lo"]), int(row["rank_hi"])) == (
            expected[row["id"]]["rank_lo"],
            expected[row["id"]]["rank_hi"],
        )
        assert float(row["share_lo"]) <= float(row["share"]) <= float(row["share_hi"])
    page = (out / "index.html").read_text()
    assert "rank_lo" in page and "200 bootstrap resamples" in page


def test_method_highlights_and_workbook(demo: Store, report: tuple[Path, object]) -> None:
    from openpyxl import load_workbook

    out, result = report
    page = (out / "index.html").read_text()
    geography = demo.manifest()["builds"][EDITION]["geography"]
    assert f"{geography['placed_fraction']:.1%}" in page
    assert "Method and coverage" in page and "boundaries" in page and "records in quarantine" in page
    facts = json.loads((out / "highlights.json").read_text())
    assert facts["facts"], "2023 vs 2022 has moves in the sample"
    for fact in facts["facts"][:5]:
        assert fact["text"].replace("'", "&#39;") in page or fact["text"] in page
    sheets = load_workbook(out / "report.xlsx").sheetnames
    assert {"cities", "countries", "subjects", "about"} <= set(sheets)
    assert result.year == YEAR  # type: ignore[attr-defined]
