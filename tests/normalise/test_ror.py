"""ROR records -> `ror_places`: every accepted shape gives the same rows, bad records are quarantined with a
reason, and files that are not ROR JSON raise InputError. Built from real ROR v2 records (data/ror/)."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from sciencecities.errors import InputError
from sciencecities.normalise import ror
from sciencecities.normalise.ror import V1_REASON, read_ror, ror_id
from sciencecities.tables import ROR_PLACES

DATA = Path(__file__).parent / "data" / "ror"
SEARCH = DATA / "ror_v2_search_response_20_records.json"
RETRIEVE = DATA / "ror_v2_retrieve_response_1_record.json"


def records() -> list[dict[str, Any]]:
    """The 21 real records of the two fixture files (20 searched, 1 retrieved), as fresh copies."""
    found = [hit["_source"] for hit in json.loads(SEARCH.read_text())["hits"]["hits"]]
    return found + [hit["_source"] for hit in json.loads(RETRIEVE.read_text())["hits"]["hits"]]


def expected(record: dict[str, Any], record_file: Path) -> dict[str, Any]:
    """The row a record should give, read straight from its JSON."""
    location = record["locations"][0]
    details = location["geonames_details"]
    return {
        "ror": record["id"].removeprefix("https://ror.org/"),
        "name": next(n["value"] for n in record["names"] if "ror_display" in n["types"]),
        "status": record["status"],
        "country_code": details["country_code"],
        "geonames_id": location["geonames_id"],
        "place_name": details["name"],
        "admin1_code": details["country_subdivision_code"],
        "latitude": details["lat"],
        "longitude": details["lng"],
        "last_modified": record["admin"]["last_modified"]["date"],
        "record_file": str(record_file),
    }


def by_id(table: Any) -> dict[str, dict[str, Any]]:
    return {row["ror"]: row for row in table.to_pylist()}


def write_array(path: Path, items: list[Any]) -> Path:
    text = json.dumps(items, indent=2)
    path.write_bytes(gzip.compress(text.encode()) if path.name.endswith(".gz") else text.encode())
    return path


def write_lines(path: Path, items: list[Any]) -> Path:
    text = "".join(json.dumps(item) + "\n" for item in items)
    path.write_bytes(gzip.compress(text.encode()) if path.name.endswith(".gz") else text.encode())
    return path


def test_search_response_gives_one_row_per_record_with_the_fixture_values() -> None:
    read = read_ror([SEARCH])
    assert read.table.schema == ROR_PLACES.schema
    wanted = {row["ror"]: row for row in (expected(r, SEARCH.resolve()) for r in records()[:20])}
    assert by_id(read.table) == wanted
    assert read.table.column("ror").to_pylist() == sorted(wanted)
    assert read.quarantined == []
    [entry] = read.files
    assert entry == {
        "path": str(SEARCH.resolve()),
        "member": None,
        "size": SEARCH.stat().st_size,
        "sha256": hashlib.sha256(SEARCH.read_bytes()).hexdigest(),
        "records": 20,
        "quarantined": 0,
    }


def test_retrieve_response_record_values() -> None:
    record = json.loads(RETRIEVE.read_text())["hits"]["hits"][0]["_source"]
    [row] = read_ror([RETRIEVE]).table.to_pylist()
    details = record["locations"][0]["geonames_details"]
    assert row["ror"] == "02atag894" == record["id"].rsplit("/", 1)[1]
    assert row["name"] == "Office of Nuclear Physics"
    assert row["geonames_id"] == record["locations"][0]["geonames_id"] == 4140963
    assert (row["country_code"], row["admin1_code"]) == (details["country_code"], "DC")
    assert (row["latitude"], row["longitude"]) == (details["lat"], details["lng"]) == (38.88758, -77.025728)
    assert (row["place_name"], row["status"], row["last_modified"]) == (
        "Washington, D.C.",
        "active",
        "2023-07-28",
    )


def v1_version(record: dict[str, Any]) -> dict[str, Any]:
    """The same organisation in ROR schema v1 (as in dumps before v2.0): `addresses`, no `locations`."""
    location = record["locations"][0]
    details = location["geonames_details"]
    return {
        "id": record["id"],
        "name": next(n["value"] for n in record["names"] if "ror_display" in n["types"]),
        "status": record["status"],
        "addresses": [
            {
                "lat": details["lat"],
                "lng": details["lng"],
                "city": details["name"],
                "geonames_city": {"id": location["geonames_id"], "city": details["name"]},
            }
        ],
        "country": {"country_code": details["country_code"], "country_name": details["country_name"]},
    }


def test_dump_zip_reads_its_schema_v2_member(tmp_path: Path) -> None:
    v2 = records()
    dump = tmp_path / "v1.45-2024-05-16-ror-data.zip"
    with zipfile.ZipFile(dump, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("v1.45-2024-05-16-ror-data.json", json.dumps([v1_version(r) for r in v2]))
        archive.writestr("v1.45-2024-05-16-ror-data_schema_v2.json", json.dumps(v2, indent=2))
        archive.writestr("v1.45-2024-05-16-ror-data.csv", "id,name\n")
        archive.writestr("v1.45-2024-05-16-ror-data_schema_v2.csv", "id,name\n")
    read = read_ror([dump])
    assert by_id(read.table) == {row["ror"]: row for row in (expected(r, dump) for r in v2)}
    assert read.quarantined == []
    assert read.files[0]["member"] == "v1.45-2024-05-16-ror-data_schema_v2.json"
    assert read.files[0]["records"] == 21


def test_dump_zip_with_one_json_member_is_read_and_v1_records_are_quarantined(tmp_path: Path) -> None:
    real = records()
    dump = tmp_path / "ror.zip"
    with zipfile.ZipFile(dump, "w") as archive:
        archive.writestr("v2.0-2025-12-16-ror-data.json", json.dumps([real[0], v1_version(real[1]), real[2]]))
        archive.writestr("v2.0-2025-12-16-ror-data.csv", "id,name\n")
    read = read_ror([dump])
    assert set(by_id(read.table)) == {ror_id(real[0]["id"]), ror_id(real[2]["id"])}
    [bad] = read.quarantined
    assert bad["reason"] == V1_REASON
    assert (bad["entity"], bad["source_file"], bad["line"]) == ("ror", str(dump), 2)
    assert json.loads(bad["raw"]) == v1_version(real[1])


@pytest.mark.parametrize(
    "members",
    [["ror-data.csv"], ["a-ror-data.json", "b-ror-data.json"], ["a_schema_v2.json", "b_schema_v2.json"]],
)
def test_zip_without_one_ror_json_member_is_refused(tmp_path: Path, members: list[str]) -> None:
    dump = tmp_path / "ror.zip"
    with zipfile.ZipFile(dump, "w") as archive:
        for name in members:
            archive.writestr(name, "[]")
    with pytest.raises(InputError, match="candidate JSON files") as caught:
        read_ror([dump])
    assert str(dump) in caught.value.message


@pytest.mark.parametrize(
    "shape",
    ["array.json", "array.json.gz", "lines.jsonl", "lines.jsonl.gz", "api.json", "lines-no-suffix.txt"],
)
def test_every_shape_gives_the_same_rows(tmp_path: Path, shape: str) -> None:
    real = records()
    path = tmp_path / shape
    if shape.startswith("array"):
        write_array(path, real)
    elif shape.startswith("api"):
        path.write_text(json.dumps({"number_of_results": len(real), "time_taken": 5, "items": real}))
    else:
        write_lines(path, real)
    read = read_ror([path])
    assert read.table.schema == ROR_PLACES.schema
    assert by_id(read.table) == {row["ror"]: row for row in (expected(r, path) for r in real)}
    assert read.quarantined == [] and read.files[0]["records"] == len(real)


def test_a_single_record_object(tmp_path: Path) -> None:
    record = records()[4]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record, indent=2))
    assert read_ror([path]).table.to_pylist() == [expected(record, path)]


def test_values_split_across_read_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Records that straddle the reader's chunks (made tiny here) are read whole, in every layout."""
    real = records()
    array, lines = write_array(tmp_path / "a.json", real), write_lines(tmp_path / "b.jsonl", real)
    whole = [by_id(read_ror([p]).table) for p in (array, lines)]
    assert [len(rows) for rows in whole] == [len(real), len(real)]
    monkeypatch.setattr(ror, "_CHUNK", 7)
    assert [by_id(read_ror([p]).table) for p in (array, lines)] == whole


def test_several_locations_take_the_first(tmp_path: Path) -> None:
    first, other = records()[0], records()[20]
    first["locations"] = [first["locations"][0], other["locations"][0]]
    [row] = read_ror([write_array(tmp_path / "r.json", [first])]).table.to_pylist()
    assert row["geonames_id"] == first["locations"][0]["geonames_id"] != other["locations"][0]["geonames_id"]
    assert row["country_code"] == first["locations"][0]["geonames_details"]["country_code"]


def test_bad_records_are_quarantined_with_reasons_and_the_rest_taken(tmp_path: Path) -> None:
    real = records()
    no_id = copy.deepcopy(real[1])
    del no_id["id"]
    bad_id = copy.deepcopy(real[2]) | {"id": "https://ror.org/not-a-ror"}
    no_locations = copy.deepcopy(real[3]) | {"locations": []}
    nowhere = copy.deepcopy(real[4])
    nowhere["locations"] = [{"geonames_details": {"country_code": "AU", "name": "Hobart"}}]
    coordinates_only = copy.deepcopy(real[5])
    del coordinates_only["locations"][0]["geonames_id"]
    bad_geonames = copy.deepcopy(real[6])
    bad_geonames["locations"][0]["geonames_id"] = "Melbourne"
    bad_coordinates = copy.deepcopy(real[7])
    bad_coordinates["locations"][0]["geonames_details"]["lat"] = 137.8
    lng = real[7]["locations"][0]["geonames_details"]["lng"]
    items = [
        real[0],
        no_id,
        bad_id,
        no_locations,
        nowhere,
        coordinates_only,
        42,
        bad_geonames,
        bad_coordinates,
    ]
    path = write_array(tmp_path / "bad.json", items)
    read = read_ror([path])
    assert set(by_id(read.table)) == {ror_id(real[0]["id"]), ror_id(real[5]["id"])}
    placed = by_id(read.table)[ror_id(real[5]["id"])]
    assert placed["geonames_id"] is None
    assert (placed["latitude"], placed["longitude"]) == (
        real[5]["locations"][0]["geonames_details"]["lat"],
        real[5]["locations"][0]["geonames_details"]["lng"],
    )
    assert [(q["line"], q["reason"]) for q in read.quarantined] == [
        (2, "no id: the record has no id field"),
        (3, "not a ROR id: 'https://ror.org/not-a-ror'"),
        (4, "no locations: the record has no location"),
        (5, "no place: the first location has neither a geonames_id nor coordinates"),
        (7, "not a JSON object: a JSON number"),
        (8, "not a GeoNames id: 'Melbourne' in the first location"),
        (9, f"bad coordinates: lat 137.8, lng {lng!r} in the first location"),
    ]
    assert [json.loads(q["raw"]) for q in read.quarantined] == [items[i - 1] for i in (2, 3, 4, 5, 7, 8, 9)]
    assert {q["entity"] for q in read.quarantined} == {"ror"}
    assert (read.files[0]["records"], read.files[0]["quarantined"]) == (2, 7)


def test_raw_text_is_cut_at_10000_characters(tmp_path: Path) -> None:
    record = records()[0] | {"locations": [], "note": "x" * 20_000}
    [bad] = read_ror([write_lines(tmp_path / "r.jsonl", [record])]).quarantined
    assert len(bad["raw"]) == 10_000 and bad["raw"] == json.dumps(record)[:10_000]


def test_a_damaged_json_lines_line_is_quarantined_and_reading_goes_on(tmp_path: Path) -> None:
    real = records()
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps(real[0]) + "\n" + json.dumps(real[1])[:80] + "\n" + json.dumps(real[2]) + "\n")
    read = read_ror([path])
    assert set(by_id(read.table)) == {ror_id(real[0]["id"]), ror_id(real[2]["id"])}
    [bad] = read.quarantined
    assert bad["line"] == 2 and bad["reason"].startswith("malformed JSON: ")
    assert bad["raw"] == json.dumps(real[1])[:80]


def test_the_newest_record_of_an_id_wins_whatever_the_file_order(tmp_path: Path) -> None:
    old = records()[0]
    new = copy.deepcopy(old)
    new["admin"]["last_modified"]["date"] = "2025-03-01"
    new["locations"] = records()[6]["locations"]
    old_file = write_array(tmp_path / "old.json", [old])
    new_file = write_lines(tmp_path / "new.jsonl", [new])
    for order in ([old_file, new_file], [new_file, old_file]):
        [row] = read_ror(order).table.to_pylist()
        assert row == expected(new, new_file)
    twice = write_array(tmp_path / "twice.json", [new, old])
    [row] = read_ror([twice]).table.to_pylist()
    assert row["last_modified"] == "2025-03-01"
    assert row["geonames_id"] == records()[6]["locations"][0]["geonames_id"]


def test_on_equal_dates_the_record_read_last_wins(tmp_path: Path) -> None:
    first = records()[0]
    second = copy.deepcopy(first) | {"status": "inactive"}
    assert first["admin"] == second["admin"]
    [row] = read_ror([write_array(tmp_path / "r.json", [first, second])]).table.to_pylist()
    assert row["status"] == "inactive"


def test_files_that_are_not_ror_json_raise_input_error(tmp_path: Path) -> None:
    csv = tmp_path / "ror.csv"
    csv.write_text("id,name\nhttps://ror.org/02bfwt286,Monash University\n")
    with pytest.raises(InputError, match="is not valid JSON") as caught:
        read_ror([csv])
    assert str(csv) in caught.value.message and "line 1, column 1" in caught.value.message
    assert caught.value.hint and "JSON Lines" in caught.value.hint

    truncated = tmp_path / "truncated.json"
    text = json.dumps(records(), indent=2)
    truncated.write_text(text[: len(text) // 2])
    with pytest.raises(InputError, match="truncated.json is not valid JSON"):
        read_ror([truncated])

    broken = tmp_path / "broken.json"
    text = json.dumps(records()[:3], indent=2)
    cut = text.index('"id"', text.index('"id"') + 1)  # break the second record's id key
    broken.write_text(text[:cut] + "id: " + text[cut:])
    line = text[:cut].count("\n") + 1
    with pytest.raises(InputError, match=f"at line {line}, column"):
        read_ror([broken])

    other = tmp_path / "other.json"
    other.write_text(json.dumps({"meta": {"count": 1}, "results": []}))
    with pytest.raises(InputError, match="not a ROR file: it holds an object with keys meta, results"):
        read_ror([other])


def test_missing_folder_and_damaged_files_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_ror([tmp_path / "nowhere.zip"])
    with pytest.raises(InputError, match="is not a file"):
        read_ror([tmp_path])
    damaged = tmp_path / "r.json.gz"
    damaged.write_bytes(gzip.compress(json.dumps(records()).encode())[:-200])
    with pytest.raises(InputError, match="could not be read"):
        read_ror([damaged])
    fake = tmp_path / "ror.zip"
    fake.write_text("[]")
    with pytest.raises(InputError, match="could not be read"):
        read_ror([fake])


@pytest.mark.parametrize(
    ("given", "bare"),
    [
        ("https://ror.org/02atag894", "02atag894"),
        ("02atag894", "02atag894"),
        (" HTTP://ROR.ORG/02ATAG894 ", "02atag894"),
        ("ror.org/02atag894", None),
        ("https://ror.org/02atag89", None),
        ("https://ror.org/12atag894", None),
        (None, None),
    ],
)
def test_ror_id(given: object, bare: str | None) -> None:
    assert ror_id(given) == bare
