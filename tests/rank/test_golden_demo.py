"""Golden rankings of the demo corpus; change them only with `pytest --snapshot-update`, never by hand."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from sciencecities import Store, rank

GOLDEN = Path(__file__).parent.parent / "golden"


def _rows(store: Store, level: str, edition: str) -> list[list[str]]:
    table = rank(store, level=level, top=10, edition=edition).table.to_pylist()
    return [[str(r["rank"]), r["id"], r["name"], str(r["count"]), f"{r['share']:.9f}"] for r in table]


@pytest.mark.parametrize("edition", ["all-articles", "nature-index"])
@pytest.mark.parametrize("level", ["city", "country", "institution"])
def test_demo_top10(demo: Store, level: str, edition: str, request: pytest.FixtureRequest) -> None:
    suffix = "" if edition == "all-articles" else f"_{edition}"
    path = GOLDEN / f"demo_top10_{level}{suffix}.csv"
    got = _rows(demo, level, edition)
    if request.config.getoption("--snapshot-update"):
        with path.open("w", newline="") as handle:
            csv.writer(handle).writerows([["rank", "id", "name", "count", "share"], *got])
    with path.open(newline="") as handle:
        want = list(csv.reader(handle))[1:]
    assert got == want
