"""Broken inputs: the good records are all taken, each bad one lands in `quarantine` with file, line,
reason and raw text, and the report counts them (DESIGN §9: never a crash, never silently dropped)."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from sciencecities.errors import InputError, QuarantineError
from sciencecities.normalise.lines import _BLOCK
from sciencecities.normalise.openalex import MAX_RECORD_BYTES, TOO_LONG
from sciencecities.pipeline import IngestReport, ingest_openalex
from sciencecities.store import Store


def work(n: int, **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": f"https://openalex.org/W{n}",
        "publication_year": 2020,
        "type": "article",
        "updated_date": "2024-01-01T00:00:00",
        "authorships": [
            {
                "author": {"id": f"https://openalex.org/A{n}"},
                "institutions": [{"id": "https://openalex.org/I1", "country_code": "GB"}],
            }
        ],
    }
    record.update(fields)
    return record


def line(n: int, **fields: Any) -> str:
    return json.dumps(work(n, **fields))


def ingest(tmp_path: Path, path: Path, **options: Any) -> tuple[Store, IngestReport]:
    store = Store(tmp_path / "store")
    return store, ingest_openalex(store, [path], **options)


def work_ids(store: Store) -> set[str]:
    return set(store.read("works").column("work_id").to_pylist())


def quarantine(store: Store) -> list[dict[str, Any]]:
    return sorted(store.read("quarantine").to_pylist(), key=lambda r: r["line"])


def check_report(report: IngestReport, n_bad: int) -> None:
    assert report.quarantined == n_bad
    assert sum(report.quarantine_reasons.values()) == n_bad
    assert sum(f["quarantined"] for f in report.files) == n_bad


def test_truncated_json_line_in_the_middle(tmp_path: Path) -> None:
    half = line(3)[: len(line(3)) // 2]
    texts = [line(1), line(2), half, line(4), line(5)]
    path = tmp_path / "works.jsonl"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W2", "W4", "W5"}
    assert report.taken == 4
    (row,) = quarantine(store)
    assert row["source_file"] == str(path.resolve())
    assert row["entity"] == "works"
    assert row["line"] == 3
    assert "json" in row["reason"].lower()
    assert row["raw"] == half
    check_report(report, 1)
    assert [k for k in report.quarantine_reasons if "json" in k.lower()]


def test_records_of_the_wrong_type(tmp_path: Path) -> None:
    texts = [line(n) for n in range(1, 11)]
    texts[2] = line(3, publication_year="two thousand")
    texts[6] = line(7, authorships="none")
    path = tmp_path / "works.jsonl"
    path.write_text("\n".join(texts) + "\n", encoding="utf-8")
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {f"W{n}" for n in range(1, 11)} - {"W3", "W7"}
    assert report.taken == 8
    year, authorships = quarantine(store)
    assert (year["line"], authorships["line"]) == (3, 7)
    assert {year["source_file"], authorships["source_file"]} == {str(path.resolve())}
    assert "two thousand" in year["reason"] or "publication_year" in year["reason"]
    assert "none" in authorships["reason"] or "authorships" in authorships["reason"]
    assert (year["raw"], authorships["raw"]) == (texts[2], texts[6])
    check_report(report, 2)
    # the surviving works carry their own values, not those of a neighbour
    assert set(store.read("works").column("publication_year").to_pylist()) == {2020}


def test_record_without_id(tmp_path: Path) -> None:
    no_id = json.dumps({k: v for k, v in work(2).items() if k != "id"})
    path = tmp_path / "works.jsonl"
    path.write_text("\n".join([line(1), no_id, line(3)]) + "\n", encoding="utf-8")
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W3"}
    (row,) = quarantine(store)
    assert (row["source_file"], row["line"], row["raw"]) == (str(path.resolve()), 2, no_id)
    assert "id" in row["reason"]
    assert "no" in row["reason"] or "missing" in row["reason"]
    check_report(report, 1)


def test_id_of_the_wrong_kind(tmp_path: Path) -> None:
    institution = json.dumps({"id": "https://openalex.org/I5", "display_name": "An institution"})
    path = tmp_path / "works.jsonl"
    path.write_text("\n".join([line(1), line(2), institution, line(4)]) + "\n", encoding="utf-8")
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W2", "W4"}
    (row,) = quarantine(store)
    assert (row["source_file"], row["line"], row["raw"]) == (str(path.resolve()), 3, institution)
    assert "I5" in row["reason"] and "work" in row["reason"]
    check_report(report, 1)
    assert "I5" not in store.read("institutions").column("institution_id").to_pylist()


def test_report_reason_of_a_wrong_kind_id_says_what_was_wrong(tmp_path: Path) -> None:
    """OpenAlex ids are URLs: the reason counted in the report must still say what was wrong."""
    path = tmp_path / "works.jsonl"
    records = [
        line(1),
        json.dumps({"id": "https://openalex.org/I5"}),
        json.dumps({"id": "https://openalex.org/S6"}),
        line(4),
    ]
    path.write_text("\n".join(records) + "\n", encoding="utf-8")
    _, report = ingest(tmp_path, path)
    assert report.quarantined == 2
    assert sum(report.quarantine_reasons.values()) == 2
    for reason in report.quarantine_reasons:
        assert "work" in reason, f"report reason {reason!r} does not say the id is not a work id"


def test_json_array_instead_of_an_object(tmp_path: Path) -> None:
    array = json.dumps([work(2)])
    path = tmp_path / "works.jsonl"
    path.write_text("\n".join([line(1), array, line(3)]) + "\n", encoding="utf-8")
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W3"}
    (row,) = quarantine(store)
    assert (row["source_file"], row["line"], row["raw"]) == (str(path.resolve()), 2, array)
    assert "object" in row["reason"] or "list" in row["reason"] or "array" in row["reason"]
    check_report(report, 1)


def test_blank_lines_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "works.jsonl"
    path.write_text("\n" + line(1) + "\n\n   \n" + line(2) + "\n\t\n" + line(3) + "\n\n\n", encoding="utf-8")
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W2", "W3"}
    assert report.taken == 3
    assert report.quarantined == 0
    assert store.read("quarantine").num_rows == 0


def test_line_numbers_count_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "works.jsonl"
    path.write_text(line(1) + "\n\n" + line(2) + "\n   \n{broken\n" + line(3) + "\n", encoding="utf-8")
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W2", "W3"}
    (row,) = quarantine(store)
    assert (row["line"], row["raw"]) == (5, "{broken")
    check_report(report, 1)


def member(numbers: range) -> bytes:
    return gzip.compress("".join(line(n) + "\n" for n in numbers).encode(), mtime=0)


def test_corrupt_gzip_member_in_the_middle(tmp_path: Path) -> None:
    first, middle, last = member(range(1, 4)), member(range(4, 7)), member(range(7, 10))
    damaged = bytearray(middle)
    for k in range(
        14, len(damaged) - 8, 3
    ):  # flip bytes inside the deflate data (10-byte header, 8-byte trailer)
        damaged[k] ^= 0xFF
    with pytest.raises((zlib.error, OSError, EOFError)):
        gzip.decompress(bytes(damaged))  # the damage is real
    assert b"\x1f\x8b\x08" not in bytes(damaged[1:])  # and it does not fake the start of a member
    path = tmp_path / "works.jsonl.gz"
    path.write_bytes(first + bytes(damaged) + last)
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W2", "W3", "W7", "W8", "W9"}
    assert report.taken == 6
    (row,) = quarantine(store)
    assert row["source_file"] == str(path.resolve())
    assert row["line"] == 4  # the first line that could not be read
    assert "gzip" in row["reason"] and "corrupt" in row["reason"]
    check_report(report, 1)
    assert [k for k in report.quarantine_reasons if "gzip" in k]


def test_corrupt_first_gzip_member_of_a_file_named_by_nothing(tmp_path: Path) -> None:
    """The entity of `data.jsonl.gz` is told from its first records; a corrupt first member must not crash
    the ingest but be quarantined, and the members after it read."""
    damaged = bytearray(member(range(1, 4)))
    damaged[10:-8] = b"\xff" * (len(damaged) - 18)  # deflate block type 3 (reserved): invalid at once
    with pytest.raises((zlib.error, OSError, EOFError)):
        gzip.decompress(bytes(damaged))
    path = tmp_path / "data.jsonl.gz"
    path.write_bytes(bytes(damaged) + member(range(4, 7)))
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W4", "W5", "W6"}
    (row,) = quarantine(store)
    assert row["source_file"] == str(path.resolve())
    assert row["line"] == 1 and "corrupt" in row["reason"]
    check_report(report, 1)


@pytest.mark.parametrize("shift", [-3, -2, -1, 0, 1])
def test_member_after_a_large_corrupt_member_is_read_wherever_it_starts(tmp_path: Path, shift: int) -> None:
    """A corrupt first member of about one read block (1 MiB): the good member after it starts near the
    block boundary, and must be found and read whatever its exact offset."""
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    start = _BLOCK + shift  # where the good member starts in the file
    corrupt = header + b"\xff" * (start - len(header))  # deflate block type 3 (reserved): invalid at once
    with pytest.raises((zlib.error, OSError, EOFError)):
        gzip.decompress(corrupt)
    (tmp_path / "works").mkdir()
    path = tmp_path / "works" / "part_000.gz"  # the folder names the entity: nothing is sniffed
    path.write_bytes(corrupt + member(range(1, 4)))
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W2", "W3"}
    (row,) = quarantine(store)
    assert row["line"] == 1 and "corrupt" in row["reason"]
    check_report(report, 1)


def test_gzip_file_cut_short(tmp_path: Path) -> None:
    whole = member(range(1, 201))
    cut = whole[: len(whole) // 2]
    text = zlib.decompressobj(wbits=31).decompress(cut).decode("utf-8")
    *complete, partial = text.split("\n")
    expected = {json.loads(t)["id"].rsplit("/", 1)[1] for t in complete}
    assert 10 < len(expected) < 200
    path = tmp_path / "works.jsonl.gz"
    path.write_bytes(cut)
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == expected
    assert report.taken == len(expected)
    (row,) = quarantine(store)
    assert row["source_file"] == str(path.resolve())
    assert row["line"] == len(complete) + 1
    assert "truncated" in row["reason"] or "ends" in row["reason"]
    assert row["raw"] == partial
    check_report(report, 1)


def test_invalid_utf8_on_one_line(tmp_path: Path) -> None:
    bad = line(3, title="cafXX").encode().replace(b"cafXX", b"caf\xff\xfe")
    path = tmp_path / "works.jsonl"
    path.write_bytes(b"".join(t + b"\n" for t in [line(1).encode(), line(2).encode(), bad, line(4).encode()]))
    store, report = ingest(tmp_path, path)
    assert work_ids(store) == {"W1", "W2", "W4"}
    (row,) = quarantine(store)
    assert (row["source_file"], row["line"]) == (str(path.resolve()), 3)
    assert "UTF-8" in row["reason"] or "utf-8" in row["reason"].lower()
    assert row["raw"].startswith('{"id": "https://openalex.org/W3"') and "caf" in row["raw"]
    check_report(report, 1)


def test_strict_raises_after_ingesting_the_good_records(tmp_path: Path) -> None:
    path = tmp_path / "works.jsonl"
    path.write_text("\n".join([line(1), "{not json", line(3)]) + "\n", encoding="utf-8")
    store = Store(tmp_path / "store")
    with pytest.raises(QuarantineError) as caught:
        ingest_openalex(store, [path], strict=True)
    assert "1" in str(caught.value)
    assert work_ids(store) == {"W1", "W3"}
    (row,) = quarantine(store)
    assert (row["source_file"], row["line"]) == (str(path.resolve()), 2)


def test_strict_without_quarantine_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "works.jsonl"
    path.write_text(line(1) + "\n", encoding="utf-8")
    store = Store(tmp_path / "store")
    report = ingest_openalex(store, [path], strict=True)
    assert report.quarantined == 0
    assert work_ids(store) == {"W1"}


def test_missing_path_raises_input_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "works.jsonl.gz"
    store = Store(tmp_path / "store")
    with pytest.raises(InputError) as caught:
        ingest_openalex(store, [missing])
    assert str(missing) in str(caught.value)
    assert not store.exists


@pytest.mark.parametrize("megabytes", [20, 33])
def test_a_record_line_over_the_limit_is_quarantined(tmp_path: Path, megabytes: int) -> None:
    """Lines up to MAX_RECORD_BYTES are read; a longer one is quarantined with the reason the Spark reader
    gives too (DuckDB's own limit is looser and would take it)."""
    long = line(2, title="x" * (megabytes << 20))
    path = tmp_path / "works.jsonl"
    path.write_text("\n".join([line(1), long, line(3)]) + "\n", encoding="utf-8")
    store, report = ingest(tmp_path, path)
    if len(long) <= MAX_RECORD_BYTES:
        assert work_ids(store) == {"W1", "W2", "W3"} and report.quarantined == 0
        return
    assert work_ids(store) == {"W1", "W3"}
    (row,) = quarantine(store)
    assert (row["line"], row["reason"]) == (2, TOO_LONG)
    assert row["raw"].startswith(long[:1000]) and "more characters cut" in row["raw"]
    check_report(report, 1)
