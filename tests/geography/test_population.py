"""Per-capita Share: unit populations from GeoNames (checked by hand against the gazetteer) or a user's file."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

from sciencecities import Settings, Store, build, rank
from sciencecities.errors import InputError
from sciencecities.resolve.geography import gazetteer
from sciencecities.resolve.geography.boundaries import BoundarySet
from sciencecities.resolve.geography.units import NOT_COUNTED

EDITION = "all-articles"


def test_metro_population_is_the_sum_of_its_gazetteer_places(demo: Store) -> None:
    gaz = gazetteer.load()
    metro = BoundarySet.load("metro")
    places = gaz.all_places()
    boston = [p for p, u in zip(places, metro.assign_many(places), strict=True) if u.id == "us-csa-148"]
    want = sum(p.population for p in boston if p.feature_code not in NOT_COUNTED)
    assert 5_000_000 < want < 12_000_000  # the Boston CSA has about 8 million people
    rows = {r["id"]: r for r in rank(demo, level="city", edition=EDITION, per_capita=True).table.to_pylist()}
    assert rows["us-csa-148"]["population"] == want
    assert math.isclose(rows["us-csa-148"]["share_per_million"], rows["us-csa-148"]["share"] / want * 1e6)


def test_city_population_is_the_places_own(demo: Store) -> None:
    cambridge = gazetteer.load().place(4931972)
    assert cambridge is not None
    rows = {
        r["id"]: r
        for r in rank(
            demo, level="city", edition=EDITION, boundaries="city", per_capita=True
        ).table.to_pylist()
    }
    row = rows["gn-4931972"]
    assert row["population"] == cambridge.population
    assert math.isclose(row["share_per_million"], row["share"] / cambridge.population * 1e6)
    clusters = rank(demo, level="city", edition=EDITION, boundaries="clusters", per_capita=True).table
    assert all(p is None or p > 0 for p in clusters["population"].to_pylist())


def test_a_users_population_file_replaces_the_geonames_sum(demo: Store, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    shutil.copytree(demo.root, store.root)
    path = tmp_path / "people.csv"
    path.write_text('unit_id,population,boundaries\nus-csa-148,"4,900,000",metro\n')
    build(store, Settings(store=store.root, edition=EDITION, population=path))
    row = next(
        r
        for r in rank(store, level="city", edition=EDITION, per_capita=True).table.to_pylist()
        if r["id"] == "us-csa-148"
    )
    assert row["population"] == 4_900_000
    assert math.isclose(row["share_per_million"], row["share"] / 4.9)
    bad = tmp_path / "bad.csv"
    bad.write_text("unit_id,population\nus-csa-148,many\n")
    with pytest.raises(InputError, match="line 2"):
        build(store, Settings(store=store.root, edition=EDITION, population=bad))
    with pytest.raises(InputError, match="science cities"):
        rank(store, level="country", edition=EDITION, per_capita=True)
