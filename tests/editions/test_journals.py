"""Journal matching by OpenAlex id, ISSN and title, with the traps of the Nature Index list."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from sciencecities import editions
from sciencecities.resolve.journals import journal_sources, normalise_title

SCHEMA = pa.schema(
    [("source_id", pa.string()), ("name", pa.string()), ("issn_l", pa.string()), ("issns", pa.list_(pa.string()))]
)

# (source id, name, issn_l, issns) -> the journal it must match (None: no match), and how.
SOURCES = [
    ("S1", "The Astrophysical Journal", "0004-637X", ["0004-637X", "1538-4357"], None, None),
    ("S2", "The Astrophysical Journal Letters", "2041-8205", ["2041-8205", "2041-8213"],
     "The Astrophysical Journal Letters", "issn"),
    ("S3", "Monthly Notices of the Royal Astronomical Society", "0035-8711", ["0035-8711", "1365-2966"], None, None),
    ("S4", "Monthly Notices of the Royal Astronomical Society Letters", None, ["1745-3933"],
     "Monthly Notices of the Royal Astronomical Society: Letters", "issn"),
    ("S5", "Journal of Geophysical Research Atmospheres", "2169-897X", ["2169-897X", "2169-8996"],
     "Journal of Geophysical Research: Atmospheres", "issn"),
    ("S6", "Journal of Geophysical Research Solid Earth", "2169-9313", ["2169-9313", "2169-9356"],
     "Journal of Geophysical Research: Solid Earth", "issn"),
    ("S192814187", "BMJ", "0959-8138", ["0959-8138", "1468-5833"], "The BMJ", "openalex id"),
    ("S4393917726", "BMJ", "1756-1833", ["1756-1833"], "The BMJ", "openalex id"),
    ("S7", "Physical review. D. Particles, fields, gravitation, and cosmology", "1550-7998",
     ["1550-7998", "1550-2368"], "Physical Review D", "issn"),
    ("S8", "Physical review. D/Physical review. D.", "2470-0010", ["2470-0010", "2470-0029"],
     "Physical Review D", "issn"),
    ("S9", "Science Advances", None, None, "Science Advances", "title"),
    ("S10", "the lancet", None, [], "The Lancet", "title"),
    # A generic title with its own ISSNs must not be taken by title.
    ("S11", "Brain", "9999-9999", ["9999-9999"], None, None),
    # ISSN-L alone is enough; case does not matter.
    ("S12", "PRX", "2160-3308", None, "Physical Review X", "issn"),
    ("S13", "Arthritis & Rheumatism", "0004-3591", ["0004-3591", "1529-0131"], None, None),
]


@pytest.fixture(scope="module")
def matched() -> dict[str, dict[str, object]]:
    rows = [dict(zip(SCHEMA.names, s[:4], strict=True)) for s in SOURCES]
    table = ibis.memtable(pa.Table.from_pylist(rows, schema=SCHEMA))
    result = journal_sources(table, editions.load("nature-index")).to_pyarrow().to_pylist()
    return {r["source_id"]: r for r in result}


@pytest.mark.parametrize("source", SOURCES, ids=[s[0] + " " + s[1] for s in SOURCES])
def test_source_matches_its_journal_and_only_it(source: tuple, matched: dict[str, dict[str, object]]) -> None:
    source_id, _, _, _, journal, how = source
    if journal is None:
        assert source_id not in matched
    else:
        assert matched[source_id]["journal"] == journal
        assert matched[source_id]["matched_by"] == how
        assert matched[source_id]["candidates"] == 1


def test_titles_normalise_without_losing_letters() -> None:
    assert normalise_title("The BMJ") == "bmj"
    assert normalise_title("Arthritis & Rheumatology") == "arthritis and rheumatology"
    assert normalise_title("Journal of Geophysical Research: Atmospheres") == "journal of geophysical research atmospheres"
    assert normalise_title("The Astrophysical Journal Letters") != normalise_title("The Astrophysical Journal")


def test_shipped_editions_have_their_lists() -> None:
    current = editions.load("nature-index")
    old = editions.load("nature-index-2018")
    assert len(current.journal_list()) == 145 and len(old.journal_list()) == 82
    assert set(current.subjects) == {
        "chemistry", "physical-sciences", "earth-environmental-sciences", "biological-sciences", "health-sciences"
    }
    assert set(old.subjects) == {"chemistry", "physical-sciences", "earth-environmental-sciences", "life-sciences"}
    titles = {j.title for j in current.journal_list()}
    assert "eLife" not in titles and "eLife" in {j.title for j in old.journal_list()}
    multi = sorted(j.title for j in current.journal_list() if j.multidisciplinary)
    assert multi == [
        "Nature", "Nature Communications",
        "Proceedings of the National Academy of Sciences of the United States of America", "Science",
        "Science Advances",
    ]
    both = next(j for j in current.journal_list() if j.title == "Advanced Materials")
    assert both.subjects == ("chemistry", "physical-sciences")
    assert editions.load("all-articles").journal_list() == []


def test_user_edition_errors_are_clear(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sciencecities.errors import EditionError

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsubjects: {a: A}\njournals:\n  inline:\n    - {title: J, subjects: [b]}\n")
    with pytest.raises(EditionError, match=r"not declared"):
        editions.load(str(bad))
    partial = tmp_path / "partial.yaml"
    partial.write_text("name: x\nsubjects: {a: A}\nmultidisciplinary:\n  fields: {'16': [a]}\n")
    with pytest.raises(EditionError, match="all 26 OpenAlex fields"):
        editions.load(str(partial))
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: x\njournals:\n  file: nowhere.csv\n")
    with pytest.raises(EditionError, match="nowhere.csv"):
        editions.load(str(missing))
