"""Placing institutions: override, OpenAlex geo, ROR, affiliation strings; unplaced ones stay visible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa

from sciencecities.normalise.ror import read_ror
from sciencecities.resolve.geography import gazetteer
from sciencecities.resolve.geography.places import NEAR_KM, place_institutions

INSTITUTIONS = pa.Table.from_pylist(
    [
        # OpenAlex geo without a city id: placed by its coordinates (Garching, near Munich)
        {
            "institution_id": "I1",
            "country_code": "DE",
            "geonames_city_id": None,
            "latitude": 48.2499,
            "longitude": 11.6518,
        },
        {
            "institution_id": "I2",
            "country_code": "GB",
            "geonames_city_id": None,
            "latitude": None,
            "longitude": None,
        },
        {
            "institution_id": "I3",
            "country_code": None,
            "geonames_city_id": None,
            "latitude": None,
            "longitude": None,
        },
        {
            "institution_id": "I4",
            "country_code": "US",
            "geonames_city_id": None,
            "latitude": 42.3736,
            "longitude": -71.1097,
        },
    ]
)
STRINGS = {
    "I2": [
        "Department of Physics, University of Oxford, Parks Road, Oxford OX1 3PU, UK",
        "Mathematical Institute, University of Oxford, Oxford, United Kingdom",
        "University of Oxford, London, UK",
    ],
    "I3": ["Independent researcher"],
    "I4": ["Harvard University, Cambridge, MA 02138, USA"],
}


def test_each_source_in_order_and_nothing_dropped() -> None:
    gaz = gazetteer.load()
    oxford = gaz.nearest(51.752, -1.2577, "GB").place
    overrides = pa.Table.from_pylist([{"institution_id": "I4", "geonames_id": oxford.geonames_id}])
    placed = {
        r["institution_id"]: r for r in place_institutions(INSTITUTIONS, STRINGS, gaz, overrides).to_pylist()
    }
    assert set(placed) == {"I1", "I2", "I3", "I4"}
    assert placed["I1"]["geo_source"] == "openalex" and placed["I1"]["place_name"].startswith("Garching")
    # Two of three strings name Oxford: the majority wins, with confidence scaled by the agreement.
    assert placed["I2"]["geo_source"] == "parsed" and placed["I2"]["place_name"] == "Oxford"
    assert placed["I2"]["detail"] == "2 of 3 affiliation strings" and placed["I2"]["confidence"] < 1
    assert placed["I3"]["geo_source"] is None and placed["I3"]["geonames_id"] is None
    # The override beats OpenAlex's coordinates (which point at Cambridge, MA).
    assert placed["I4"]["geo_source"] == "override" and placed["I4"]["geonames_id"] == oxford.geonames_id


ROR_DATA = Path(__file__).parents[1] / "normalise" / "data" / "ror"
ROR_SEARCH = ROR_DATA / "ror_v2_search_response_20_records.json"
ROR_RETRIEVE = ROR_DATA / "ror_v2_retrieve_response_1_record.json"


def ror_record(path: Path, index: int = 0) -> dict[str, Any]:
    """A real ROR v2 record of the fixture files (tests/normalise/data/ror)."""
    return json.loads(path.read_text())["hits"]["hits"][index]["_source"]


def institution(iid: str, ror: str | None, **geo: Any) -> dict[str, Any]:
    """An institutions row with a ROR id and, unless given, no OpenAlex geo."""
    return {
        "institution_id": iid,
        "ror": ror,
        "country_code": None,
        "geonames_city_id": None,
        "latitude": None,
        "longitude": None,
    } | geo


def placed_by_id(rows: list[dict[str, Any]], strings: dict[str, list[str]], ror: pa.Table) -> dict[str, Any]:
    table = place_institutions(pa.Table.from_pylist(rows), strings, gazetteer.load(), ror=ror)
    return {r["institution_id"]: r for r in table.to_pylist()}


def test_ror_comes_after_openalex_geo_and_before_parsed_strings() -> None:
    gaz = gazetteer.load()
    monash = ror_record(ROR_SEARCH)
    bare = monash["id"].removeprefix("https://ror.org/")
    location = monash["locations"][0]
    rows = [
        # OpenAlex geo (Garching) and a ROR id: OpenAlex wins.
        institution("I1", bare, country_code="DE", latitude=48.2499, longitude=11.6518),
        # No OpenAlex geo: the ROR record's GeoNames place beats the strings naming Oxford.
        institution("I2", bare, country_code="AU"),
        # A ROR id the ROR table lacks: the strings decide.
        institution("I3", "00aaaaa00", country_code="GB"),
    ]
    strings = {key: STRINGS["I2"] for key in ("I1", "I2", "I3")}
    placed = placed_by_id(rows, strings, read_ror([ROR_SEARCH]).table)
    assert placed["I1"]["geo_source"] == "openalex" and placed["I1"]["place_name"].startswith("Garching")
    assert placed["I2"]["geo_source"] == "ror"
    assert placed["I2"]["geonames_id"] == location["geonames_id"]
    assert placed["I2"]["place_name"] == gaz.place(location["geonames_id"]).name
    assert placed["I2"]["place_country_code"] == location["geonames_details"]["country_code"]
    assert placed["I2"]["confidence"] == 0.95
    assert placed["I2"]["detail"] == f"ROR {bare}: GeoNames id {location['geonames_id']}"
    assert placed["I3"]["geo_source"] == "parsed" and placed["I3"]["place_name"] == "Oxford"


def test_ror_ids_match_with_or_without_the_url_prefix() -> None:
    record = ror_record(ROR_RETRIEVE)
    url, geonames_id = record["id"], record["locations"][0]["geonames_id"]
    bare = url.removeprefix("https://ror.org/")
    table = read_ror([ROR_RETRIEVE]).table
    assert table.column("ror").to_pylist() == [bare]
    prefixed = table.set_column(0, "ror", pa.array([url]))
    for ror, ror_table in ((url, table), (bare, prefixed), (f" {url.upper()} ", table)):
        placed = placed_by_id([institution("I1", ror)], {}, ror_table)["I1"]
        assert (placed["geo_source"], placed["geonames_id"]) == ("ror", geonames_id)
        assert placed["detail"] == f"ROR {bare}: GeoNames id {geonames_id}"


def test_a_ror_geonames_id_missing_from_the_gazetteer_falls_back_to_its_coordinates(tmp_path: Path) -> None:
    gaz = gazetteer.load()
    monash = ror_record(ROR_SEARCH)
    bare = monash["id"].removeprefix("https://ror.org/")
    details = monash["locations"][0]["geonames_details"]
    lat, lng = details["lat"], details["lng"]
    absent = 2077456  # GeoNames' id of the country Australia: not a populated place, so not in the gazetteer
    assert gaz.place(absent) is None
    monash["locations"][0]["geonames_id"] = absent
    path = tmp_path / "ror.json"
    path.write_text(json.dumps([monash]))
    placed = placed_by_id([institution("I1", bare)], {}, read_ror([path]).table)["I1"]
    nearest = gaz.nearest(lat, lng, details["country_code"])
    assert nearest.distance_km <= NEAR_KM
    assert placed["geo_source"] == "ror" and placed["geonames_id"] == nearest.place.geonames_id != absent
    assert placed["place_country_code"] == details["country_code"] and placed["confidence"] == 0.9
    assert placed["detail"] == f"ROR {bare}: nearest place to {lat}, {lng} ({nearest.distance_km:.1f} km)"


def test_ror_coordinates_far_from_places_or_in_a_country_without_places(tmp_path: Path) -> None:
    gaz = gazetteer.load()
    monash = ror_record(ROR_SEARCH)
    bare = monash["id"].removeprefix("https://ror.org/")
    details = monash["locations"][0]["geonames_details"]
    monash["locations"][0]["geonames_id"] = None
    # The gazetteer has no places in the US Minor Outlying Islands: the nearest place anywhere is taken.
    details["country_code"] = "UM"
    path = tmp_path / "um.json"
    path.write_text(json.dumps([monash]))
    placed = placed_by_id([institution("I1", bare)], {}, read_ror([path]).table)["I1"]
    assert placed["geonames_id"] == gaz.nearest(details["lat"], details["lng"]).place.geonames_id
    # A point in the Southern Ocean, thousands of km from any Australian place: placed, with low confidence.
    details |= {"country_code": "AU", "lat": -60.0, "lng": 100.0}
    path.write_text(json.dumps([monash]))
    placed = placed_by_id([institution("I1", bare)], {}, read_ror([path]).table)["I1"]
    assert placed["place_country_code"] == "AU" and placed["confidence"] == 0.6
