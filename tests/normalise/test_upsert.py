"""Upsert into the store: idempotent re-runs, newest record wins, snapshot layout with merged ids, and an
interrupted ingest that leaves the store as it was (DESIGN §9)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import work
from sciencecities import pipeline
from sciencecities.demo import sample_files
from sciencecities.pipeline import ingest_openalex
from sciencecities.store import Store
from sciencecities.tables import CANONICAL

TABLES = sorted(CANONICAL)


def write_jsonl(path: Path, records: list[dict[str, Any]], *, raw_lines: list[str] = ()) -> Path:  # type: ignore[assignment]
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in records) + "".join(t + "\n" for t in raw_lines)
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_merged(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "merge_date,id,merge_into_id\n" + "".join(f"{d},{i},{into}\n" for d, i, into in rows)
    path.write_bytes(gzip.compress(text.encode("utf-8"), mtime=0))
    return path


def content(store: Store, name: str, drop: tuple[str, ...] = ()) -> list[str]:
    """A table's rows as sorted strings (order-independent, exact values)."""
    data = store.read(name)
    keep = [c for c in data.column_names if c not in drop]
    return sorted(repr(row) for row in data.select(keep).to_pylist())


def snapshot(store: Store, drop: dict[str, tuple[str, ...]] | None = None) -> dict[str, list[str]]:
    return {name: content(store, name, (drop or {}).get(name, ())) for name in TABLES}


def works(store: Store) -> dict[str, dict[str, Any]]:
    return {r["work_id"]: r for r in store.read("works").to_pylist()}


def authorships(store: Store) -> set[tuple[str, int, str]]:
    return {
        (r["work_id"], r["author_position"], r["author_id"]) for r in store.read("authorships").to_pylist()
    }


def affiliations(store: Store) -> set[tuple[str, int, str]]:
    return {
        (r["work_id"], r["author_position"], r["institution_id"])
        for r in store.read("affiliations").to_pylist()
    }


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    """The real sample plus a small file with one bad line (so that quarantine is not empty)."""
    extra = write_jsonl(
        tmp_path / "in" / "extra.jsonl", [work(1, "2024-01-01", [["I1"]])], raw_lines=["{broken"]
    )
    return [sample_files(), extra]


# -- idempotence ---------------------------------------------------------------------------------------


def test_rerun_changes_nothing(tmp_path: Path, inputs: list[Path]) -> None:
    store = Store(tmp_path / "store")
    first = ingest_openalex(store, inputs)
    assert first.quarantined == 1
    manifest = store.manifest()
    before = snapshot(store)
    second = ingest_openalex(store, inputs)
    assert {str(f.path) for f in second.unchanged} == {f["path"] for f in first.files}
    assert len(second.unchanged) == 4
    assert second.files == [] and second.taken == 0 and second.quarantined == 0
    assert store.manifest() == manifest
    assert snapshot(store) == before


def test_forced_rerun_gives_the_same_tables(tmp_path: Path, inputs: list[Path]) -> None:
    store = Store(tmp_path / "store")
    ingest_openalex(store, inputs)
    version = store.manifest()["version"]
    before = snapshot(store, {"quarantine": ("ingest_id",)})
    report = ingest_openalex(store, inputs, force=True)
    assert report.unchanged == [] and len(report.files) == 4
    assert report.quarantined == 1
    assert store.manifest()["version"] == version + 1
    after = snapshot(store, {"quarantine": ("ingest_id",)})
    assert after == before
    assert store.read("quarantine").num_rows == 1


# -- newest record wins ----------------------------------------------------------------------------


OLD = work(1, "2024-01-01T00:00:00", [["I1", "I2"], ["I2"]], year=2019)
NEW = work(1, "2025-01-01T00:00:00", [["I3"]], year=2021)


@pytest.mark.parametrize("order", ["older then newer", "newer then older"])
def test_newest_updated_date_wins_across_ingests(tmp_path: Path, order: str) -> None:
    old = write_jsonl(tmp_path / "old.jsonl", [OLD, work(9, "2024-01-01", [["I9"]])])
    new = write_jsonl(tmp_path / "new.jsonl", [NEW])
    store = Store(tmp_path / "store")
    for path in [old, new] if order == "older then newer" else [new, old]:
        ingest_openalex(store, [path])
    got = works(store)
    assert set(got) == {"W1", "W9"}
    assert (got["W1"]["publication_year"], got["W1"]["n_authors"]) == (2021, 1)
    assert str(got["W1"]["updated_date"]).startswith("2025-01-01")
    assert authorships(store) == {("W1", 0, "A10"), ("W9", 0, "A90")}
    assert affiliations(store) == {("W1", 0, "I3"), ("W9", 0, "I9")}


@pytest.mark.parametrize("newest_line", [1, 2])
def test_newest_wins_within_one_batch(tmp_path: Path, newest_line: int) -> None:
    records = [NEW, OLD] if newest_line == 1 else [OLD, NEW]
    store = Store(tmp_path / "store")
    report = ingest_openalex(store, [write_jsonl(tmp_path / "works.jsonl", records)])
    assert report.taken == 2
    got = works(store)
    assert list(got) == ["W1"]
    assert got["W1"]["publication_year"] == 2021
    assert authorships(store) == {("W1", 0, "A10")}
    assert affiliations(store) == {("W1", 0, "I3")}


def test_newest_wins_across_two_files_of_one_batch(tmp_path: Path) -> None:
    new = write_jsonl(tmp_path / "a_new.jsonl", [NEW])
    old = write_jsonl(tmp_path / "b_old.jsonl", [OLD])  # read after the newer file
    store = Store(tmp_path / "store")
    ingest_openalex(store, [new, old])
    assert works(store)["W1"]["publication_year"] == 2021
    assert affiliations(store) == {("W1", 0, "I3")}


def test_institution_fields_do_not_depend_on_how_files_are_batched(tmp_path: Path) -> None:
    """Two embedded objects of one institution (no entity country): the newer one's country_code wins,
    whether the files come in one ingest or in two."""

    def embedding(n: int, updated: str, country: str) -> dict[str, Any]:
        record = work(n, updated, [[]])
        record["authorships"][0]["institutions"] = [
            {"id": "https://openalex.org/I7", "display_name": f"embedded {n}", "country_code": country}
        ]
        return record

    older = write_jsonl(tmp_path / "w1.jsonl", [embedding(1, "2023-01-01", "FR")])
    entity = write_jsonl(
        tmp_path / "institutions.jsonl", [{"id": "https://openalex.org/I7", "display_name": "Seven"}]
    )
    newer = write_jsonl(tmp_path / "w2.jsonl", [embedding(2, "2024-01-01", "BE")])
    one = Store(tmp_path / "one")
    ingest_openalex(one, [older, entity, newer])
    two = Store(tmp_path / "two")
    ingest_openalex(two, [older, entity])
    ingest_openalex(two, [newer])
    ((a,), (b,)) = (one.read("institutions").to_pylist(), two.read("institutions").to_pylist())
    assert (a["name"], a["country_code"]) == ("Seven", "BE")
    assert (b["name"], b["country_code"]) == ("Seven", "BE")


# -- the snapshot layout and merged ids -------------------------------------------------------------


def make_snapshot(root: Path) -> Path:
    data = root / "data"
    write_jsonl(
        data / "works" / "updated_date=2024-01-01" / "part_000.gz",
        [
            work(1, "2024-01-01", [["I1"]], year=2019),
            work(2, "2024-01-01", [["I2"]]),
            work(3, "2024-01-01", [["I3"], ["I5"]]),
        ],
    )
    write_jsonl(
        data / "works" / "updated_date=2025-01-01" / "part_000.gz",
        [
            work(1, "2025-01-01", [["I4", "I3"]], year=2021),
        ],
    )
    write_jsonl(
        data / "institutions" / "updated_date=2025-01-01" / "part_000.gz",
        [
            {
                "id": "https://openalex.org/I4",
                "display_name": "Four",
                "country_code": "NL",
                "updated_date": "2025-01-01",
            },
            {
                "id": "https://openalex.org/I3",
                "display_name": "Three",
                "country_code": "BE",
                "updated_date": "2024-01-01",
            },
        ],
    )
    write_jsonl(
        data / "authors" / "updated_date=2025-01-01" / "part_000.gz",
        [
            {"id": "https://openalex.org/A10", "display_name": "Someone"},
        ],
    )
    write_merged(data / "merged_ids" / "works" / "2025-02-01.csv.gz", [("2025-02-01", "W2", "W1")])
    write_merged(data / "merged_ids" / "institutions" / "2025-02-01.csv.gz", [("2025-02-01", "I3", "I4")])
    return data


def test_snapshot_layout(tmp_path: Path) -> None:
    data = make_snapshot(tmp_path)
    store = Store(tmp_path / "store")
    report = ingest_openalex(store, [data])
    assert [(s.path.relative_to(data.resolve()).parts[0], "authors" in s.reason) for s in report.skipped] == [
        ("authors", True)
    ]
    assert sorted(f["entity"] for f in report.files) == [
        "institutions",
        "merged_ids:institutions",
        "merged_ids:works",
        "works",
        "works",
    ]
    assert report.merged_ids == 2
    assert report.quarantined == 0
    got = works(store)
    assert set(got) == {"W1", "W3"}  # W2 was merged away
    assert got["W1"]["publication_year"] == 2021  # from the newer partition
    assert {w for w, _, _ in authorships(store)} == {"W1", "W3"}
    # I3 was merged into I4: redirected in affiliations, and one row per author x distinct institution
    assert affiliations(store) == {("W1", 0, "I4"), ("W3", 0, "I4"), ("W3", 1, "I5")}
    institutions = {r["institution_id"]: r for r in store.read("institutions").to_pylist()}
    assert "I3" not in institutions
    assert (institutions["I4"]["name"], institutions["I4"]["country_code"]) == ("Four", "NL")
    merged = {(r["entity"], r["id"], r["merge_into_id"]) for r in store.read("merged_ids").to_pylist()}
    assert merged == {("works", "W2", "W1"), ("institutions", "I3", "I4")}


def test_merged_ids_in_a_later_ingest_apply_to_stored_records(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    ingest_openalex(
        store,
        [
            write_jsonl(
                tmp_path / "works" / "part_000.gz",
                [
                    work(1, "2024-01-01", [["I1"]]),
                    work(2, "2024-01-01", [["I2", "I3"]]),
                ],
            )
        ],
    )
    report = ingest_openalex(
        store,
        [
            write_merged(
                tmp_path / "merged_ids" / "works" / "2025-02-01.csv.gz", [("2025-02-01", "W1", "W2")]
            ),
            write_merged(
                tmp_path / "merged_ids" / "institutions" / "2025-02-01.csv.gz", [("2025-02-01", "I3", "I2")]
            ),
        ],
    )
    assert report.merged_ids == 2
    assert set(works(store)) == {"W2"}
    assert affiliations(store) == {("W2", 0, "I2")}
    assert "I3" not in store.read("institutions").column("institution_id").to_pylist()


# -- interruption --------------------------------------------------------------------------------------


def test_interrupted_ingest_leaves_the_store_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "store")
    ingest_openalex(store, [write_jsonl(tmp_path / "first.jsonl", [work(1, "2024-01-01", [["I1"]])])])
    manifest = store.manifest()
    before = snapshot(store)
    second = write_jsonl(
        tmp_path / "second.jsonl",
        [work(1, "2025-01-01", [["I2"]], year=2022), work(2, "2025-01-01", [["I3"]])],
        raw_lines=["{broken"],
    )

    real = pipeline.merge_into_store
    calls = []

    def merge_then_interrupt(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        calls.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "merge_into_store", merge_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest_openalex(store, [second])
    assert calls == [1]  # the new tables were written into the staged version before the interruption
    assert store.manifest() == manifest
    assert snapshot(store) == before

    monkeypatch.setattr(pipeline, "merge_into_store", real)
    report = ingest_openalex(store, [second])
    assert report.unchanged == [] and report.taken == 2 and report.quarantined == 1
    assert store.manifest()["version"] == manifest["version"] + 1
    got = works(store)
    assert set(got) == {"W1", "W2"} and got["W1"]["publication_year"] == 2022
    assert affiliations(store) == {("W1", 0, "I2"), ("W2", 0, "I3")}
    assert store.read("quarantine").num_rows == 1
    assert list(store.root.glob(".staging-*")) == []
