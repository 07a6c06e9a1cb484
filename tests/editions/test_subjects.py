"""Subjects and eligibility of the Nature Index edition, through ingest and build of constructed works."""

from __future__ import annotations

import duckdb
import pytest

from conftest import write_jsonl
from sciencecities import Settings, Store, audit, build, ingest_openalex, rank

MULTI = {
    "Nature": ("S137773608", "0028-0836"),
    "Science": ("S3880285", "0036-8075"),
    "PNAS": ("S125754415", "0027-8424"),
    "Nature Communications": ("S64187185", "2041-1723"),
    "Science Advances": ("S9000001", "2375-2548"),  # no id in the list: matched by ISSN
}
OTHERS = {
    "Advanced Materials": ("S9000002", "0935-9648"),  # chemistry and physical sciences
    "Physical Review B": ("S9000003", "2469-9950"),  # flagged-only
    "ApJ Letters": ("S9000004", "2041-8205"),  # astronomy
    "Analytical Chemistry": ("S9000005", "0003-2700"),
    "Elsewhere": ("S9000006", "1234-5679"),  # not in the set
}
# (field, domain) -> subjects in the nature-index edition; None = not counted at all.
ROUTES = [
    (("16", "3"), {"chemistry"}),
    (("27", "4"), {"health-sciences"}),
    (("13", "1"), {"biological-sciences"}),
    (("31", "3"), {"physical-sciences"}),
    (("19", "3"), {"earth-environmental-sciences"}),
    (("25", "3"), {"chemistry", "physical-sciences"}),
    ((None, "4"), {"health-sciences"}),  # no field: by domain
    ((None, None), set()),  # no topic: unclassified, overall only
    (("20", "2"), None),  # economics: outside the subjects
    ((None, "2"), None),  # social sciences by domain: outside
]


def _work(wid: str, journal: tuple[str, str], topic: tuple[str | None, str | None] | None, year: int = 2024):
    source_id, issn = journal
    record: dict[str, object] = {
        "id": wid,
        "type": "article",
        "publication_year": year,
        "primary_location": {"source": {"id": source_id, "display_name": source_id, "issn_l": issn, "issn": [issn]}},
        "authorships": [{"author": {"id": "A" + wid}, "institutions": [{"id": "I1", "country_code": "FR"}]}],
    }
    if topic and (topic[0] or topic[1]):
        field, domain = topic
        record["primary_topic"] = {
            "id": "T1",
            "field": {"id": f"https://openalex.org/fields/{field}"} if field else None,
            "domain": {"id": f"https://openalex.org/domains/{domain}"} if domain else None,
        }
    return record


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Store:
    root = tmp_path_factory.mktemp("subjects")
    works = []
    for journal in MULTI.values():
        for index, (topic, _) in enumerate(ROUTES):
            works.append(_work(f"W{journal[0][1:]}{index:02d}", journal, topic))
    works += [_work(f"W{j[0][1:]}", j, ("16", "3")) for j in OTHERS.values()]
    store = Store(root / "store")
    ingest_openalex(store, [write_jsonl(root / "works.jsonl", works)])
    build(store, Settings(store=store.root))
    return store


def _derived(store: Store, table: str, edition: str = "nature-index") -> list[tuple]:
    path = store.current / "derived" / edition / f"{table}.parquet"
    return duckdb.sql(f"SELECT * FROM '{path}'").fetchall()


def test_each_multidisciplinary_journal_routes_by_field_then_domain(world: Store) -> None:
    eligible = {row[0] for row in _derived(world, "eligible_works")}
    subjects: dict[str, set[str]] = {}
    for work_id, subject in _derived(world, "work_subjects"):
        subjects.setdefault(work_id, set()).add(subject)
    for name, journal in MULTI.items():
        for index, (_, want) in enumerate(ROUTES):
            wid = f"W{journal[0][1:]}{index:02d}"
            if want is None:
                assert wid not in eligible, (name, index)
            else:
                assert wid in eligible, (name, index)
                assert subjects.get(wid, set()) == want, (name, index)


def test_two_subject_journal_counts_in_both_and_overall_once(world: Store) -> None:
    overall = {r["id"]: r for r in rank(world, level="institution").table.to_pylist()}
    chemistry = {r["id"]: r for r in rank(world, level="institution", subject="chemistry").table.to_pylist()}
    physical = {r["id"]: r for r in rank(world, level="institution", subject="physical-sciences").table.to_pylist()}
    # Eligible: 5 journals x 8 counted routes + Advanced Materials, Analytical Chemistry, ApJ Letters = 43, all I1.
    assert overall["I1"]["count"] == 43 and overall["I1"]["share"] == pytest.approx(43.0)
    # Chemistry: 5 x (field 16 + field 25) + Advanced Materials + Analytical Chemistry = 12.
    assert chemistry["I1"]["count"] == 12
    # Physical sciences: 5 x (field 31 + field 25) + Advanced Materials + ApJ Letters = 12.
    assert physical["I1"]["count"] == 12


def test_flagged_journals_and_legacy_weights_are_options(world: Store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    skipped = {r["reason"]: r["works"] for r in audit(world).sections["skipped_works"]}
    assert skipped["flagged-only journal Physical Review B"] == 1
    assert skipped["source not in the journal set"] == 1
    assert skipped["outside the edition's subjects (field 20)"] == 5
    assert skipped["outside the edition's subjects (domain 2)"] == 5
    copy = Store(tmp_path / "copy")
    shutil.copytree(world.root, copy.root)
    build(copy, Settings(store=copy.root, include_flagged=True, legacy_weights=True))
    weights = {row[0]: row[2] for row in _derived(copy, "eligible_works")}
    assert weights["W9000003"] == 1.0
    assert weights["W9000004"] == pytest.approx(0.2)
    assert weights["W9000005"] == 1.0
    overall = {r["id"]: r for r in rank(copy, level="institution").table.to_pylist()}
    # 43 articles as before plus Physical Review B (1.0), with ApJ Letters at 0.2 instead of 1.
    assert overall["I1"]["share"] == pytest.approx(43 - 1 + 0.2 + 1) and overall["I1"]["count"] == 44
    assert copy.manifest()["builds"]["nature-index"]["options"]["legacy_weights"] is True
