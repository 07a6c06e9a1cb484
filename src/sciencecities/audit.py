"""The audit: everything the numbers leave out and why, so that no record is silently dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa
from ibis import _

from sciencecities import editions, engines
from sciencecities.measure.counts import institution_countries
from sciencecities.resolve.eligibility import skipped_works
from sciencecities.resolve.journals import coverage, journal_sources
from sciencecities.store import Store


@dataclass(frozen=True)
class Audit:
    """Sections of the audit, each a list of rows (dicts), plus totals and where to look further."""

    sections: dict[str, list[dict[str, Any]]]
    totals: dict[str, Any]


def audit(store: Store, edition: str = "nature-index", *, limit: int = 20) -> Audit:
    """Quarantined records by reason, works skipped and why, unaffiliated authorships and the Share involved,
    institutions without a country, and, once the edition is built, institutions without a place (with their
    Share), places by source, and places whose country disagrees with the institution's."""
    con = engines.connect(store.current)
    manifest = store.manifest()
    works, authorships = con.table("works"), con.table("authorships")
    quarantine = con.table("quarantine")
    sections: dict[str, list[dict[str, Any]]] = {}
    reason_kind = quarantine.reason.split(":")[0]
    sections["quarantine"] = _rows(
        quarantine.group_by(["entity", reason_kind.name("reason")])
        .agg(records=_.count(), files=_.source_file.nunique())
        .order_by([ibis.desc("records"), "reason"])
    )
    sections["quarantine_files"] = _rows(
        quarantine.group_by("source_file")
        .agg(records=_.count(), first_line=_.line.min())
        .order_by("source_file")
    )
    method = editions.load(edition)
    built = manifest.get("builds", {}).get(method.name)
    if built is not None:
        options = built["options"]
        method = method.with_options(
            include_flagged=options.get("include_flagged"), legacy_weights=options.get("legacy_weights")
        )
    skipped = skipped_works(works, journal_sources(con.table("sources"), method), method)
    sections["skipped_works"] = _rows(
        skipped.group_by("reason").agg(works=_.count()).order_by([ibis.desc("works"), "reason"])
    )
    totals: dict[str, Any] = {
        "works": works.count().to_pyarrow().as_py(),
        "quarantined": quarantine.count().to_pyarrow().as_py(),
        "quarantine_table": str(store.path("quarantine")),
        "edition": method.name,
        "built": built is not None,
    }
    if not totals["built"]:
        sections["authorships_without_institution"] = _rows(
            authorships.filter(authorships.n_institutions == 0).agg(
                authorships=_.count(), works=_.work_id.nunique()
            )
        )
    con.disconnect()
    if totals["built"]:
        _built_sections(store, method.name, sections, totals, limit)
    return Audit(sections, totals)


def _built_sections(
    store: Store, edition: str, sections: dict[str, list[dict[str, Any]]], totals: dict[str, Any], limit: int
) -> None:
    con = engines.connect(store.current, edition)
    eligible, credit = con.table("eligible_works"), con.table("credit")
    institutions, works = con.table("institutions"), con.table("works")
    options = store.manifest()["builds"][edition]["options"]
    no_author = eligible.filter(eligible.n_authors == 0)
    no_affil = eligible.filter((eligible.n_authors > 0) & (eligible.n_affiliated == 0))
    sections["skipped_works"] += [
        {"reason": "no authors", "works": no_author.count().to_pyarrow().as_py()},
        {
            "reason": "no affiliated author (weight not credited)",
            "works": no_affil.count().to_pyarrow().as_py(),
        },
    ]
    partly = eligible.filter((eligible.n_affiliated > 0) & (eligible.n_affiliated < eligible.n_authors))
    unaffiliated_share = (
        partly.weight
        * (partly.n_authors - partly.n_affiliated).cast("float64")
        / partly.n_authors.cast("float64")
    ).sum()
    sections["authorships_without_institution"] = [
        {
            "authorships": (eligible.n_authors - eligible.n_affiliated).sum().to_pyarrow().as_py() or 0,
            "works_partly_affiliated": partly.count().to_pyarrow().as_py(),
            "share_of_unaffiliated_authors": unaffiliated_share.to_pyarrow().as_py() or 0.0,
            "treatment": "lost (--count-unaffiliated)"
            if options["count_unaffiliated"]
            else "shared among the affiliated authors of the same work",
        }
    ]
    countries = institution_countries(institutions, con.table("institution_places"))
    named = countries.join(institutions.select("institution_id", "name"), "institution_id")
    located = credit.join(named, "institution_id", how="left")
    missing = located.filter(located.country_code.isnull())
    sections["institutions_without_country"] = _rows(
        missing.group_by(["institution_id", "name"])
        .agg(works=_.count(), share=_.share.sum())
        .order_by([ibis.desc("share"), "institution_id"])
        .limit(limit)
    )
    _geography_sections(con, sections, totals, limit)
    truncated = eligible.join(works.filter(works.is_authors_truncated), "work_id")
    totals.update(
        eligible_works=eligible.count().to_pyarrow().as_py(),
        credited_share=credit.share.sum().to_pyarrow().as_py() or 0.0,
        institutions_without_country=missing.institution_id.nunique().to_pyarrow().as_py(),
        share_without_country=missing.share.sum().to_pyarrow().as_py() or 0.0,
        works_with_truncated_author_lists=truncated.count().to_pyarrow().as_py(),
    )
    con.disconnect()


def _geography_sections(
    con: Any, sections: dict[str, list[dict[str, Any]]], totals: dict[str, Any], limit: int
) -> None:
    """Institutions without a place (with their Share), places by source, and places whose country
    disagrees with the institution's country code."""
    places, credit = con.table("institution_places"), con.table("credit")
    institutions = con.table("institutions").select("institution_id", "name", "country_code")
    share = credit.group_by("institution_id").agg(works=_.count(), share=_.share.sum())
    rows = places.join(institutions, "institution_id", how="left").left_join(share, "institution_id")
    rows = rows.select(
        places.institution_id,
        institutions.name,
        institutions.country_code,
        places.geonames_id,
        places.place_name,
        places.place_country_code,
        places.geo_source,
        places.confidence,
        places.detail,
        works=share.works.fill_null(0),
        share=share.share.fill_null(0.0),
    )
    unplaced = rows.filter(rows.geonames_id.isnull())
    sections["institutions_without_place"] = _rows(
        unplaced.select("institution_id", "name", "country_code", "works", "share", "detail")
        .order_by([ibis.desc("share"), "institution_id"])
        .limit(limit)
    )
    source = rows.geo_source.fill_null("unplaced")
    sections["places_by_source"] = _rows(
        rows.group_by(source=source)
        .agg(
            institutions=_.count(),
            credited_institutions=(_.works > 0).sum(),
            share=_.share.sum(),
            mean_confidence=_.confidence.mean(),
        )
        .order_by([ibis.desc("share"), "source"])
    )
    disagree = rows.filter(
        rows.country_code.notnull()
        & rows.place_country_code.notnull()
        & (rows.country_code != rows.place_country_code)
    )
    sections["place_country_disagreements"] = _rows(
        disagree.select(
            "institution_id",
            "name",
            "country_code",
            "place_country_code",
            "place_name",
            "geo_source",
            "share",
        )
        .order_by([ibis.desc("share"), "institution_id"])
        .limit(limit)
    )
    credited = share.share.sum().to_pyarrow().as_py() or 0.0
    lost = unplaced.share.sum().to_pyarrow().as_py() or 0.0
    totals.update(
        institutions_without_place=unplaced.count().to_pyarrow().as_py(),
        credited_institutions_without_place=unplaced.filter(unplaced.works > 0).count().to_pyarrow().as_py(),
        share_without_place=lost,
        placed_fraction=(credited - lost) / credited if credited else None,
        place_country_disagreements=disagree.count().to_pyarrow().as_py(),
    )


def _rows(expr: ibis.Table) -> list[dict[str, Any]]:
    return expr.to_pyarrow().to_pylist()  # type: ignore[no-any-return]


def edition_coverage(store: Store, edition: str) -> pa.Table:
    """One row per journal of an edition: the sources of the store it matched (and how), and its works and
    eligible works (eligible only once the edition is built). Empty for editions without a journal list."""
    method = editions.load(edition)
    if not method.has_journal_list:
        return pa.table({})
    built = store.manifest().get("builds", {}).get(method.name)
    con = engines.connect(store.current, method.name if built else None)
    matched = journal_sources(con.table("sources"), method)
    works = con.table("works").group_by("source_id").agg(works=_.count())
    if built:
        eligible = con.table("eligible_works").group_by("source_id").agg(eligible=_.count())
        works = works.left_join(eligible, "source_id").select(
            works.source_id, works.works, eligible=eligible.eligible.fill_null(0)
        )
    else:
        works = works.mutate(eligible=ibis.literal(0))
    per_source = {r["source_id"]: (r["works"], r["eligible"]) for r in works.to_pyarrow().to_pylist()}
    table = coverage(method, matched.to_pyarrow(), per_source)
    con.disconnect()
    return table
