"""Excel exports: every cell reads back as the Arrow value, text never turns into a formula, sheet names are
valid, and the `about` sheet says how the numbers were made."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow as pa
import pytest
from rich.console import Console

from conftest import cli
from sciencecities import Store, __version__, rank
from sciencecities.errors import InputError
from sciencecities.present.export import Format, write, write_xlsx

FORMULA_LIKE = ["=1+1", "-5 km", "+49 30 1234", "@SUM(A1:A2)", '=HYPERLINK("http://x")']


def _rows(sheet: Any) -> list[tuple[Any, ...]]:
    return list(sheet.iter_rows(values_only=True))


def _about(path: Path) -> dict[str, Any]:
    rows = _rows(openpyxl.load_workbook(path)["about"])
    assert rows[0] == ("key", "value")
    return dict(rows[1:])


def _assert_exact(got: Any, want: Any) -> None:
    if want is None:
        assert got is None
    elif isinstance(want, float):
        assert isinstance(got, int | float) and got == want, (got, want)
    else:
        assert type(got) is type(want) and got == want, (got, want)


def test_every_cell_reads_back_as_the_arrow_value(tmp_path: Path) -> None:
    table = pa.table(
        {
            "rank": pa.array([1, 2, None, 4, 5, 6], pa.int64()),
            "name": ["Zürich", "北京", None, "São Paulo", "Kraków", "Ōsaka"],
            "note": ["plain", *FORMULA_LIKE],
            "share": [1 / 3, 1e-12, None, 0.1 + 0.2, 27.203914398103038, 25.0],
            "big": pa.array([2**40, -7, 0, None, 10**12, 3], pa.int64()),
            "flag": [True, False, None, True, False, True],
        }
    )
    path = tmp_path / "cells.xlsx"
    write_xlsx({"cells": table}, path, {})
    sheet = openpyxl.load_workbook(path)["cells"]
    rows = _rows(sheet)
    assert rows[0] == tuple(table.column_names)
    want = [tuple(row.values()) for row in table.to_pylist()]
    assert len(rows) - 1 == len(want)
    for got_row, want_row in zip(rows[1:], want, strict=True):
        for got, value in zip(got_row, want_row, strict=True):
            _assert_exact(got, value)


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "inject.xlsx"
    write_xlsx({"inject": pa.table({"=cmd|' /C calc'!A0": FORMULA_LIKE})}, path, {"note": "=2*3"})
    book = openpyxl.load_workbook(path)
    cells = [row[0] for row in book["inject"].iter_rows()]
    assert cells[0].value == "=cmd|' /C calc'!A0" and cells[0].data_type == "s"
    for cell, text in zip(cells[1:], FORMULA_LIKE, strict=True):
        assert cell.value == text
        assert cell.data_type == "s"
        assert cell.quotePrefix, "Excel would parse the text again when the cell is edited"
    assert _about(path)["note"] == "=2*3"
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and all("<f>" not in archive.read(n).decode() for n in sheets)


def test_values_excel_cannot_hold_are_written_as_text(tmp_path: Path) -> None:
    table = pa.table(
        {
            "x": [float("nan"), float("inf"), -float("inf")],
            "ids": [["US", "GB"], [], None],
            "name": ["bell\x07ringer", "tab\tand\nnewline", "ok"],
            "at": pa.array([datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)] * 3, pa.timestamp("s", tz="UTC")),
        }
    )
    path = tmp_path / "odd.xlsx"
    write_xlsx({"odd": table}, path, {})
    rows = _rows(openpyxl.load_workbook(path)["odd"])[1:]
    assert [r[0] for r in rows] == ["nan", "inf", "-inf"]
    assert [r[1] for r in rows] == ["US, GB", None, None]
    assert [r[2] for r in rows] == ["bell\ufffdringer", "tab\tand\nnewline", "ok"]
    assert {r[3] for r in rows} == {"2024-01-02T03:04:05+00:00"}


def test_about_sheet_lists_the_metadata_flattened(tmp_path: Path) -> None:
    meta = {
        "edition": "nature-index",
        "edition_version": 2023,
        "boundaries": None,
        "previous_years": [2015, 2019],
        "options": {"count_unaffiliated": False, "cluster": {"eps_km": 15.5, "min_share": None}},
        "coverage": {"works": 1234, "quarantined": 0},
    }
    path = tmp_path / "about.xlsx"
    before = datetime.now(UTC).replace(microsecond=0)
    write_xlsx({"ranking": pa.table({"id": ["US"]})}, path, meta)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["ranking", "about"]
    about = _about(path)
    assert about == {
        "edition": "nature-index",
        "edition_version": 2023,
        "boundaries": None,
        "previous_years": "2015, 2019",
        "options.count_unaffiliated": False,
        "options.cluster.eps_km": 15.5,
        "options.cluster.min_share": None,
        "coverage.works": 1234,
        "coverage.quarantined": 0,
        "written": about["written"],
        "sciencecities_version": __version__,
    }
    written = datetime.fromisoformat(about["written"])
    assert written.utcoffset() == timedelta(0)
    assert before <= written <= datetime.now(UTC)


def test_about_sheet_keeps_a_given_date_and_version(tmp_path: Path) -> None:
    path = tmp_path / "given.xlsx"
    write_xlsx({}, path, {"written": "2025-01-01T00:00:00+00:00", "sciencecities_version": "9.9"})
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["about"]
    assert _rows(book["about"]) == [
        ("key", "value"),
        ("written", "2025-01-01T00:00:00+00:00"),
        ("sciencecities_version", "9.9"),
    ]


def test_several_tables_get_valid_unique_sheets_in_order(tmp_path: Path) -> None:
    names = [
        "country ranking",
        "a very long table name that Excel would refuse",
        "x" * 31 + "1",
        "x" * 31 + "2",
        "bad[name]: what*/?\\",
        "about",
        "Country Ranking",
        "'quoted'",
        "y" * 30 + "'z",
        "history",
    ]
    tables = {name: pa.table({"n": [i]}) for i, name in enumerate(names)}
    path = tmp_path / "many.xlsx"
    write_xlsx(tables, path, {"edition": "nature-index"})
    book = openpyxl.load_workbook(path)
    sheets = book.sheetnames
    assert sheets == [
        "country ranking",
        "a very long table name that Exc",
        "x" * 31,
        "x" * 27 + " (2)",
        "bad_name__ what____",
        "about (2)",
        "Country Ranking (2)",
        "quoted",
        "y" * 30,
        "history (2)",
        "about",
    ]
    assert len({s.lower() for s in sheets}) == len(sheets)
    for i, sheet in enumerate(sheets[:-1]):
        assert len(sheet) <= 31 and not set(sheet) & set("[]:*?/\\")
        assert _rows(book[sheet]) == [("n",), (i,)]
    assert _about(path)["edition"] == "nature-index"


def test_empty_table_gives_only_the_header(tmp_path: Path) -> None:
    table = pa.table({"rank": pa.array([], pa.int64()), "id": pa.array([], pa.string())})
    path = tmp_path / "empty.xlsx"
    write_xlsx({"empty": table}, path, {})
    sheet = openpyxl.load_workbook(path)["empty"]
    assert _rows(sheet) == [("rank", "id")]


def test_header_is_bold_and_frozen_and_widths_fit(tmp_path: Path) -> None:
    table = pa.table({"id": ["US"], "name": ["A" * 200], "institution_name_in_full": ["x"]})
    path = tmp_path / "look.xlsx"
    write_xlsx({"look": table}, path, {})
    sheet = openpyxl.load_workbook(path)["look"]
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert not sheet["A2"].font.bold
    widths = {letter: sheet.column_dimensions[letter].width for letter in "ABC"}
    assert widths["A"] == 8
    assert widths["B"] == 60
    assert widths["C"] == len("institution_name_in_full") + 2


def test_write_xlsx_names_the_sheet_after_the_file_and_records_the_title(tmp_path: Path) -> None:
    path = tmp_path / "nature-index_country_ranking.xlsx"
    write(
        pa.table({"id": ["US"]}), Format.xlsx, path, {"edition": "nature-index"}, Console(), "country ranking"
    )
    assert openpyxl.load_workbook(path).sheetnames == ["nature-index_country_ranking", "about"]
    about = _about(path)
    assert about["edition"] == "nature-index" and about["title"] == "country ranking"


def test_xlsx_needs_an_out_file() -> None:
    with pytest.raises(InputError) as raised:
        write(pa.table({"id": ["US"]}), Format.xlsx, None, {}, Console())
    assert raised.value.message == "xlsx output needs --out FILE"
    assert raised.value.hint == "add --out ranking.xlsx"


@pytest.mark.slow
def test_cli_rank_writes_a_workbook_equal_to_the_api(demo: Store, tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    result = cli(
        "rank", "--store", str(demo.root), "--level", "country", "--format", "xlsx", "--out", str(path)
    )
    assert result.returncode == 0, result.stderr
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["r", "about"]
    expected = rank(demo, level="country").table
    rows = _rows(book["r"])
    assert rows[0] == tuple(expected.column_names)
    assert len(rows) - 1 == expected.num_rows > 10
    for got_row, want in zip(rows[1:], expected.to_pylist(), strict=True):
        for got, value in zip(got_row, want.values(), strict=True):
            _assert_exact(got, value)
    about = _about(path)
    assert about["edition"] == "nature-index"
    assert about["level"] == "country"
    assert about["sciencecities_version"] == __version__
    assert "options.count_unaffiliated" in about and "written" in about
