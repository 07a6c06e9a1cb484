"""Builds `institution_places`: every institution's GeoNames place, where it came from and how sure we are.

Sources, in order (DESIGN §6): a user override table; the OpenAlex institution `geo` (its GeoNames city id,
else its coordinates); the institution's `ror_places` record, matched by ROR id (its GeoNames id, else its
coordinates, within its country); the raw affiliation strings of the institution's authorships, parsed against
the gazetteer (the place most strings name, within the institution's country when it has one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import pyarrow as pa

from sciencecities.normalise.ror import ror_id
from sciencecities.resolve.geography.affiliations import parse_affiliation
from sciencecities.resolve.geography.gazetteer import Gazetteer
from sciencecities.resolve.geography.model import Place
from sciencecities.tables import INSTITUTION_PLACES

SCHEMA = INSTITUTION_PLACES.schema
"""One row per institution; the place columns are null when no source could place it."""

NEAR_KM = 25.0
"""OpenAlex or ROR coordinates this close to their nearest gazetteer place are taken with high confidence."""
PARSED_AT_INGEST = 0.8
"""The confidence of a place an export's address gave at ingest (a parsed string, not a curated record)."""


def _row(
    institution_id: str, place: Place | None, source: str | None, confidence: float, detail: str
) -> dict[str, object]:
    return {
        "institution_id": institution_id,
        "geonames_id": place.geonames_id if place else None,
        "place_name": place.name if place else None,
        "place_country_code": place.country_code if place else None,
        "admin1": place.admin1 if place else None,
        "admin2": place.admin2 if place else None,
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "population": place.population if place else None,
        "geo_source": source,
        "confidence": confidence if place else None,
        "detail": detail,
    }


def _from_openalex(record: Mapping[str, object], gazetteer: Gazetteer) -> tuple[Place, float, str] | None:
    """The place of an OpenAlex `geo`: its GeoNames city id when the gazetteer has it, else its coordinates."""
    city = record.get("geonames_city_id")
    if city is not None and str(city).isdigit():
        place = gazetteer.place(int(str(city)))
        if place is not None:
            return place, 1.0, f"GeoNames id {city}"
    latitude, longitude = record.get("latitude"), record.get("longitude")
    if latitude is None or longitude is None:
        return None
    country = str(record["country_code"]) if record.get("country_code") else None
    return _nearest(float(latitude), float(longitude), country, 0.95, gazetteer)  # type: ignore[arg-type]


def _from_ror(record: Mapping[str, object], gazetteer: Gazetteer) -> tuple[Place, float, str] | None:
    """The place of a `ror_places` row: its GeoNames id when the gazetteer has it, else its coordinates."""
    label = f"ROR {record['ror']}: "
    geonames_id = record.get("geonames_id")
    place = gazetteer.place(geonames_id) if isinstance(geonames_id, int) else None
    if place is not None:
        return place, 0.95, f"{label}GeoNames id {geonames_id}"
    latitude, longitude = record.get("latitude"), record.get("longitude")
    if not isinstance(latitude, float) or not isinstance(longitude, float):
        return None
    country = record.get("country_code")
    found = _nearest(latitude, longitude, country if isinstance(country, str) else None, 0.9, gazetteer)
    return found[0], found[1], label + found[2]


def _nearest(
    latitude: float, longitude: float, country: str | None, near: float, gazetteer: Gazetteer
) -> tuple[Place, float, str]:
    """The gazetteer place nearest the point (in `country` when it has places): confidence `near` within
    NEAR_KM, 0.6 beyond."""
    try:
        found = gazetteer.nearest(latitude, longitude, country)
    except ValueError:  # a country code without places in the gazetteer (e.g. UM, BV): search everywhere
        found = gazetteer.nearest(latitude, longitude)
    confidence = near if found.distance_km <= NEAR_KM else 0.6
    return found.place, confidence, f"nearest place to {latitude}, {longitude} ({found.distance_km:.1f} km)"


def _from_strings(
    strings: Iterable[str], country: str | None, gazetteer: Gazetteer
) -> tuple[Place, float, str] | None:
    """The place most of the institution's affiliation strings name (in its country, when known)."""
    votes: Counter[int] = Counter()
    places: dict[int, Place] = {}
    confidence: dict[int, float] = {}
    total = 0
    for text in strings:
        parsed = parse_affiliation(text, gazetteer)
        if parsed is None or parsed.place is None:
            continue
        if country and parsed.country_code != country:
            continue
        total += 1
        key = parsed.place.geonames_id
        votes[key] += 1
        places[key] = parsed.place
        confidence[key] = max(confidence.get(key, 0.0), parsed.confidence)
    if not votes:
        return None
    (best, count), *_ = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))
    agreement = count / total
    return places[best], confidence[best] * agreement, f"{count} of {total} affiliation strings"


def place_institutions(
    institutions: pa.Table,
    affiliation_strings: Mapping[str, list[str]],
    gazetteer: Gazetteer,
    overrides: pa.Table | None = None,
    *,
    ror: pa.Table | None = None,
) -> pa.Table:
    """Place every institution of `institutions` (the canonical table); see the module docstring for the order.

    `affiliation_strings` maps an institution id to the raw affiliation strings of its authorships;
    `overrides` has institution_id and geonames_id, or latitude and longitude; `ror` is a `ror_places` table,
    joined on the institutions' `ror` column (bare ids or https://ror.org/ URLs on either side).
    """
    override = {r["institution_id"]: r for r in (overrides.to_pylist() if overrides is not None else [])}
    by_ror = {ror_id(r["ror"]): r for r in (ror.to_pylist() if ror is not None else [])}
    rows = []
    for record in institutions.to_pylist():
        iid = record["institution_id"]
        if iid in override:
            wanted = override[iid]
            place = gazetteer.place(int(wanted["geonames_id"])) if wanted.get("geonames_id") else None
            if place is None and wanted.get("latitude") is not None:
                place = gazetteer.nearest(float(wanted["latitude"]), float(wanted["longitude"])).place
            rows.append(_row(iid, place, "override", 1.0, "user override"))
            if place is not None:
                continue
            rows.pop()
        found = _from_openalex(record, gazetteer)
        if (
            found is not None
        ):  # the geo the record came with: OpenAlex's, or an export's address parsed at ingest
            source = record.get("geo_source") or "openalex"
            confidence = found[1] if source == "openalex" else min(found[1], PARSED_AT_INGEST)
            rows.append(_row(iid, found[0], source, confidence, found[2]))
            continue
        bare = ror_id(record.get("ror"))
        found = _from_ror(by_ror[bare] | {"ror": bare}, gazetteer) if bare and bare in by_ror else None
        if found is not None:
            rows.append(_row(iid, found[0], "ror", found[1], found[2]))
            continue
        parsed = _from_strings(affiliation_strings.get(iid, []), record.get("country_code"), gazetteer)
        if parsed is not None:
            rows.append(_row(iid, parsed[0], "parsed", parsed[1], parsed[2]))
            continue
        rows.append(_row(iid, None, None, 0.0, "no geo, no affiliation string naming a place"))
    return pa.Table.from_pylist(rows, schema=SCHEMA)
