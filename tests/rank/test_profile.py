"""The city profile: every section agrees with the rankings it comes from, and the specialisation formula."""

from __future__ import annotations

import math

import pytest

from sciencecities import Store, rank
from sciencecities.errors import InputError
from sciencecities.rank.profile import city_profile
from sciencecities.resolve.subjects import ALL

EDITION = "nature-index"
WINDOW = (2015, 2024)


def test_summary_and_years_agree_with_the_city_ranking(demo: Store) -> None:
    profile = city_profile(demo, "boston", years=WINDOW, edition=EDITION)
    assert profile.city.id == "us-csa-148"
    ranked = {r["id"]: r for r in rank(demo, level="city", years=WINDOW, edition=EDITION).table.to_pylist()}
    row = ranked["us-csa-148"]
    summary = profile.summary
    assert (summary["rank"], summary["count"], summary["of_cities"]) == (row["rank"], row["count"], len(ranked))
    assert summary["share"] == row["share"] and summary["contribution_to_country"] == row["contribution"]
    years = [r for r in profile.by_year.to_pylist() if WINDOW[0] <= r["year"] <= WINDOW[1]]
    assert math.isclose(sum(r["share"] for r in years), summary["share"], rel_tol=1e-12)
    assert sum(r["count"] for r in years) == summary["count"]
    inside = profile.institutions.to_pylist()
    assert len(inside) <= 10 and summary["institutions"] >= len(inside)
    assert all(r["contribution"] <= 100 for r in inside)


def test_specialisation_is_the_city_subject_fraction_over_the_worlds(demo: Store) -> None:
    profile = city_profile(demo, "us-csa-148", years=WINDOW, edition=EDITION)
    totals = [r for r in demo.read("article_totals", EDITION).to_pylist() if WINDOW[0] <= r["year"] <= WINDOW[1]]
    world = sum(r["weighted"] for r in totals if r["subject"] == ALL)
    checked = 0
    for row in profile.subjects.to_pylist():
        subject = rank(demo, level="city", years=WINDOW, subject=row["subject"], edition=EDITION).table.to_pylist()
        share = next((r["share"] for r in subject if r["id"] == "us-csa-148"), 0.0)
        assert math.isclose(row["share"], share, rel_tol=1e-12)
        world_fraction = sum(r["weighted"] for r in totals if r["subject"] == row["subject"]) / world
        assert math.isclose(row["world_fraction"], world_fraction, rel_tol=1e-12)
        if share:
            want = (share / profile.summary["share"]) / world_fraction
            assert math.isclose(row["specialisation"], want, rel_tol=1e-12)
            checked += 1
    assert checked >= 1


def test_unknown_and_ambiguous_names_are_clear_errors(demo: Store) -> None:
    with pytest.raises(InputError) as caught:
        city_profile(demo, "Bostn", edition=EDITION)
    assert "Boston metropolitan area" in caught.value.hint
    with pytest.raises(InputError, match="ambiguous"):
        city_profile(demo, "Cambridge", edition=EDITION, boundaries="city")


def test_collaborators_are_the_citys_pairs(demo: Store) -> None:
    from sciencecities.rank.collaboration import collaboration

    profile = city_profile(demo, "us-csa-148", years=WINDOW, edition=EDITION, top=5)
    assert profile.collaborators is not None and 0 < profile.collaborators.num_rows
    pairs = collaboration(demo, level="city", years=WINDOW, edition=EDITION).table.to_pylist()
    want = {}
    for row in pairs:
        if "us-csa-148" in (row["id_a"], row["id_b"]):
            other = row["id_b"] if row["id_a"] == "us-csa-148" else row["id_a"]
            want[other] = (row["articles"], row["score"])
    for row in profile.collaborators.to_pylist():
        assert want[row["id"]][0] == row["articles"]
        assert math.isclose(want[row["id"]][1], row["score"], rel_tol=1e-12)
    best = max(want.values(), key=lambda v: v[1])
    assert math.isclose(profile.collaborators["score"][0].as_py(), best[1], rel_tol=1e-12)
