"""`sciencecities locate LAT LON`: the place, science city, country and groups of a coordinate (DESIGN §6)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pyarrow as pa
import typer

from sciencecities.errors import InputError
from sciencecities.present.cli.common import (
    EditionOpt,
    FormatOpt,
    OutOpt,
    StoreOpt,
    ensure_built,
    out,
    settings,
)
from sciencecities.present.export import Format, write
from sciencecities.resolve.geography.locate import Location, locate, locate_institution
from sciencecities.store import Store

__all__ = ["LOCATE_CONTEXT", "locate_cmd"]

LOCATE_CONTEXT: dict[str, Any] = {"ignore_unknown_options": True}
"""Context settings to register locate_cmd with, so `locate -33.87 151.21` reads -33.87 as a number, not an option.

Without them the parser stops at '-3' ('No such option'); `locate -- -33.87 151.21` works either way.
"""

_EXAMPLE = (
    "e.g. `sciencecities locate 48.262 11.667`; negative values: `sciencecities locate -- -33.87 151.21`"
)


def locate_cmd(
    latitude: Annotated[
        float | None, typer.Argument(help="Latitude in decimal degrees, -90 (south) to 90 (north).")
    ] = None,
    longitude: Annotated[
        float | None, typer.Argument(help="Longitude in decimal degrees, -180 (west) to 180 (east).")
    ] = None,
    country: Annotated[
        str | None,
        typer.Option("--country", help="Only places of this country (ISO 3166 two-letter code, e.g. DE)."),
    ] = None,
    boundaries: Annotated[
        str,
        typer.Option(
            "--boundaries",
            help="Boundary set: metro, city, a boundary-set .yaml file, or (with --institution) clusters.",
        ),
    ] = "metro",
    institution: Annotated[
        str | None,
        typer.Option("--institution", help="Locate an institution of the store instead, e.g. I136199984."),
    ] = None,
    store: StoreOpt = None,
    edition: EditionOpt = None,
    fmt: FormatOpt = Format.table,
    out_file: OutOpt = None,
) -> None:
    """Print the place, science city, country and groups of a coordinate (or of an institution of the store),
    and the rules that decided.

    Negative coordinates: put -- before them, as in `sciencecities locate -- -33.87 151.21`.
    """
    if institution is not None:
        if latitude is not None:
            raise InputError("give a coordinate or --institution, not both", _EXAMPLE)
        _institution(institution, boundaries, store, edition, fmt, out_file)
        return
    if latitude is None or longitude is None:
        raise InputError("locate needs a coordinate: LATITUDE LONGITUDE, or --institution ID", _EXAMPLE)
    where = locate(latitude, longitude, country=country, boundaries=boundaries)
    meta = {
        "boundaries": where.boundaries,
        "boundaries_version": where.boundaries_version,
        "country_filter": where.place.country_code if country else None,
    }
    if fmt is Format.table:
        write(_fields(where), fmt, out_file, meta, out, f"locate {latitude:g}, {longitude:g}")
        return
    record = where.to_dict()
    if fmt is Format.csv:
        record = {k: ";".join(v) if isinstance(v, list) else v for k, v in record.items()}
    write(pa.Table.from_pylist([record]), fmt, out_file, meta, out)


def _institution(
    institution: str,
    boundaries: str,
    store: Path | None,
    edition: str | None,
    fmt: Format,
    out_file: Path | None,
) -> None:
    """`locate --institution ID`: as the store's build placed it (building the edition first if needed)."""
    conf = settings(store=store, edition=edition, boundaries=boundaries)
    data = Store(conf.store)
    name = ensure_built(data, conf, "city")
    found = locate_institution(data, institution, boundaries=conf.boundaries, edition=name)
    where = found.location
    meta = {"edition": name, "store": str(data.root), "boundaries": where.boundaries}
    if fmt is Format.table:
        head = pa.table(
            {
                "field": ["institution", "institution country", "place source"],
                "value": [
                    f"{found.name} ({found.institution_id})",
                    found.country_code or "none (its place's country counts)",
                    f"{found.geo_source}, confidence {found.confidence:.2f}",
                ],
            }
        )
        table = pa.concat_tables([head, _fields(where, institution=True)])
        write(table, fmt, out_file, meta, out, f"locate {found.institution_id}, edition {name}")
        return
    record = found.to_dict()
    if fmt is Format.csv:
        record = {k: ";".join(v) if isinstance(v, list) else v for k, v in record.items()}
    write(pa.Table.from_pylist([record]), fmt, out_file, meta, out)


def _fields(where: Location, *, institution: bool = False) -> pa.Table:
    """The answer as a two-column table (field, value), one line per fact, for the terminal."""
    place, unit = where.place, where.unit
    admin = " / ".join(code or "-" for code in (place.country_code, place.admin1, place.admin2))
    rows = [
        *([] if institution else [("point", f"{where.latitude:.5f}, {where.longitude:.5f}")]),
        ("place", f"{place.name} (GeoNames {place.geonames_id}, {place.feature_code})"),
        ("admin codes", f"{admin} (country / admin1 / admin2)"),
        ("place coordinates", f"{place.latitude:.5f}, {place.longitude:.5f}"),
        ("population", f"{place.population:,}" if place.population else "unknown"),
        *([] if institution else [("distance", f"{where.distance_km:,.1f} km")]),
        ("place found by", where.place_rule),
        ("science city", f"{unit.name} ({unit.id})"),
        ("boundary set", f"{where.boundaries} v{where.boundaries_version}"),
        ("science city decided by", unit.rule),
        ("country", f"{where.country_name} ({where.country_code})"),
        ("groups", ", ".join(f"{name} ({gid})" for gid, name in where.groups) or "none"),
    ]
    return pa.table({"field": [f for f, _ in rows], "value": [v for _, v in rows]})
