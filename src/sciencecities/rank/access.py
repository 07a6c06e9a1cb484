"""What every ranking query starts from: a built edition of a store, its subjects, boundary sets and levels,
and where each institution's Share goes at each level."""

from __future__ import annotations

from typing import Any

import ibis
from ibis.backends import BaseBackend

from sciencecities import editions, engines
from sciencecities.countries import countries
from sciencecities.errors import InputError, StoreError
from sciencecities.measure.counts import institution_countries
from sciencecities.rank.names import Candidate, find
from sciencecities.rank.ranking import LEVELS, Years
from sciencecities.resolve.geography.boundaries import BoundarySet
from sciencecities.resolve.lineage import top_level
from sciencecities.resolve.subjects import ALL
from sciencecities.store import Store


def built_edition(store: Store, edition: str) -> tuple[dict[str, Any], editions.Edition]:
    """The manifest entry of a built edition (by name or edition file) and the edition with the options it
    was built with (so `build --base-year` holds for every later ranking)."""
    name = editions.load(edition).name if edition.endswith((".yaml", ".yml")) else edition
    built = store.manifest().get("builds", {}).get(name)
    if built is None:
        raise StoreError(
            f"edition {name!r} is not built in {store.root}", f"run `sciencecities build --edition {edition}`"
        )
    method = editions.load(built.get("edition_file") or name)
    return built, method.with_options(base_year=built["options"].get("base_year"))


def subject_id(edition: editions.Edition, subject: str | None) -> str:
    """The edition's subject id for an id, display name or unique prefix of either (any case); None or 'all'
    is the overall table."""
    if subject is None or subject.strip().lower() in (ALL, "overall"):
        return ALL
    wanted = subject.strip().lower().replace("_", "-")
    for sid, label in edition.subjects.items():
        if wanted in (sid.lower(), label.lower()):
            return sid
    prefixed = [
        sid
        for sid, label in edition.subjects.items()
        if sid.startswith(wanted) or label.lower().startswith(wanted)
    ]
    if len(prefixed) == 1:
        return prefixed[0]
    choices = ", ".join(edition.subjects) or "none: this edition has no subjects"
    raise InputError(f"edition {edition.name!r} has no subject {subject!r}", f"use one of: {choices}")


def boundaries_name(boundaries: str) -> str:
    """The name a boundary set is stored under: shipped names as given, a user's file by the name inside it."""
    if boundaries.endswith((".yaml", ".yml")):
        return BoundarySet.load(boundaries).name
    return boundaries


def level_rows(
    con: BaseBackend, level: str, built: dict[str, Any], boundaries: str
) -> tuple[ibis.Table, str, ibis.Table]:
    if level == "city":
        sets = built.get("geography", {}).get("boundaries", {})
        if boundaries not in sets:
            raise StoreError(
                f"boundary set {boundaries!r} is not built for edition {built['edition']!r}"
                + (f" (built: {', '.join(sets)})" if sets else ""),
                f"run `sciencecities build --edition {built['edition']} --boundaries FILE` with your set's file"
                if sets
                else f"run `sciencecities build --edition {built['edition']}`: the store predates geography",
            )
        rows = con.table("city_year")
        units = con.table("institution_units")
        names = (
            units.filter(units.boundaries == boundaries)
            .group_by("unit_id")
            .agg(name=units.unit_name.min(), country_code=units.country_code.min())
        )
        return rows.filter(rows.boundaries == boundaries).drop("boundaries"), "unit_id", names
    if level == "group":
        groups = con.table("institution_groups")
        names = groups.group_by("group_id").agg(
            name=groups.group_name.min(), country_code=ibis.null("string")
        )
        return con.table("group_year"), "group_id", names
    if level == "institution":
        names = con.table("institutions").select("institution_id", "name", "country_code")
        return con.table("institution_year"), "institution_id", names
    if level == "country":
        names = ibis.memtable(countries()).select("country_code", "name")
        return con.table("country_year"), "country_code", names
    raise InputError(f"unknown level {level!r}", f"use one of {', '.join(LEVELS)}")


def check_window(years: Years | None, what: str = "window") -> None:
    if years is not None and years[0] > years[1]:
        raise InputError(
            f"the {what} {years[0]}-{years[1]} is empty", "give the first year first, e.g. 2015-2024"
        )


def city_candidates(con: BaseBackend, boundaries: str) -> list[Candidate]:
    """Every unit of a built boundary set, as name-finding candidates."""
    units = con.table("institution_units")
    in_set = units.filter(units.boundaries == boundaries)
    rows = (
        in_set.group_by("unit_id")
        .agg(name=in_set.unit_name.min(), country_code=in_set.country_code.min())
        .order_by("unit_id")
        .to_pyarrow()
        .to_pylist()
    )
    return [Candidate(r["unit_id"], r["name"], r["country_code"]) for r in rows]


def find_city(
    store: Store, city: str, *, edition: str = "nature-index", boundaries: str = "metro"
) -> Candidate:
    """The science city (a unit of `boundaries`) that `city` names: its id, or its name in any case and
    accents, with ', CC' to pick a country; an InputError lists the matches or close names otherwise."""
    built, _ = built_edition(store, edition)
    name = boundaries_name(boundaries)
    con = engines.connect(store.current, built["edition"])
    try:
        level_rows(con, "city", built, name)
        return find(city, city_candidates(con, name), "city")
    finally:
        con.disconnect()


def located(
    con: BaseBackend, level: str, boundaries: str = "", rollup: bool = False
) -> tuple[ibis.Table | None, str]:
    """institution_id -> the entity of `level` that its Share goes to, and the entity column: the unit of
    the stored boundary set `boundaries`, the country (`institution_countries`), the group, or with `rollup`
    the top-level parent; None for institutions as listed. Institutions without an entity have no row."""
    if level == "institution":
        if rollup:
            return ibis.memtable(top_level(con.table("institutions").to_pyarrow())), "parent_id"
        return None, "institution_id"
    if level == "city":
        units = con.table("institution_units")
        return units.filter(units.boundaries == boundaries).select("institution_id", "unit_id"), "unit_id"
    if level == "country":
        places = con.table("institution_places")
        return institution_countries(con.table("institutions"), places), "country_code"
    if level == "group":
        return con.table("institution_groups").select("institution_id", "group_id"), "group_id"
    raise InputError(f"unknown level {level!r}", f"use one of {', '.join(LEVELS)}")
