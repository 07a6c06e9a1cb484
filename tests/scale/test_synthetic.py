"""The synthetic works generator (issue 11): seeded, OpenAlex-shaped, of the shape it promises, labelled
synthetic, and read by the ingest without a quarantine."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from sciencecities import Settings, Store, build, ingest_openalex, rank
from sciencecities.acquire.synthetic import LABEL, Spec, generate
from sciencecities.errors import InputError

SPEC = Spec(works=6000, files=2, institutions=2000, places=300, countries=30, seed=7)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    generate(SPEC, out, workers=1)
    return out


def works(folder: Path) -> list[dict]:
    records = []
    for path in sorted(folder.glob("data/works/*/*.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            records.extend(json.loads(line) for line in handle)
    return records


def test_same_seed_same_bytes_other_seed_other_bytes(generated: Path, tmp_path: Path) -> None:
    again = generate(SPEC, tmp_path / "again", workers=2)
    other = generate(Spec(**{**SPEC.__dict__, "seed": 8}), tmp_path / "other", workers=1)
    first = sorted(generated.glob("data/works/*/*.gz"))
    assert [gzip.decompress(p.read_bytes()) for p in first] == [
        gzip.decompress(p.read_bytes()) for p in sorted((tmp_path / "again").glob("data/works/*/*.gz"))
    ]
    assert again.works == SPEC.works
    assert gzip.decompress(first[0].read_bytes()) != gzip.decompress(
        min((tmp_path / "other").glob("data/works/*/*.gz")).read_bytes()
    )
    assert other.works == SPEC.works


def test_shape(generated: Path) -> None:
    records = works(generated)
    assert len(records) == SPEC.works
    assert len({r["id"] for r in records}) == SPEC.works
    authors = np.array([len(r["authorships"]) for r in records])
    assert 5 <= np.median(authors) <= 7
    per_author = np.bincount([len(a["institutions"]) for r in records for a in r["authorships"]], minlength=4)
    shares = per_author / per_author.sum()
    assert shares[0] == pytest.approx(0.03, abs=0.01)
    assert shares[1] + shares[2] + shares[3] == pytest.approx(0.97, abs=0.01)
    assert shares[2] == pytest.approx(0.16, abs=0.03)  # repeats of a team's institution merge a few
    assert shares[3] == pytest.approx(0.04, abs=0.015)
    null_source = np.mean([r["primary_location"]["source"] is None for r in records])
    assert null_source == pytest.approx(0.03, abs=0.01)
    assert np.mean([r["type"] != "article" for r in records]) == pytest.approx(0.12, abs=0.015)
    sizes = np.array([len(json.dumps(r, separators=(",", ":"))) for r in records])
    assert 3000 <= np.median(sizes) <= 8000
    for field in ("abstract_inverted_index", "topics", "concepts", "referenced_works", "counts_by_year"):
        assert all(field in r for r in records)


def test_institutions_zipf_like_over_real_places(generated: Path) -> None:
    records = works(generated)
    used = np.array(
        sorted(
            np.unique(
                [i["id"] for r in records for a in r["authorships"] for i in a["institutions"]],
                return_counts=True,
            )[1],
            reverse=True,
        )
    )
    assert used[0] > 20 * np.median(used)  # a heavy head, a long tail
    with gzip.open(next(generated.glob("data/institutions/*/*.gz")), "rt") as handle:
        institutions = [json.loads(line) for line in handle]
    assert len(institutions) == SPEC.institutions
    assert len({i["country_code"] for i in institutions}) <= SPEC.countries
    assert all(i["geo"]["geonames_city_id"] and LABEL in i["display_name"] for i in institutions)


def test_labelled_and_ingested_whole(generated: Path, tmp_path: Path) -> None:
    assert LABEL in (generated / "SYNTHETIC.md").read_text()
    assert all(r["title"].startswith(LABEL) for r in works(generated)[:100])
    store = Store(tmp_path / "store")
    report = ingest_openalex(store, [generated])
    assert report.quarantined == 0
    assert report.tables["works"] == SPEC.works
    build(store, Settings(store=store.root))
    ranking = rank(store, level="city", years=(2024, 2024))
    assert len(ranking.table) > 10
    in_set = 1 - SPEC.null_source_share - (1 - SPEC.null_source_share) * (1 - SPEC.edition_share)
    eligible = ranking.meta["coverage"]["eligible_articles"]
    assert eligible < SPEC.works * in_set * (1 - SPEC.not_article_share) * 1.1


def test_a_small_memory_limit_spills_to_disk_and_changes_nothing(generated: Path, tmp_path: Path) -> None:
    roomy, tight = Store(tmp_path / "roomy"), Store(tmp_path / "tight")
    ingest_openalex(roomy, [generated], memory_limit="4GB")
    report = ingest_openalex(tight, [generated], memory_limit="256MB")
    assert all(f["read"] == "whole file" for f in report.files)
    for table in ("works", "authorships", "affiliations", "institutions", "sources"):
        assert (
            roomy.read(table)
            .sort_by(roomy.read(table).column_names[0])
            .equals(tight.read(table).sort_by(tight.read(table).column_names[0]))
        ), table


def test_a_memory_limit_that_is_no_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'lots' is not a size"):
        ingest_openalex(Store(tmp_path / "store"), [tmp_path], memory_limit="lots")


def test_too_little_memory_is_a_clear_error_not_a_slow_crawl(generated: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="ran out of memory") as caught:
        ingest_openalex(Store(tmp_path / "store"), [generated], memory_limit="1MB")
    assert "--memory-limit" in caught.value.hint
    assert not (tmp_path / "store").exists() or not Store(tmp_path / "store").exists
