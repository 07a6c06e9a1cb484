"""Placing institutions: override, then OpenAlex geo, then the affiliation strings; unplaced ones stay visible."""

from __future__ import annotations

import pyarrow as pa

from sciencecities.resolve.geography import gazetteer
from sciencecities.resolve.geography.places import place_institutions

INSTITUTIONS = pa.Table.from_pylist(
    [
        # OpenAlex geo without a city id: placed by its coordinates (Garching, near Munich)
        {"institution_id": "I1", "country_code": "DE", "geonames_city_id": None, "latitude": 48.2499,
         "longitude": 11.6518},
        {"institution_id": "I2", "country_code": "GB", "geonames_city_id": None, "latitude": None, "longitude": None},
        {"institution_id": "I3", "country_code": None, "geonames_city_id": None, "latitude": None, "longitude": None},
        {"institution_id": "I4", "country_code": "US", "geonames_city_id": None, "latitude": 42.3736,
         "longitude": -71.1097},
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
    placed = {r["institution_id"]: r for r in place_institutions(INSTITUTIONS, STRINGS, gaz, overrides).to_pylist()}
    assert set(placed) == {"I1", "I2", "I3", "I4"}
    assert placed["I1"]["geo_source"] == "openalex" and placed["I1"]["place_name"].startswith("Garching")
    # Two of three strings name Oxford: the majority wins, with confidence scaled by the agreement.
    assert placed["I2"]["geo_source"] == "parsed" and placed["I2"]["place_name"] == "Oxford"
    assert placed["I2"]["detail"] == "2 of 3 affiliation strings" and placed["I2"]["confidence"] < 1
    assert placed["I3"]["geo_source"] is None and placed["I3"]["geonames_id"] is None
    # The override beats OpenAlex's coordinates (which point at Cambridge, MA).
    assert placed["I4"]["geo_source"] == "override" and placed["I4"]["geonames_id"] == oxford.geonames_id
