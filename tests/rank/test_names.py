"""Finding an entity by name: ids, names without case, accents or 'metropolitan area', country picks,
prefixes, and clear errors with suggestions."""

from __future__ import annotations

import pytest

from sciencecities.errors import InputError
from sciencecities.rank.names import Candidate, find, normalise

UNITS = [
    Candidate("us-csa-148", "Boston metropolitan area", "US"),
    Candidate("gn-4931972", "Cambridge", "US"),
    Candidate("gb-cambridge", "Cambridge", "GB"),
    Candidate("br-sao-paulo", "São Paulo metropolitan area", "BR"),
    Candidate("ch-zurich", "Zürich", "CH"),
    Candidate("us-csa-488", "San Francisco Bay Area", "US"),
]


def test_normalise_drops_case_accents_and_the_metro_suffix() -> None:
    assert normalise("São Paulo Metropolitan Area") == "sao paulo"
    assert normalise("Winston-Salem") == "winston salem"


@pytest.mark.parametrize(
    ("query", "want"),
    [
        ("us-csa-148", "us-csa-148"),
        ("US-CSA-148", "us-csa-148"),
        ("boston", "us-csa-148"),
        ("Boston metropolitan area", "us-csa-148"),
        ("sao paulo", "br-sao-paulo"),
        ("Zurich", "ch-zurich"),
        ("Cambridge, GB", "gb-cambridge"),
        ("Cambridge (us)", "gn-4931972"),
        ("san fran", "us-csa-488"),
    ],
)
def test_find(query: str, want: str) -> None:
    assert find(query, UNITS, "city").id == want


def test_an_ambiguous_name_lists_every_match_with_its_id() -> None:
    with pytest.raises(InputError) as caught:
        find("Cambridge", UNITS, "city")
    assert "gn-4931972" in caught.value.message and "gb-cambridge" in caught.value.message
    assert "Cambridge, " in caught.value.hint


def test_an_unknown_name_suggests_close_ones() -> None:
    with pytest.raises(InputError) as caught:
        find("Cambrige", UNITS, "city")
    assert "no city 'Cambrige'" in caught.value.message
    assert "gn-4931972" in caught.value.hint and "gb-cambridge" in caught.value.hint
    with pytest.raises(InputError, match="in FR"):
        find("Boston, FR", UNITS, "city")
    with pytest.raises(InputError) as nothing:
        find("xyzzy", UNITS, "city")
    assert "rank --level city" in nothing.value.hint
