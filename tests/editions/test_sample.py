"""The nature-index edition on the real sample, against a plain reading of the sample and the journal list."""

from __future__ import annotations

import csv
import gzip
import json
from importlib import resources
from pathlib import Path

import duckdb
import yaml

from sciencecities import Store, edition_coverage, rank
from sciencecities.demo import sample_files

EXCLUDED_FIELDS = {"12", "14", "18", "20", "32", "33"}  # mapped to [] in nature-index.yaml
EXCLUDED_DOMAINS = {"2"}


def _plain_list() -> tuple[dict[str, str], dict[str, str], set[str], set[str]]:
    """id -> journal, ISSN -> journal, multidisciplinary titles, flagged-only titles, read with csv and yaml."""
    folder = resources.files("sciencecities").joinpath("editions")
    spec = yaml.safe_load(folder.joinpath("nature-index.yaml").read_text())
    by_id: dict[str, str] = {}
    by_issn: dict[str, str] = {}
    multi = set()
    with folder.joinpath("journals", "nature-index-145.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            title = row["journal"]
            for sid in filter(None, row["openalex_source_id"].split(";")):
                by_id[sid] = title
            for issn in filter(None, [*row["issns"].split(";"), row["issn_l"]]):
                by_issn[issn.upper()] = title
            if row["multidisciplinary_partial"] == "yes":
                multi.add(title)
    for title, ids in spec["journals"]["extra_openalex_ids"].items():
        by_id.update({i: title for i in ids})
    for title, issns in spec["journals"]["extra_issns"].items():
        by_issn.update({i: title for i in issns})
    return by_id, by_issn, multi, set(spec["eligibility"]["flagged_only_journals"])


def _tail(url: str | None) -> str | None:
    return url.rsplit("/", 1)[-1] if url else None


def test_nature_index_selects_exactly_the_eligible_works_of_listed_journals(demo: Store) -> None:
    by_id, by_issn, multi, flagged = _plain_list()
    sources = {}
    with gzip.open(sample_files() / "sources_academic_explorer.jsonl.gz", "rt") as handle:
        for line in handle:
            record = json.loads(line)
            sources[_tail(record["id"])] = record
    expected = set()
    journals_seen = set()
    with gzip.open(sample_files() / "works_academic_explorer.jsonl.gz", "rt") as handle:
        for line in handle:
            work = json.loads(line)
            source = ((work.get("primary_location") or {}).get("source")) or work.get("host_venue") or {}
            sid = _tail(source.get("id"))
            if sid and sid.startswith("V"):
                sid = "S" + sid[1:]
            record = sources.get(sid, source)
            issns = {i.upper() for i in (record.get("issn") or []) + [record.get("issn_l")] if i}
            # by id, then ISSN; the sample has no ISSN-less source whose title is on the list
            journal = by_id.get(sid) or next((by_issn[i] for i in sorted(issns) if i in by_issn), None)
            if journal is None:
                continue
            journals_seen.add(journal)
            if work.get("type") != "article" or work.get("publication_year") is None:
                continue
            if work.get("is_retracted") or work.get("is_paratext") or journal in flagged:
                continue
            topic = work.get("primary_topic") or {}
            field = _tail((topic.get("field") or {}).get("id"))
            domain = _tail((topic.get("domain") or {}).get("id"))
            if journal in multi and (field in EXCLUDED_FIELDS or (field is None and domain in EXCLUDED_DOMAINS)):
                continue
            expected.add(_tail(work["id"]))
    path = demo.current / "derived" / "nature-index" / "eligible_works.parquet"
    got = {row[0] for row in duckdb.sql(f"SELECT work_id FROM '{path}'").fetchall()}
    assert got == expected
    assert len(got) > 50
    coverage = edition_coverage(demo, "nature-index").to_pylist()
    assert len(coverage) == 145
    assert {row["journal"] for row in coverage if row["works"]} == journals_seen
    assert {row["journal"] for row in coverage if row["found"]} >= journals_seen
    assert sum(row["eligible_works"] for row in coverage) == len(expected)


def test_every_subject_ranks_on_the_sample(demo: Store) -> None:
    from sciencecities import editions

    for edition in ("nature-index", "all-articles"):
        overall = rank(demo, level="country", edition=edition).table
        assert overall.num_rows > 10
    for sid in editions.load("nature-index").subjects:
        table = rank(demo, level="institution", subject=sid).table
        assert table.num_rows >= 1, sid
        assert all(r["share"] <= r["count"] + 1e-9 for r in table.to_pylist())


def test_shipped_journal_lists_keep_their_provenance() -> None:
    folder = Path(str(resources.files("sciencecities").joinpath("editions", "journals")))
    text = (folder / "PROVENANCE.md").read_text()
    assert "CC BY-NC 4.0" in text and "nature-index-145.csv" in text and "nature-index-82.csv" in text
