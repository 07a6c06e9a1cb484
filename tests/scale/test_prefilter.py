"""`ingest openalex --edition` (issue 11, point 7): works outside the edition's journals are dropped before they
are parsed, and the edition's rankings are exactly those of a full ingest."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import cli
from sciencecities import Settings, Store, build, editions, ingest_openalex, rank
from sciencecities.acquire.synthetic import Spec, Written, generate
from sciencecities.errors import InputError
from sciencecities.normalise import prefilter
from sciencecities.normalise.prefilter import EditionFilter

SPEC = Spec(works=3000, files=2, edition_share=0.1, institutions=1500, places=200, countries=25, seed=11)
NI = EditionFilter.of(editions.load("nature-index"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Written]:
    out = tmp_path_factory.mktemp("synthetic")
    return out, generate(SPEC, out, workers=1)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory, generated: tuple[Path, Written]) -> tuple[Store, Store]:
    root = tmp_path_factory.mktemp("stores")
    full, filtered = Store(root / "full"), Store(root / "filtered")
    ingest_openalex(full, [generated[0]])
    report = ingest_openalex(filtered, [generated[0]], edition=editions.load("nature-index"))
    assert report.prefilter == "nature-index"
    assert report.prefiltered["lines"] == SPEC.works
    assert report.prefiltered["kept"] == generated[1].in_edition
    for store in (full, filtered):
        build(store, Settings(store=store.root))
    return full, filtered


def test_kept_lines_are_the_edition_works(
    generated: tuple[Path, Written], stores: tuple[Store, Store]
) -> None:
    full, filtered = stores
    kept = rank(filtered, level="country").meta["coverage"]["works_in_store"]
    assert kept == generated[1].in_edition < SPEC.works * 0.15
    assert rank(full, level="country").meta["coverage"]["works_in_store"] == SPEC.works


@pytest.mark.parametrize("level", ["institution", "city", "country"])
def test_rankings_equal_a_full_ingest(stores: tuple[Store, Store], level: str) -> None:
    full, filtered = (rank(s, level=level, years=(2015, 2024)).table.to_pandas() for s in stores)
    assert len(full) > 20
    floats = [c for c in full.columns if full[c].dtype.kind == "f"]
    assert "share" in floats
    assert full.drop(columns=floats).equals(filtered.drop(columns=floats))
    pd.testing.assert_frame_equal(full[floats], filtered[floats], check_exact=False, rtol=1e-9, atol=1e-9)


def test_other_editions_cannot_be_built(stores: tuple[Store, Store]) -> None:
    with pytest.raises(InputError, match="ingested with --edition nature-index") as caught:
        build(stores[1], Settings(store=stores[1].root, edition="all-articles"))
    assert "ingest again without --edition" in caught.value.hint


def test_a_full_ingest_reads_prefiltered_files_again(generated: tuple[Path, Written], tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    ingest_openalex(store, [generated[0]], edition=editions.load("nature-index"))
    again = ingest_openalex(store, [generated[0]], edition=editions.load("nature-index"))
    assert again.files == [] and len(again.unchanged) == 4
    whole = ingest_openalex(store, [generated[0]])
    assert len(whole.files) == 4
    assert whole.tables["works"] == SPEC.works


def line(source: object, *, spaced: bool = False, **extra: object) -> bytes:
    record = {
        "id": "https://openalex.org/W1",
        "primary_location": {"is_oa": False, "source": source},
        **extra,
    }
    return json.dumps(record, separators=(", ", ": ") if spaced else (",", ":")).encode()


@pytest.mark.parametrize("spaced", [False, True])
def test_keeps_by_id_or_issn_and_drops_the_rest(spaced: bool) -> None:
    journal = next(j for j in editions.load("nature-index").journal_list() if j.openalex_ids and j.issns)
    cases = {
        "edition id": ({"id": f"https://openalex.org/{journal.openalex_ids[0]}", "issn": None}, True),
        "edition ISSN, other id": ({"id": "https://openalex.org/S1", "issn": [journal.issns[0]]}, True),
        "edition ISSN-L lower case x": (
            {"id": "https://openalex.org/S1", "issn_l": journal.issns[0].lower(), "issn": []},
            True,
        ),
        "other journal": (
            {"id": "https://openalex.org/S1", "issn_l": "9999-0001", "issn": ["9999-0001"]},
            False,
        ),
        "other journal without ISSN": ({"id": "https://openalex.org/S1", "issn": None}, False),
        "no source": (None, False),
    }
    for name, (source, kept) in cases.items():
        raw = line(source, spaced=spaced)
        assert NI.keeps(raw, 0, len(raw)) is kept, name


def test_keeps_what_the_bytes_cannot_tell() -> None:
    old = json.dumps(
        {"id": "https://openalex.org/W1", "host_venue": {"id": "https://openalex.org/V1"}}
    ).encode()
    assert NI.keeps(old, 0, len(old))
    odd = json.dumps(
        {"id": "https://openalex.org/W1", "primary_location": {"source": {"display_name": "X"}}}
    ).encode()
    assert NI.keeps(odd, 0, len(odd))


def test_damaged_file_is_read_whole_and_quarantined(generated: tuple[Path, Written], tmp_path: Path) -> None:
    part = min(generated[0].glob("data/works/*/*.gz"))
    damaged = tmp_path / "works" / "part_000.gz"
    damaged.parent.mkdir()
    damaged.write_bytes(part.read_bytes()[: part.stat().st_size // 2])
    with gzip.open(part, "rt") as handle:
        total = sum(1 for _ in handle)
    store = Store(tmp_path / "store")
    report = ingest_openalex(store, [damaged], edition=editions.load("nature-index"))
    assert report.prefiltered["unfiltered_files"] == 1
    assert 0 < report.taken < total  # the readable half, unfiltered
    assert report.quarantined >= 1


def test_cli(generated: tuple[Path, Written], tmp_path: Path) -> None:
    done = cli(
        "ingest", "openalex", str(generated[0]), "--store", str(tmp_path / "s"), "--edition", "nature-index"
    )
    assert done.returncode == 0, done.stderr
    assert (
        f"prefilter nature-index: kept {generated[1].in_edition:,} of {SPEC.works:,} works lines"
        in done.stderr
    )
    wrong = cli(
        "ingest", "openalex", str(generated[0]), "--store", str(tmp_path / "t"), "--edition", "no-such"
    )
    assert wrong.returncode == 1 and "unknown edition 'no-such'" in wrong.stderr


@pytest.mark.parametrize("block", [97, 4096, 1 << 20])
def test_the_kept_lines_do_not_depend_on_where_blocks_end(
    generated: tuple[Path, Written], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int
) -> None:
    """Lines cut by a block boundary (small blocks cut almost every line, and some lines span many blocks) are
    judged whole: the kept lines are exactly those a plain line-by-line reading keeps."""
    source = min(generated[0].glob("data/works/*/*.gz"))
    with gzip.open(source, "rb") as handle:
        every = handle.read().splitlines(keepends=True)
    want = [line for line in every if NI.keeps(line, 0, len(line) - 1)]
    monkeypatch.setattr(prefilter, "_BLOCK", block)
    done = prefilter.filter_file((NI, source, tmp_path / "kept.jsonl"))
    assert (done.lines, done.kept) == (len(every), len(want))
    assert (tmp_path / "kept.jsonl").read_bytes() == b"".join(want)
    assert 0 < len(want) < len(every)
