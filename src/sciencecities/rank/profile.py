"""The profile of one science city: its rank, Share and Count over the years, its subjects and specialisation,
the institutions that make its Share, and its contribution to its country's Share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from sciencecities.countries import countries
from sciencecities.rank.access import built_edition, find_city
from sciencecities.rank.collaboration import collaboration
from sciencecities.rank.names import Candidate
from sciencecities.rank.queries import rank, trend
from sciencecities.rank.ranking import Years
from sciencecities.resolve.subjects import ALL
from sciencecities.store import Store


@dataclass(frozen=True)
class CityProfile:
    """A city's profile: `summary` over the window, and one table per section (see `tables`)."""

    city: Candidate
    summary: dict[str, Any]
    by_year: pa.Table
    subjects: pa.Table
    institutions: pa.Table
    collaborators: pa.Table | None
    meta: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pa.Table]:
        """The sections as named tables (summary as a one-row table), e.g. for one xlsx sheet each."""
        named = {
            "summary": pa.Table.from_pylist([self.summary]),
            "by_year": self.by_year,
            "subjects": self.subjects,
            "institutions": self.institutions,
        }
        if self.collaborators is not None:
            named["collaborators"] = self.collaborators
        return named


def city_profile(
    store: Store,
    city: str,
    *,
    years: Years | None = None,
    edition: str = "nature-index",
    boundaries: str = "metro",
    top: int = 10,
) -> CityProfile:
    """The profile of the science city `city` names (id or name; see `find_city`) over `years` (default: the
    latest year with articles), with every year's rank, Share and Count beside it, and its `top` institutions
    and collaborating cities.

    Specialisation in a subject = (the city's Share in it / the city's overall Share) / (the edition's articles
    in it / all its articles), over the same window: above 1, the city publishes more of its output in that
    subject than the world does.
    """
    found = find_city(store, city, edition=edition, boundaries=boundaries)
    built, method = built_edition(store, edition)
    totals = store.read("article_totals", built["edition"])
    window = years or _latest(totals)
    ranked = rank(store, level="city", years=window, edition=edition, boundaries=boundaries)
    row = _row(ranked.table, found.id)
    inside = rank(
        store, level="institution", years=window, edition=edition, boundaries=boundaries, city=found.id
    )
    history = trend(store, level="city", edition=edition, boundaries=boundaries, ids=[found.id]).table
    names = dict(zip(countries()["country_code"].to_pylist(), countries()["name"].to_pylist(), strict=True))
    summary = {
        "id": found.id,
        "name": found.name,
        "country_code": found.country_code,
        "country": names.get(found.country_code or "", found.country_code),
        "years": f"{window[0]}-{window[1]}" if window[0] != window[1] else str(window[0]),
        "rank": row.get("rank"),
        "of_cities": ranked.table.num_rows,
        "previous_rank": row.get("previous_rank"),
        "count": row.get("count", 0),
        "share": row.get("share", 0.0),
        "adjusted_share": row.get("adjusted_share"),
        "change": row.get("change"),
        "contribution_to_country": row.get("contribution"),
        "institutions": inside.table.num_rows,
    }
    subjects = _subjects(store, found, window, edition, boundaries, method.subjects, totals, summary["share"])
    return CityProfile(
        city=found,
        summary=summary,
        by_year=history.drop_columns(["id", "name", "country_code"]),
        subjects=subjects,
        institutions=inside.table.slice(0, top) if top else inside.table,
        collaborators=_partners(store, found, window, edition, boundaries, top),
        meta=ranked.meta | {"city": summary["id"], "level": "city profile"},
    )


def _partners(
    store: Store, found: Candidate, window: Years, edition: str, boundaries: str, top: int
) -> pa.Table:
    """The cities the city co-authors with most, by collaboration score (DESIGN §4), itself as side a."""
    pairs = collaboration(
        store,
        level="city",
        years=window,
        edition=edition,
        boundaries=boundaries,
        entity=found.id,
        top=top or None,
    )
    return pairs.table.select(
        ["rank", "id_b", "name_b", "country_code_b", "articles", "score"]
    ).rename_columns(["rank", "id", "name", "country_code", "articles", "score"])


def _latest(totals: pa.Table) -> Years:
    overall = totals.filter(pc.equal(totals["subject"], ALL))
    last = pc.max(overall["year"]).as_py()
    if last is None:
        return (0, 0)
    return (int(last), int(last))


def _row(table: pa.Table, unit_id: str) -> dict[str, Any]:
    rows = table.filter(pc.equal(table["id"], unit_id)).to_pylist()
    return rows[0] if rows else {}


def _weighted(totals: pa.Table, subject: str, window: Years) -> float:
    rows = totals.filter(
        pc.and_(
            pc.equal(totals["subject"], subject),
            pc.and_(pc.greater_equal(totals["year"], window[0]), pc.less_equal(totals["year"], window[1])),
        )
    )
    return float(pc.sum(rows["weighted"]).as_py() or 0.0)


def _subjects(
    store: Store,
    found: Candidate,
    window: Years,
    edition: str,
    boundaries: str,
    subjects: dict[str, str],
    totals: pa.Table,
    city_share: float,
) -> pa.Table:
    """One row per subject of the edition: the city's rank, Count and Share in it and its specialisation."""
    world = _weighted(totals, ALL, window)
    rows = []
    for sid, label in subjects.items():
        ranked = rank(store, level="city", years=window, subject=sid, edition=edition, boundaries=boundaries)
        row = _row(ranked.table, found.id)
        share = row.get("share", 0.0)
        city_fraction = share / city_share if city_share else None
        world_fraction = _weighted(totals, sid, window) / world if world else None
        rows.append(
            {
                "subject": sid,
                "name": label,
                "rank": row.get("rank"),
                "count": row.get("count", 0),
                "share": share,
                "city_fraction": city_fraction,
                "world_fraction": world_fraction,
                "specialisation": city_fraction / world_fraction
                if city_fraction is not None and world_fraction
                else None,
            }
        )
    schema = pa.schema(
        [
            ("subject", pa.string()),
            ("name", pa.string()),
            ("rank", pa.int64()),
            ("count", pa.int64()),
            ("share", pa.float64()),
            ("city_fraction", pa.float64()),
            ("world_fraction", pa.float64()),
            ("specialisation", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)
