"""Geography in the build: places, units and groups of the demo store, the city and group levels, overrides,
a user's boundary set, and the audit sections; every Share accounted for."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest

from sciencecities import Settings, Store, audit, build, rank
from sciencecities.errors import InputError, StoreError
from sciencecities.tables import INSTITUTION_GROUPS, INSTITUTION_PLACES, INSTITUTION_UNITS

EDITION = "all-articles"
HARVARD = "I136199984"


def _total_share(store: Store, edition: str = EDITION) -> float:
    return pc.sum(store.read("credit", edition)["share"]).as_py()


def _unplaced_share(store: Store, edition: str = EDITION) -> float:
    places = store.read("institution_places", edition)
    unplaced = set(places.filter(pc.is_null(places["geonames_id"]))["institution_id"].to_pylist())
    credit = store.read("credit", edition).to_pylist()
    return sum(r["share"] for r in credit if r["institution_id"] in unplaced)


def _copy(demo: Store, tmp_path: Path) -> Store:
    copy = Store(tmp_path / "copy")
    shutil.copytree(demo.root, copy.root)
    return copy


def test_every_institution_has_one_place_row_and_every_placed_one_a_unit_in_each_set(demo: Store) -> None:
    places = demo.read("institution_places", EDITION)
    institutions = demo.read("institutions")
    assert places.schema == INSTITUTION_PLACES.schema
    assert sorted(places["institution_id"].to_pylist()) == sorted(institutions["institution_id"].to_pylist())
    placed = set(places.filter(pc.is_valid(places["geonames_id"]))["institution_id"].to_pylist())
    assert set(places["geo_source"].drop_null().to_pylist()) <= {"override", "openalex", "ror", "parsed"}
    units = demo.read("institution_units", EDITION)
    assert units.schema == INSTITUTION_UNITS.schema
    keys = list(zip(units["boundaries"].to_pylist(), units["institution_id"].to_pylist(), strict=True))
    assert len(keys) == len(set(keys))
    for name in ("metro", "city"):
        in_set = {i for b, i in keys if b == name}
        assert in_set == placed, name
    credited = set(demo.read("credit", EDITION)["institution_id"].to_pylist())
    clustered = {i for b, i in keys if b == "clusters"}
    # Clusters are drawn over places weighted by Share: a place holding no Share has no cluster, and an
    # institution without Share is clustered only when it shares its place with one that has some.
    assert placed & credited <= clustered <= placed
    place_of = dict(zip(places["institution_id"].to_pylist(), places["geonames_id"].to_pylist(), strict=True))
    weighted = {place_of[i] for i in placed & credited}
    assert clustered - credited and all(place_of[i] in weighted for i in clustered - credited)
    assert demo.read("institution_groups", EDITION).schema == INSTITUTION_GROUPS.schema


@pytest.mark.parametrize("boundaries", ["metro", "city", "clusters"])
def test_city_level_holds_all_placed_share(demo: Store, boundaries: str) -> None:
    cities = rank(demo, level="city", edition=EDITION, boundaries=boundaries).table
    placed = _total_share(demo) - _unplaced_share(demo)
    assert _unplaced_share(demo) > 0  # the sample has unplaced institutions: the test can tell them apart
    assert math.isclose(pc.sum(cities["share"]).as_py(), placed, rel_tol=1e-12)
    # Counts are distinct articles per city: never more than the articles with any placed author.
    assert pc.max(cities["count"]).as_py() <= demo.manifest()["builds"][EDITION]["rows"]["eligible_works"]


def test_metro_merges_what_city_keeps_apart(demo: Store) -> None:
    metro = {r["id"]: r for r in rank(demo, level="city", edition=EDITION).table.to_pylist()}
    city = {r["id"]: r for r in rank(demo, level="city", edition=EDITION, boundaries="city").table.to_pylist()}
    assert len(metro) < len(city)
    boston = metro["us-csa-148"]
    assert boston["name"] == "Boston metropolitan area"
    parts = [r for r in city.values() if r["name"] in ("Boston", "Cambridge") and r["country_code"] == "US"]
    assert len(parts) == 2 and boston["share"] > sum(r["share"] for r in parts) - 1e-9
    assert boston["count"] >= max(r["count"] for r in parts)


def test_contribution_is_the_city_share_over_its_countrys(demo: Store) -> None:
    cities = rank(demo, level="city", edition=EDITION, years=(2020, 2024)).table.to_pylist()
    countries = {r["id"]: r["share"] for r in rank(demo, level="country", edition=EDITION, years=(2020, 2024)).table.to_pylist()}
    checked = 0
    for row in cities[:20]:
        want = row["share"] / countries[row["country_code"]] * 100
        assert math.isclose(row["contribution"], want, rel_tol=1e-12), row["id"]
        checked += 1
    assert checked == 20
    us = [r["contribution"] for r in cities if r["country_code"] == "US"]
    assert sum(us) <= 100 + 1e-9


def test_continents_partition_the_placed_share_and_regional_groups_are_inside_their_country(demo: Store) -> None:
    groups = {r["id"]: r for r in rank(demo, level="group", edition=EDITION).table.to_pylist()}
    continents = ["africa", "asia", "europe", "north-america", "oceania", "south-america", "antarctica"]
    total = sum(groups[c]["share"] for c in continents if c in groups)
    assert math.isclose(total, _total_share(demo) - _unplaced_share(demo), rel_tol=1e-12)
    china = groups["china-mainland"]["share"]
    regional = sum(groups[g]["share"] for g in ("jing-jin-ji", "yangtze-river-delta") if g in groups)
    assert 0 < regional <= china
    assert groups["greater-bay-area"]["share"] > 0  # Hong Kong universities are in the sample
    trend = rank(demo, level="group", edition=EDITION, years=(2020, 2020)).table
    assert trend.num_rows > 0


def test_an_override_moves_an_institution_and_its_share(demo: Store, tmp_path: Path) -> None:
    copy = _copy(demo, tmp_path)
    before = {r["id"]: r["share"] for r in rank(copy, level="city", edition=EDITION).table.to_pylist()}
    harvard = pc.sum(
        copy.read("credit", EDITION).filter(pc.equal(copy.read("credit", EDITION)["institution_id"], HARVARD))["share"]
    ).as_py()
    overrides = tmp_path / "places.csv"
    overrides.write_text(f"institution_id,geonames_id\nhttps://openalex.org/{HARVARD},2640729\n")  # Oxford
    build(copy, Settings(store=copy.root, edition=EDITION, places=overrides))
    after = {r["id"]: r["share"] for r in rank(copy, level="city", edition=EDITION).table.to_pylist()}
    assert math.isclose(before["us-csa-148"] - after["us-csa-148"], harvard, rel_tol=1e-9)
    oxford = [k for k in after if "oxford" in k]
    assert len(oxford) == 1
    assert math.isclose(after[oxford[0]] - before.get(oxford[0], 0.0), harvard, rel_tol=1e-9)
    row = next(r for r in copy.read("institution_places", EDITION).to_pylist() if r["institution_id"] == HARVARD)
    assert (row["geo_source"], row["place_name"]) == ("override", "Oxford")


def test_a_bad_override_file_names_each_bad_line(demo: Store, tmp_path: Path) -> None:
    copy = _copy(demo, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("institution_id,geonames_id,latitude,longitude\nI1,999999999,,\nI2,,95,10\nI3,,,\nI4,2640729,,\n")
    version = copy.manifest()["version"]
    with pytest.raises(InputError) as caught:
        build(copy, Settings(store=copy.root, edition=EDITION, places=bad))
    message = caught.value.message
    assert "3 rows" in message and "line 2" in message and "line 3" in message and "line 4" in message
    assert "line 5" not in message
    assert copy.manifest()["version"] == version  # nothing written
    with pytest.raises(InputError, match="columns"):
        (tmp_path / "cols.csv").write_text("id,city\nI1,Oxford\n")
        build(copy, Settings(store=copy.root, edition=EDITION, places=tmp_path / "cols.csv"))


def test_a_users_boundary_set_is_built_on_request_and_ranked(demo: Store, tmp_path: Path) -> None:
    copy = _copy(demo, tmp_path)
    mine = tmp_path / "towns.yaml"
    mine.write_text("name: towns\nversion: 3\ntitle: every place alone\nrules:\n  - rule: place\n")
    with pytest.raises(StoreError, match="towns"):
        rank(copy, level="city", edition=EDITION, boundaries=str(mine))
    build(copy, Settings(store=copy.root, edition=EDITION, boundaries=str(mine)))
    towns = rank(copy, level="city", edition=EDITION, boundaries=str(mine))
    city = rank(copy, level="city", edition=EDITION, boundaries="city")
    assert towns.meta["boundaries"] == "towns"
    def rows(table: object) -> list[tuple[str, int, float]]:
        return [(r["id"], r["count"], round(r["share"], 9)) for r in table.to_pylist()]  # type: ignore[attr-defined]

    assert rows(towns.table) == rows(city.table)
    assert copy.manifest()["builds"][EDITION]["geography"]["boundaries"]["towns"]["version"] == 3


def test_places_are_reused_across_editions_of_one_store_version(demo: Store) -> None:
    one = demo.read("institution_places", "nature-index")
    other = demo.read("institution_places", EDITION)
    assert one.equals(other)


def test_audit_lists_unplaced_institutions_with_their_share_and_places_by_source(demo: Store) -> None:
    report = audit(demo, EDITION)
    unplaced = report.sections["institutions_without_place"]
    assert unplaced and unplaced == sorted(unplaced, key=lambda r: (-r["share"], r["institution_id"]))
    assert math.isclose(report.totals["share_without_place"], _unplaced_share(demo), rel_tol=1e-12)
    by_source = {r["source"]: r for r in report.sections["places_by_source"]}
    places = demo.read("institution_places", EDITION)
    assert sum(r["institutions"] for r in by_source.values()) == places.num_rows
    assert by_source["openalex"]["institutions"] == pc.sum(pc.equal(places["geo_source"], "openalex")).as_py()
    assert 0.9 < report.totals["placed_fraction"] < 1
    assert "place_country_disagreements" in report.sections


def test_the_readme_states_the_placed_fraction_of_the_demo(demo: Store) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    geography = demo.manifest()["builds"]["nature-index"]["geography"]
    credited = {r["source"]: r for r in geography["places_by_source"]}
    assert f"{geography['placed_fraction']:.1%} of the `nature-index` Share" in readme
    assert f"({geography['placed_share']:.2f} of 60.00)" in readme
    assert f"{credited['openalex']['institutions']} credited institutions by their OpenAlex `geo`" in readme
    assert f"{credited['parsed']['institutions']} by parsing" in readme
    assert f"{credited['unplaced']['institutions']} credited institutions (Share {credited['unplaced']['share']:.2f})" in readme


def test_locate_institution_reads_what_the_build_assigned(demo: Store) -> None:
    from sciencecities import locate, locate_institution
    from sciencecities.errors import GeographyError

    harvard = locate_institution(demo, f"https://openalex.org/{HARVARD}", edition=EDITION)
    units = {(r["boundaries"], r["institution_id"]): r for r in demo.read("institution_units", EDITION).to_pylist()}
    assert harvard.location.unit.id == units[("metro", HARVARD)]["unit_id"] == "us-csa-148"
    assert harvard.geo_source == "openalex" and harvard.name == "Harvard University"
    assert [g for g, _ in harvard.location.groups] == ["north-america"]
    # The same place located as a coordinate lands in the same science city.
    point = locate(harvard.location.latitude, harvard.location.longitude)
    assert point.unit == harvard.location.unit
    clustered = locate_institution(demo, HARVARD, boundaries="clusters", edition=EDITION)
    assert clustered.location.unit.id == units[("clusters", HARVARD)]["unit_id"]
    places = demo.read("institution_places", EDITION).to_pylist()
    unplaced = next(r["institution_id"] for r in places if r["geonames_id"] is None)
    with pytest.raises(GeographyError, match="has no place"):
        locate_institution(demo, unplaced, edition=EDITION)
    with pytest.raises(InputError, match="no institution"):
        locate_institution(demo, "I0", edition=EDITION)
    with pytest.raises(StoreError, match="not built"):
        locate_institution(demo, HARVARD, edition="nature-index-2018")


def test_institutions_of_one_city_with_their_part_of_its_share(demo: Store) -> None:
    inside = rank(demo, level="institution", edition=EDITION, city="Boston", years=(2015, 2024))
    assert inside.meta["city"]["id"] == "us-csa-148"
    units = demo.read("institution_units", EDITION).to_pylist()
    members = {r["institution_id"] for r in units if r["boundaries"] == "metro" and r["unit_id"] == "us-csa-148"}
    rows = inside.table.to_pylist()
    assert rows and {r["id"] for r in rows} <= members
    city = next(r for r in rank(demo, level="city", edition=EDITION, years=(2015, 2024)).table.to_pylist()
                if r["id"] == "us-csa-148")
    assert math.isclose(sum(r["share"] for r in rows), city["share"], rel_tol=1e-12)
    assert math.isclose(sum(r["contribution"] for r in rows), 100.0, rel_tol=1e-9)
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows) and rows[0]["rank"] == 1
    with pytest.raises(InputError, match="ambiguous"):
        rank(demo, level="institution", edition=EDITION, city="Cambridge", boundaries="city")
    with pytest.raises(InputError, match="--level institution"):
        rank(demo, level="country", edition=EDITION, city="Boston")


def test_city_locations_lie_among_their_institutions(demo: Store) -> None:
    from sciencecities.rank.queries import city_locations

    located = {r["id"]: r for r in city_locations(demo, edition=EDITION).to_pylist()}
    boston = located["us-csa-148"]
    assert 42.0 < boston["latitude"] < 42.6 and -71.5 < boston["longitude"] < -70.9
    ranked = rank(demo, level="city", edition=EDITION).table
    assert set(ranked["id"].to_pylist()) <= set(located)
    assert all(-90 <= r["latitude"] <= 90 and -180 <= r["longitude"] <= 180 for r in located.values())
