"""What placing institutions reads besides the institutions table: the raw affiliation strings of their
authorships, and the user's override file."""

from __future__ import annotations

import csv
from pathlib import Path

import ibis
import pyarrow as pa
from ibis import _

from sciencecities.errors import InputError
from sciencecities.resolve.geography.gazetteer import Gazetteer

STRINGS_PER_INSTITUTION = 25
"""Affiliation strings read per institution: enough for a stable majority, bounded at any data size."""

OVERRIDE_SCHEMA = pa.schema(
    [
        ("institution_id", pa.string()),
        ("geonames_id", pa.int64()),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
    ]
)


def affiliation_strings(
    institutions: ibis.Table, affiliations: ibis.Table, authorships: ibis.Table
) -> dict[str, list[str]]:
    """Institution id -> raw affiliation strings of its authorships, for institutions without OpenAlex
    coordinates only; strings of authors with one institution come first (they surely name it)."""
    wanted = institutions.filter(institutions.latitude.isnull() | institutions.longitude.isnull())
    linked = affiliations.semi_join(wanted, "institution_id").join(
        authorships.select("work_id", "author_position", "raw_affiliations", "n_institutions"),
        ["work_id", "author_position"],
    )
    strings = linked.select(
        "institution_id",
        single=(linked.n_institutions == 1).cast("int8"),
        text=linked.raw_affiliations.unnest(),
    )
    strings = strings.filter(strings.text.notnull() & (strings.text.strip() != ""))
    best = strings.group_by(["institution_id", "text"]).agg(single=_.single.max(), uses=_.count())
    order = ibis.window(group_by="institution_id", order_by=[best.single.desc(), best.uses.desc(), best.text])
    ranked = best.mutate(n=ibis.row_number().over(order))
    chosen = ranked.filter(ranked.n < STRINGS_PER_INSTITUTION).order_by(["institution_id", "n"])
    result: dict[str, list[str]] = {}
    for row in chosen.select("institution_id", "text").to_pyarrow().to_pylist():
        result.setdefault(row["institution_id"], []).append(row["text"])
    return result


def read_overrides(path: Path, gazetteer: Gazetteer) -> pa.Table:
    """A user's place overrides: a CSV with institution_id and either geonames_id or latitude and longitude.

    Every row must place its institution; a row that cannot (unknown GeoNames id, coordinates out of range,
    neither given) stops the build with the line numbers, so no override is silently ignored.
    """
    if not path.is_file():
        raise InputError(f"place override file {path} does not exist", "give a CSV file to --places")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        if "institution_id" not in columns or not (
            "geonames_id" in columns or {"latitude", "longitude"} <= columns
        ):
            raise InputError(
                f"{path} has the columns {sorted(columns)}",
                "an override file needs institution_id and geonames_id, or institution_id, latitude and "
                "longitude",
            )
        rows, problems = [], []
        for line, row in enumerate(reader, start=2):
            problem, parsed = _override(row, gazetteer)
            if problem:
                problems.append(f"line {line}: {problem}")
            else:
                rows.append(parsed)
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise InputError(f"{path}: {len(problems)} rows cannot place their institution: {shown}", "fix them")
    ids = [r["institution_id"] for r in rows]
    if len(ids) != len(set(ids)):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise InputError(f"{path} places {twice[:10]} more than once", "keep one row per institution")
    return pa.Table.from_pylist(rows, schema=OVERRIDE_SCHEMA)


def _override(row: dict[str, str], gazetteer: Gazetteer) -> tuple[str | None, dict[str, object]]:
    """One override row checked and typed, or what is wrong with it."""
    iid = (row.get("institution_id") or "").strip().removeprefix("https://openalex.org/")
    if not iid:
        return "no institution_id", {}
    gid_text = (row.get("geonames_id") or "").strip()
    lat_text, lon_text = (row.get("latitude") or "").strip(), (row.get("longitude") or "").strip()
    parsed: dict[str, object] = {
        "institution_id": iid,
        "geonames_id": None,
        "latitude": None,
        "longitude": None,
    }
    if gid_text:
        if not gid_text.isdigit():
            return f"geonames_id {gid_text!r} is not a number", {}
        if gazetteer.place(int(gid_text)) is None and not (lat_text and lon_text):
            return f"GeoNames id {gid_text} is not in the gazetteer: give latitude and longitude instead", {}
        parsed["geonames_id"] = int(gid_text)
    if lat_text or lon_text:
        try:
            lat, lon = float(lat_text), float(lon_text)
        except ValueError:
            return f"coordinates {lat_text!r}, {lon_text!r} are not numbers", {}
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            return f"coordinates {lat}, {lon} are out of range", {}
        parsed["latitude"], parsed["longitude"] = lat, lon
    if parsed["geonames_id"] is None and parsed["latitude"] is None:
        return "neither geonames_id nor latitude and longitude", {}
    return None, parsed


def read_population(path: Path) -> dict[tuple[str | None, str], int]:
    """A user's populations: a CSV with unit_id and population, and optionally boundaries (else the row holds
    for that unit id in every boundary set). Replaces the GeoNames sums of those units."""
    if not path.is_file():
        raise InputError(f"population file {path} does not exist", "give a CSV file to --population")
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        if not {"unit_id", "population"} <= set(reader.fieldnames or []):
            raise InputError(
                f"{path} has the columns {reader.fieldnames}",
                "a population file needs unit_id and population",
            )
        found: dict[tuple[str | None, str], int] = {}
        for line, row in enumerate(reader, start=2):
            text = (row.get("population") or "").replace(",", "").replace("_", "").strip()
            if not text.isdigit():
                raise InputError(
                    f"{path}, line {line}: population {row.get('population')!r} is not a whole number",
                    "write the number of inhabitants, e.g. 4875000",
                )
            found[((row.get("boundaries") or "").strip() or None, row["unit_id"].strip())] = int(text)
    return found
