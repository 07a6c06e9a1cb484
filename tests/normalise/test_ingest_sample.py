"""Ingest of the embedded real OpenAlex sample, checked against a plain-Python reading of the same files.

Every expected number here comes from reading the sample with `gzip` + `json` (no sciencecities code),
or from small hand-made records.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from sciencecities.demo import sample_files
from sciencecities.pipeline import IngestReport, ingest_openalex
from sciencecities.store import Store
from sciencecities.tables import CANONICAL

PREFIX = "https://openalex.org/"
ENTITIES = ("works", "institutions", "sources")


def strip(value: str) -> str:
    return value.removeprefix(PREFIX)


def sample_path(entity: str) -> Path:
    return sample_files() / f"{entity}_academic_explorer.jsonl.gz"


def read_records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(1-based line number, record) for every non-blank line of a gzipped JSON Lines file."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [(number, json.loads(line)) for number, line in enumerate(handle, 1) if line.strip()]


def author_institutions(authorship: dict[str, Any]) -> set[str]:
    """The distinct union of `institutions[].id` and `affiliations[].institution_ids`, prefix stripped."""
    ids = {strip(i["id"]) for i in authorship.get("institutions") or [] if i.get("id")}
    for affiliation in authorship.get("affiliations") or []:
        ids |= {strip(x) for x in affiliation.get("institution_ids") or [] if x}
    return ids


def source_of(work: dict[str, Any]) -> str | None:
    source = (work.get("primary_location") or {}).get("source") or {}
    return strip(source["id"]) if source.get("id") else None


@pytest.fixture(scope="module")
def raw() -> dict[str, list[dict[str, Any]]]:
    return {entity: [record for _, record in read_records(sample_path(entity))] for entity in ENTITIES}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, IngestReport]:
    store = Store(tmp_path_factory.mktemp("sample") / "store")
    report = ingest_openalex(store, [sample_files()])
    return store, report


def rows(store: Store, name: str) -> list[dict[str, Any]]:
    return store.read(name).to_pylist()  # type: ignore[no-any-return]


# -- the sample itself ---------------------------------------------------------------------------------


def test_sample_holds_the_documented_record_counts(raw: dict[str, list[dict[str, Any]]]) -> None:
    assert {entity: len(records) for entity, records in raw.items()} == {
        "works": 584,
        "institutions": 196,
        "sources": 126,
    }


# -- counts and ids -----------------------------------------------------------------------------------


def test_works_one_row_per_distinct_id(
    raw: dict[str, list[dict[str, Any]]], ingested: tuple[Store, IngestReport]
) -> None:
    store, _ = ingested
    expected = {strip(w["id"]) for w in raw["works"]}
    got = [r["work_id"] for r in rows(store, "works")]
    assert len(got) == len(expected)
    assert set(got) == expected


def test_authorships_one_row_per_author(
    raw: dict[str, list[dict[str, Any]]], ingested: tuple[Store, IngestReport]
) -> None:
    store, _ = ingested
    expected = {
        (strip(w["id"]), position, strip((a.get("author") or {}).get("id") or "") or None)
        for w in raw["works"]
        for position, a in enumerate(w["authorships"])
    }
    got = [(r["work_id"], r["author_position"], r["author_id"]) for r in rows(store, "authorships")]
    assert len(got) == sum(len(w["authorships"]) for w in raw["works"])
    assert set(got) == expected


def test_affiliations_are_the_distinct_union_per_author(
    raw: dict[str, list[dict[str, Any]]], ingested: tuple[Store, IngestReport]
) -> None:
    store, _ = ingested
    expected = {
        (strip(w["id"]), position, institution)
        for w in raw["works"]
        for position, a in enumerate(w["authorships"])
        for institution in author_institutions(a)
    }
    total = sum(len(author_institutions(a)) for w in raw["works"] for a in w["authorships"])
    got = [(r["work_id"], r["author_position"], r["institution_id"]) for r in rows(store, "affiliations")]
    assert len(got) == total
    assert set(got) == expected
    assert all(not i.startswith("http") for _, _, i in got)


def test_authorships_count_their_institutions(
    raw: dict[str, list[dict[str, Any]]], ingested: tuple[Store, IngestReport]
) -> None:
    store, _ = ingested
    expected = {
        (strip(w["id"]), position): len(author_institutions(a))
        for w in raw["works"]
        for position, a in enumerate(w["authorships"])
    }
    got = {(r["work_id"], r["author_position"]): r["n_institutions"] for r in rows(store, "authorships")}
    assert got == expected


def test_institutions_are_entity_records_and_embedded_objects(
    raw: dict[str, list[dict[str, Any]]], ingested: tuple[Store, IngestReport]
) -> None:
    store, _ = ingested
    entity_ids = {strip(i["id"]) for i in raw["institutions"]}
    embedded_ids = {
        strip(i["id"])
        for w in raw["works"]
        for a in w["authorships"]
        for i in a.get("institutions") or []
        if i.get("id")
    }
    got = rows(store, "institutions")
    assert {r["institution_id"] for r in got} == entity_ids | embedded_ids
    by_id = {r["institution_id"]: r for r in got}
    assert {i for i, r in by_id.items() if r["record_source"] == "entity"} == entity_ids
    names = {strip(i["id"]): i.get("display_name") for i in raw["institutions"]}
    assert {i: by_id[i]["name"] for i in entity_ids} == names


def test_sources_are_entity_records_and_embedded_sources(
    raw: dict[str, list[dict[str, Any]]], ingested: tuple[Store, IngestReport]
) -> None:
    store, _ = ingested
    expected = {strip(s["id"]) for s in raw["sources"]} | {s for w in raw["works"] if (s := source_of(w))}
    got = [r["source_id"] for r in rows(store, "sources")]
    assert len(got) == len(expected)
    assert set(got) == expected


# -- per-work fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "read"),
    [
        ("n_authors", lambda w: len(w["authorships"])),
        ("source_id", source_of),
        ("publication_year", lambda w: w.get("publication_year")),
        ("type", lambda w: w.get("type")),
    ],
)
def test_work_field_matches_the_record(
    raw: dict[str, list[dict[str, Any]]], ingested: tuple[Store, IngestReport], column: str, read: Any
) -> None:
    store, _ = ingested
    expected = {strip(w["id"]): read(w) for w in raw["works"]}
    got = {r["work_id"]: r[column] for r in rows(store, "works")}
    assert got == expected


def test_work_records_point_at_their_file_and_line(ingested: tuple[Store, IngestReport]) -> None:
    """`record_file` and `record_line` (tables.WORKS) trace each work to the line it was read from."""
    store, _ = ingested
    path = sample_path("works")
    expected = {strip(w["id"]): (str(path.resolve()), number) for number, w in read_records(path)}
    got = {r["work_id"]: (r["record_file"], r["record_line"]) for r in rows(store, "works")}
    assert got == expected


# -- keys, quarantine, manifest -----------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_table_keys_are_unique_and_not_null(ingested: tuple[Store, IngestReport], name: str) -> None:
    store, _ = ingested
    table = CANONICAL[name]
    data = store.read(name)
    assert data.schema.names == table.schema.names
    keys = list(zip(*(data.column(k).to_pylist() for k in table.key), strict=True)) if data.num_rows else []
    assert all(value is not None for key in keys for value in key)
    duplicated = [key for key, n in Counter(keys).items() if n > 1]
    assert duplicated == []


def test_nothing_is_quarantined(ingested: tuple[Store, IngestReport]) -> None:
    store, report = ingested
    assert report.quarantined == 0
    assert report.quarantine_reasons == {}
    assert store.read("quarantine").num_rows == 0


def test_manifest_lists_the_three_files_with_checksums_and_counts(
    raw: dict[str, list[dict[str, Any]]], ingested: tuple[Store, IngestReport]
) -> None:
    store, report = ingested
    manifest = store.manifest()
    assert len(manifest["ingests"]) == 1
    files = {Path(f["path"]).name: f for f in manifest["ingests"][0]["files"]}
    assert set(files) == {sample_path(e).name for e in ENTITIES}
    for entity in ENTITIES:
        path = sample_path(entity)
        entry = files[path.name]
        assert entry["entity"] == entity
        assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["size"] == path.stat().st_size
        assert entry["records"] == len(raw[entity])
        assert entry["quarantined"] == 0
    assert report.taken == sum(len(records) for records in raw.values())
    for name in CANONICAL:
        assert manifest["tables"][name] == store.read(name).num_rows
    assert report.tables["works"] == len(raw["works"])


# -- hand-made records: the older schema, and entity vs embedded institutions ------------------------


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


OLD_WORK = {
    "id": "https://openalex.org/W10",
    "publication_year": 2019,
    "type": "journal-article",
    "updated_date": "2023-05-01T00:00:00",
    "host_venue": {"id": "https://openalex.org/V123", "display_name": "Old Journal", "issn_l": "1234-5678"},
    "authorships": [
        {
            "author_position": "first",
            "author": {"id": "https://openalex.org/A1", "display_name": "Ada"},
            "institutions": [
                {"id": "https://openalex.org/I7", "display_name": "Seven", "country_code": "FR"},
                {"id": "https://openalex.org/I8", "display_name": "Eight", "country_code": "DE"},
            ],
        },
        {
            "author_position": "last",
            "author": {"id": "https://openalex.org/A2", "display_name": "Bo"},
            "institutions": [
                {"id": "https://openalex.org/I7", "display_name": "Seven", "country_code": "FR"}
            ],
        },
    ],
}


def test_older_schema_with_host_venue_and_institutions_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    ingest_openalex(store, [write_jsonl(tmp_path / "old.jsonl", [OLD_WORK])])
    (work,) = rows(store, "works")
    assert work["work_id"] == "W10"
    assert work["source_id"] == "S123"
    assert work["n_authors"] == 2
    assert {(r["author_position"], r["author_id"]) for r in rows(store, "authorships")} == {
        (0, "A1"),
        (1, "A2"),
    }
    assert {
        (r["work_id"], r["author_position"], r["institution_id"]) for r in rows(store, "affiliations")
    } == {
        ("W10", 0, "I7"),
        ("W10", 0, "I8"),
        ("W10", 1, "I7"),
    }
    sources = {r["source_id"]: r for r in rows(store, "sources")}
    assert set(sources) == {"S123"}
    assert sources["S123"]["name"] == "Old Journal"
    assert {r["institution_id"]: r["country_code"] for r in rows(store, "institutions")} == {
        "I7": "FR",
        "I8": "DE",
    }


ENTITY_I7 = {
    "id": "https://openalex.org/I7",
    "display_name": "Entity Seven",
    "ror": "https://ror.org/04abcde12",
    "type": "facility",
    "updated_date": "2022-01-01T00:00:00",
}
EMBEDDING_WORK = {
    "id": "https://openalex.org/W20",
    "publication_year": 2020,
    "updated_date": "2024-06-01T00:00:00",
    "primary_location": {"source": {"id": "https://openalex.org/S1", "display_name": "J"}},
    "authorships": [
        {
            "author": {"id": "https://openalex.org/A1"},
            "institutions": [
                {
                    "id": "https://openalex.org/I7",
                    "display_name": "Embedded Seven",
                    "ror": "https://ror.org/0zzzzzz99",
                    "country_code": "FR",
                    "type": "education",
                },
                {"id": "https://openalex.org/I9", "display_name": "Embedded Nine", "country_code": "JP"},
            ],
            "affiliations": [{"raw_affiliation_string": "x", "institution_ids": ["https://openalex.org/I7"]}],
        }
    ],
}


@pytest.mark.parametrize("order", ["one batch", "entity first", "embedded first"])
def test_entity_records_win_field_by_field_and_embedded_objects_fill_gaps(tmp_path: Path, order: str) -> None:
    entity_file = write_jsonl(tmp_path / "institutions.jsonl", [ENTITY_I7])
    works_file = write_jsonl(tmp_path / "works.jsonl", [EMBEDDING_WORK])
    store = Store(tmp_path / "store")
    if order == "one batch":
        ingest_openalex(store, [works_file, entity_file])
    elif order == "entity first":
        ingest_openalex(store, [entity_file])
        ingest_openalex(store, [works_file])
    else:
        ingest_openalex(store, [works_file])
        ingest_openalex(store, [entity_file])
    institutions = {r["institution_id"]: r for r in rows(store, "institutions")}
    assert set(institutions) == {"I7", "I9"}
    seven = institutions["I7"]
    assert (seven["name"], seven["ror"], seven["type"]) == ("Entity Seven", "04abcde12", "facility")
    assert seven["country_code"] == "FR"  # the entity record has none: the embedded object fills it
    assert seven["record_source"] == "entity"
    nine = institutions["I9"]
    assert (nine["name"], nine["country_code"], nine["record_source"]) == ("Embedded Nine", "JP", "embedded")
