"""Web of Science and Scopus exports into the store: real sample files (tests/exports/data), read as a user would.

Expected values are read from the files in the test by plain means (counting ER lines and rows, the last comma
part of each address), never from the parser under test.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from fractions import Fraction
from pathlib import Path

import pyarrow.compute as pc
import pytest

from sciencecities import Settings, Store, build
from sciencecities.countries import countries
from sciencecities.errors import InputError, QuarantineError
from sciencecities.pipeline import ingest_export

DATA = Path(__file__).parent / "data"
PLAIN = DATA / "wos" / "wos_plaintext.txt"
TAB8 = DATA / "wos" / "wos_tab_delimited_win_utf8.txt"
TAB16 = DATA / "wos" / "wos_tab_delimited_win_utf16.txt"
SCOPUS = DATA / "scopus" / "scopus.csv"
WOS_FILES = (PLAIN, TAB8, TAB16)

COUNTRY_VARIANTS = {
    "USA": "US",
    "United States": "US",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "North Ireland": "GB",
    "United Kingdom": "GB",
    "Peoples R China": "CN",
    "China": "CN",
    "Netherlands": "NL",
    "South Korea": "KR",
}
"""How WoS and Scopus write some countries; the others are written as countries.csv names them."""


SCOPUS_TYPES = {
    "Article": "article",
    "Conference Paper": "article",
    "Review": "review",
    "Short Survey": "review",
    "Book Chapter": "book-chapter",
    "Book": "book",
}
"""The Scopus document types of the sample and their OpenAlex types (docs/exports.md); others are 'other'."""


def country_of(address: str) -> str:
    """The plain reading: the last comma part, a trailing 'USA' after state and ZIP, Hong Kong before China."""
    parts = [p.strip() for p in address.rstrip(". ").split(",")]
    last = "USA" if parts[-1].endswith(" USA") else parts[-1]
    if last in ("Peoples R China", "China") and len(parts) > 1 and parts[-2] == "Hong Kong":
        return "HK"
    names = dict(zip(countries()["name"].to_pylist(), countries()["country_code"].to_pylist(), strict=True))
    code = COUNTRY_VARIANTS.get(last) or names.get(last)
    assert code, f"the test's mapping lacks {last!r}"
    return code


def plain_wos_records(path: Path = PLAIN) -> list[dict[str, list[str]]]:
    """The plain-text records as tag -> lines, split at ER lines."""
    records, current, tag = [], {}, ""
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        if line == "ER":
            records.append(current)
            current, tag = {}, ""
        elif line.startswith("   ") and tag:
            current[tag].append(line.strip())
        elif re.match(r"^[A-Z][A-Z0-9] ", line) and not line.startswith(("FN ", "VR ")):
            tag = line[:2]
            current.setdefault(tag, []).append(line[3:])
    return records


def wos_address(entry: str) -> str:
    return re.sub(r"^\[[^\]]*\]\s*", "", entry).rstrip(".")


def scopus_rows() -> list[dict[str, str]]:
    """The Scopus rows keyed by the header, with EID and Affiliations read from the row's end and start."""
    with SCOPUS.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return [
            {"EID": row[-1], "Affiliations": row[header.index("Affiliations")]} for row in reader if any(row)
        ]


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[Path, Store]:
    """One fresh store per sample file, ingested."""
    made = {}
    for path, kind in [*((p, "wos") for p in WOS_FILES), (SCOPUS, "scopus")]:
        store = Store(tmp_path_factory.mktemp("exports") / path.stem)
        ingest_export(store, kind, [path])
        made[path] = store
    return made


def linked_countries(store: Store) -> dict[str, set[str]]:
    """Work id -> the countries of the institutions its affiliations link to."""
    institutions = {r["institution_id"]: r["country_code"] for r in store.read("institutions").to_pylist()}
    found: dict[str, set[str]] = defaultdict(set)
    for row in store.read("affiliations").to_pylist():
        found[row["work_id"]].add(institutions[row["institution_id"]])
    return found


def test_record_counts_equal_the_files_record_counts(stores: dict[Path, Store]) -> None:
    er_lines = sum(1 for line in PLAIN.read_text(encoding="utf-8-sig").splitlines() if line == "ER")
    tab8_rows = sum(1 for line in TAB8.read_text(encoding="utf-8-sig").splitlines()[1:] if line.strip())
    tab16_rows = sum(1 for line in TAB16.read_text(encoding="utf-16").splitlines()[1:] if line.strip())
    with SCOPUS.open(encoding="utf-8-sig", newline="") as handle:
        csv_rows = sum(1 for row in list(csv.reader(handle))[1:] if any(row))
    for path, expected in ((PLAIN, er_lines), (TAB8, tab8_rows), (TAB16, tab16_rows), (SCOPUS, csv_rows)):
        store = stores[path]
        assert store.read("works").num_rows == expected, path.name
        assert store.read("quarantine").num_rows == 0
        (ingest,) = store.manifest()["ingests"]
        assert ingest["taken"] == expected and ingest["source"] == ("scopus" if path == SCOPUS else "wos")


def test_the_three_wos_formats_give_the_same_tables(stores: dict[Path, Store]) -> None:
    def content(store: Store, name: str) -> list[dict[str, object]]:
        table = store.read(name)
        if "record_file" in table.column_names:
            table = table.drop_columns(["record_file", "record_line"])
        return sorted(table.to_pylist(), key=repr)

    for name in ("works", "authorships", "affiliations", "institutions", "sources"):
        assert content(stores[PLAIN], name) == content(stores[TAB8], name) == content(stores[TAB16], name), (
            name
        )


def test_wos_countries_per_record_equal_a_plain_reading_of_c1(stores: dict[Path, Store]) -> None:
    linked = linked_countries(stores[PLAIN])
    records = plain_wos_records()
    assert len(records) == 50
    for record in records:
        expected = {country_of(wos_address(entry)) for entry in record.get("C1", [])}
        assert linked.get(record["UT"][0], set()) == expected, record["UT"][0]


def test_scopus_countries_per_record_equal_a_plain_reading_of_affiliations(stores: dict[Path, Store]) -> None:
    linked = linked_countries(stores[SCOPUS])
    rows = scopus_rows()
    assert len(rows) == 58
    for row in rows:
        expected = {country_of(a) for a in row["Affiliations"].split("; ") if a.strip()}
        assert linked.get(row["EID"], set()) == expected, row["EID"]


def test_c1_brackets_link_each_author_to_their_own_addresses(stores: dict[Path, Store]) -> None:
    authorships = defaultdict(dict)
    for row in stores[PLAIN].read("authorships").to_pylist():
        authorships[row["work_id"]][row["author_name"]] = set(row["raw_affiliations"])
    bracketed = unbracketed = 0
    for record in plain_wos_records():
        people = authorships[record["UT"][0]]
        assert len(people) == len(record["AF"])
        entries = record.get("C1", [])
        if entries and all(e.startswith("[") for e in entries):
            bracketed += 1
            owned: dict[str, set[str]] = defaultdict(set)
            for entry in entries:
                for name in entry[1 : entry.index("]")].split("; "):
                    owned[name.strip()].add(wos_address(entry))
            assert {name: people[name] for name in owned} == dict(owned)
            assert all(not addresses for name, addresses in people.items() if name not in owned)
        elif entries:
            unbracketed += 1
            assert all(addresses == {wos_address(e) for e in entries} for addresses in people.values())
    assert bracketed > 10 and unbracketed > 10


def test_share_splits_each_author_over_their_own_institutions(tmp_path: Path) -> None:
    """DESIGN §4 on a real record: Lincoln Stein has three addresses, so Cold Spring Harbor gets 1/(n_a * 3)."""
    store = Store(tmp_path / "store")
    ingest_export(store, "wos", [PLAIN])
    build(store, Settings(store=store.root, edition="all-articles"))
    (record,) = [r for r in plain_wos_records() if r["UT"] == ["WOS:000285831700110"]]
    named = {n.strip() for e in record["C1"] for n in e[1 : e.index("]")].split("; ")}
    stein = [wos_address(e) for e in record["C1"] if "Stein, Lincoln" in e]
    assert len(stein) == 3
    institutions = {r["institution_id"]: r["name"] for r in store.read("institutions").to_pylist()}
    credit = [
        r for r in store.read("credit", "all-articles").to_pylist() if r["work_id"] == "WOS:000285831700110"
    ]
    shares = {institutions[r["institution_id"]]: r["share"] for r in credit}
    assert shares["Cold Spring Harbor Lab"] == pytest.approx(float(Fraction(1, len(named) * 3)))
    assert sum(shares.values()) == pytest.approx(1.0)
    eligible = store.read("eligible_works", "all-articles")
    affiliated = pc.sum(pc.greater(eligible["n_affiliated"], 0)).as_py()
    total = pc.sum(store.read("credit", "all-articles")["share"]).as_py()
    assert total == pytest.approx(affiliated)
    countries_total = pc.sum(
        store.read("country_year", "all-articles").filter(
            pc.equal(store.read("country_year", "all-articles")["subject"], "all")
        )["share"]
    ).as_py()
    assert countries_total == pytest.approx(affiliated)
    places = store.read("institution_places", "all-articles").to_pylist()
    placed = [p for p in places if p["geonames_id"] is not None]
    assert placed and {p["geo_source"] for p in placed} == {
        "parsed"
    }  # placed from the addresses, and said so


def test_sources_are_matched_to_edition_journals_by_issn(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    ingest_export(store, "wos", [TAB8])
    build(store, Settings(store=store.root, edition="nature-index"))
    matched = store.read("journal_sources", "nature-index").to_pylist()
    sources = {r["source_id"]: r for r in store.read("sources").to_pylist()}
    pnas = [m for m in matched if "NATIONAL ACADEMY" in sources[m["source_id"]]["name"]]
    assert pnas and pnas[0]["matched_by"] == "issn"


def test_reingesting_is_idempotent(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    ingest_export(store, "scopus", [SCOPUS])
    first = {
        name: store.read(name) for name in ("works", "authorships", "affiliations", "institutions", "sources")
    }
    assert ingest_export(store, "scopus", [SCOPUS]).files == []  # same checksum: skipped
    again = ingest_export(store, "scopus", [SCOPUS], force=True)
    assert again.taken == first["works"].num_rows
    for name, table in first.items():
        assert store.read(name).equals(table), name


def damaged(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_a_truncated_wos_file_names_the_file_and_the_unfinished_record(tmp_path: Path) -> None:
    lines = PLAIN.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    cut = len(lines) - 8
    start = max(i for i, line in enumerate(lines[:cut]) if line.startswith("PT ")) + 1
    path = damaged(tmp_path, "cut.txt", "".join(lines[:cut]).encode())
    store = Store(tmp_path / "store")
    with pytest.raises(InputError, match=rf"cut\.txt, line {start}: .*no ER line.*truncated"):
        ingest_export(store, "wos", [path])
    assert not store.exists
    rows = TAB16.read_text(encoding="utf-16").splitlines(keepends=True)
    half = rows[-1][: len(rows[-1]) // 3]
    cut_tab = damaged(tmp_path, "cut_tab.txt", ("".join(rows[:-1]) + half).encode("utf-16"))
    with pytest.raises(InputError, match=rf"cut_tab\.txt, line {len(rows)}: .*truncated"):
        ingest_export(store, "wos", [cut_tab])


@pytest.mark.parametrize(
    ("kind", "data", "pattern"),
    [
        ("wos", b"Hello, this is a letter\nnot an export\n", r"line 1: not a Web of Science export"),
        ("wos", SCOPUS.read_bytes(), r"line 1: not a Web of Science export \(it looks like a Scopus"),
        ("scopus", PLAIN.read_bytes(), r"line 1: not a Scopus CSV export \(it looks like a Web of Science"),
        ("scopus", b"Title,Year\nA,2020\n", r"line 1: not a Scopus CSV export: the header lacks Authors"),
        (
            "wos",
            PLAIN.read_bytes()[:2000] + b"\n\x89PNG\r\n\x1a\n\xff\xfe\x00\x00junk\n",
            r"line \d+: not text",
        ),
        ("scopus", b"\x00\x01\x02\xff\xfe binary", r"line 1: not text"),
    ],
)
def test_a_file_of_the_wrong_kind_names_the_file_and_line(
    tmp_path: Path, kind: str, data: bytes, pattern: str
) -> None:
    path = damaged(tmp_path, "input.dat", data)
    with pytest.raises(InputError, match=rf"input\.dat, {pattern}"):
        ingest_export(Store(tmp_path / "store"), kind, [path])


def test_binary_junk_is_reported_at_its_line(tmp_path: Path) -> None:
    lines = PLAIN.read_bytes().splitlines(keepends=True)
    path = damaged(tmp_path, "junk.txt", b"".join(lines[:100]) + b"AB \xff\xfe\xfa\n" + b"".join(lines[100:]))
    with pytest.raises(InputError, match=r"junk\.txt, line 101: not text"):
        ingest_export(Store(tmp_path / "store"), "wos", [path])


def test_an_unclosed_scopus_quote_names_the_file_and_record(tmp_path: Path) -> None:
    text = SCOPUS.read_text(encoding="utf-8-sig")
    path = damaged(tmp_path, "open.csv", (text + '"Doe J.","1234;","An unfinished title\n').encode())
    with pytest.raises(InputError, match=r"open\.csv, line \d+: not readable as CSV"):
        ingest_export(Store(tmp_path / "store"), "scopus", [path])


def test_bad_records_are_quarantined_with_file_and_line_and_the_rest_taken(tmp_path: Path) -> None:
    lines = PLAIN.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    ut = next(i for i, line in enumerate(lines) if line.startswith("UT "))
    start = max(i for i, line in enumerate(lines[:ut]) if line.startswith("PT ")) + 1
    path = damaged(tmp_path, "no_ut.txt", "".join(lines[:ut] + lines[ut + 1 :]).encode())
    with SCOPUS.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    short = damaged(tmp_path, "short.csv", b"")
    with short.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([rows[0], rows[1][:10], *rows[2:]])
    store = Store(tmp_path / "store")
    report = ingest_export(store, "wos", [path])
    assert report.taken == 49 and report.quarantined == 1
    (row,) = store.read("quarantine").to_pylist()
    assert (row["source_file"], row["line"], row["entity"]) == (str(path.resolve()), start, "wos")
    assert row["reason"].startswith("no UT") and "PT J" in row["raw"]
    with pytest.raises(QuarantineError):
        ingest_export(store, "scopus", [short], strict=True)
    quarantine = store.read("quarantine").to_pylist()
    assert [(Path(q["source_file"]).name, q["line"]) for q in quarantine] == [
        ("no_ut.txt", start),
        ("short.csv", 2),
    ]
    assert store.read("works").num_rows == 49 + len(rows) - 2


def test_a_line_that_is_no_tag_quarantines_its_record(tmp_path: Path) -> None:
    lines = PLAIN.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    at = [i for i, line in enumerate(lines) if line.startswith("TI ")][3]
    start = max(i for i, line in enumerate(lines[:at]) if line.startswith("PT ")) + 1
    path = damaged(tmp_path, "stray.txt", "".join([*lines[:at], "stray text\n", *lines[at:]]).encode())
    store = Store(tmp_path / "store")
    report = ingest_export(store, "wos", [path])
    assert (report.taken, report.quarantined) == (49, 1)
    (row,) = store.read("quarantine").to_pylist()
    assert row["line"] == start and f"line {at + 1} is neither a field tag" in row["reason"]


def test_scopus_rows_longer_than_the_header_are_read_from_both_ends(stores: dict[Path, Store]) -> None:
    with SCOPUS.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = [row for row in reader if any(row)]
    assert sum(len(row) > len(header) for row in rows) > 50
    works = {w["work_id"]: w for w in stores[SCOPUS].read("works").to_pylist()}
    sources = {s["source_id"]: s for s in stores[SCOPUS].read("sources").to_pylist()}
    for row in rows:
        work = works[row[-1]]
        assert work["publication_year"] == int(row[header.index("Year")])
        assert work["title"] == row[header.index("Title")]
        issn = row[header.index("ISSN") - len(header)]
        if issn:
            assert sources[work["source_id"]]["issns"] == [f"{issn[:4]}-{issn[4:]}"]
        kind = row[header.index("Document Type") - len(header)]
        assert work["type"] == SCOPUS_TYPES.get(kind, "other"), kind


def test_bracket_names_match_by_surname_else_the_address_goes_to_every_author(tmp_path: Path) -> None:
    text = PLAIN.read_text(encoding="utf-8-sig")
    text = text.replace("[Stein, Lincoln] Cold Spring Harbor Lab", "[Stein, L] Cold Spring Harbor Lab")
    text = text.replace("[Gopinath, Gopal] US FDA", "[Nobody, Known] US FDA")
    path = damaged(tmp_path, "edited.txt", text.encode())
    store = Store(tmp_path / "store")
    ingest_export(store, "wos", [path])
    people = {
        r["author_name"]: r["raw_affiliations"]
        for r in store.read("authorships").to_pylist()
        if r["work_id"] == "WOS:000285831700110"
    }
    harbor = "Cold Spring Harbor Lab, Cold Spring Harbor, NY 11724 USA"
    assert [name for name, addresses in people.items() if harbor in addresses] == ["Stein, Lincoln"]
    assert len(people) == 22 and all(
        any(a.startswith("US FDA") for a in addresses) for addresses in people.values()
    )


def test_overlapping_exports_in_one_ingest_keep_one_record_per_work(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    report = ingest_export(store, "wos", list(WOS_FILES))
    assert report.taken == 150 and [f["records"] for f in report.files] == [50, 50, 50]
    assert store.read("works").num_rows == 50 and store.read("authorships").num_rows == sum(
        len(r["AF"]) for r in plain_wos_records()
    )
    assert {Path(p).name for p in store.read("works")["record_file"].to_pylist()} == {TAB16.name}
