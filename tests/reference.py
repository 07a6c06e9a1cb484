"""Pure-Python oracle for Count and Share per institution and per country.

This is the independent check the real engine is compared against. It follows the metric definitions
literally, uses only the standard library, and does its arithmetic in exact fractions so that its
results do not depend on summation order.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path
from typing import Any

OPENALEX_PREFIX = "https://openalex.org/"
WEIGHT = Fraction(1)
"""Work weight w for the "all-articles" method."""


def strip_id(value: str | None) -> str | None:
    """Return an OpenAlex id without its URL prefix ("https://openalex.org/I1" -> "I1"); None if empty."""
    if value is None:
        return None
    value = value.removeprefix(OPENALEX_PREFIX)
    return value or None


def load_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Read one JSON object per line from a .jsonl or .jsonl.gz file, skipping blank lines."""
    path = Path(path)
    if path.name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            lines = handle.readlines()
    else:
        with path.open(encoding="utf-8") as handle:
            lines = handle.readlines()
    return [json.loads(line) for line in lines if line.strip()]


def is_eligible(work: dict[str, Any]) -> bool:
    """Whether a work counts under "all-articles": an article, not retracted, not paratext, with a year."""
    return (
        work.get("type") == "article"
        and not work.get("is_retracted")
        and not work.get("is_paratext")
        and work.get("publication_year") is not None
    )


def _date_key(work: dict[str, Any]) -> tuple[int, str]:
    """Sort key for `updated_date`: ISO strings compare as strings, a missing date sorts lowest."""
    date = work.get("updated_date")
    return (1, date) if date else (0, "")


def deduplicate(works: Iterable[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """Keep one record per work id: the greatest `updated_date`, the later input record on a tie.

    Returns (input position, record) pairs so callers can still order records by recency.
    """
    kept: dict[str, tuple[int, dict[str, Any]]] = {}
    for position, work in enumerate(works):
        work_id = strip_id(work.get("id"))
        if work_id is None:
            raise ValueError(f"work record without an id at input position {position}")
        current = kept.get(work_id)
        if current is None or _date_key(work) >= _date_key(current[1]):
            kept[work_id] = (position, work)
    return list(kept.values())


def author_institutions(authorship: dict[str, Any]) -> set[str]:
    """I_i: distinct institution ids of one author, from `institutions` and `affiliations` together."""
    ids: set[str] = set()
    for institution in authorship.get("institutions") or []:
        institution_id = strip_id((institution or {}).get("id"))
        if institution_id:
            ids.add(institution_id)
    for affiliation in authorship.get("affiliations") or []:
        for raw_id in (affiliation or {}).get("institution_ids") or []:
            institution_id = strip_id(raw_id)
            if institution_id:
                ids.add(institution_id)
    return ids


def institution_countries(
    records: list[tuple[int, dict[str, Any]]], institutions: Iterable[dict[str, Any]]
) -> dict[str, str]:
    """Country of each institution: entity record first, else the newest embedded non-null `country_code`.

    Embedded codes are read from all deduplicated work records (eligible or not, any year); institutions
    absent from the result have an unknown country.
    """
    countries: dict[str, str] = {}
    for _, work in sorted(records, key=lambda pair: (_date_key(pair[1]), pair[0])):
        for authorship in work.get("authorships") or []:
            for institution in authorship.get("institutions") or []:
                institution_id = strip_id((institution or {}).get("id"))
                code = (institution or {}).get("country_code")
                if institution_id and code:
                    countries[institution_id] = code
    for entity in institutions:
        institution_id = strip_id(entity.get("id"))
        code = entity.get("country_code")
        if institution_id and code:
            countries[institution_id] = code
    return countries


def work_institution_shares(work: dict[str, Any], *, count_unaffiliated: bool) -> dict[str, Fraction]:
    """Share of each institution on one work: sum over its authors i of w / (n_a * |I_i|)."""
    author_sets = [author_institutions(authorship) for authorship in work.get("authorships") or []]
    affiliated = [ids for ids in author_sets if ids]
    n_a = len(author_sets) if count_unaffiliated else len(affiliated)
    shares: dict[str, Fraction] = {}
    for ids in affiliated:
        for institution_id in ids:
            shares[institution_id] = shares.get(institution_id, Fraction(0)) + WEIGHT / (n_a * len(ids))
    return shares


def reference_metrics(
    works: list[dict[str, Any]],
    institutions: Iterable[dict[str, Any]] = (),
    *,
    count_unaffiliated: bool = False,
    years: tuple[int, int] | None = None,
    place_countries: dict[str, str] | None = None,
    located: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Count and Share per institution and country over eligible works within `years` (inclusive; None = all).

    Returns {"institution": {id: {"count", "share"}}, "country": {code or None: {"count", "share"}},
    "work_shares": {work id: summed institution Share}}; every eligible work in range is in "work_shares"
    (0.0 when no author is affiliated), entities with Count 0 are absent. `place_countries` gives the country of
    an institution that has no country code of its own (from its place); `located` adds a level per key,
    mapping institution id -> entity (e.g. its science city), institutions absent from it under None.
    """
    records = deduplicate(works)
    country_of = {**(place_countries or {}), **institution_countries(records, institutions)}
    levels = located or {}
    level_count: dict[str, dict[str | None, int]] = {name: {} for name in levels}
    level_share: dict[str, dict[str | None, Fraction]] = {name: {} for name in levels}

    institution_count: dict[str, int] = {}
    institution_share: dict[str, Fraction] = {}
    country_count: dict[str | None, int] = {}
    country_share: dict[str | None, Fraction] = {}
    work_shares: dict[str, Fraction] = {}

    for _, work in records:
        if not is_eligible(work):
            continue
        year = work["publication_year"]
        if years is not None and not years[0] <= year <= years[1]:
            continue
        shares = work_institution_shares(work, count_unaffiliated=count_unaffiliated)
        work_shares[str(strip_id(work["id"]))] = sum(shares.values(), Fraction(0))
        for institution_id, share in shares.items():
            institution_count[institution_id] = institution_count.get(institution_id, 0) + 1
            institution_share[institution_id] = institution_share.get(institution_id, Fraction(0)) + share
            country = country_of.get(institution_id)
            country_share[country] = country_share.get(country, Fraction(0)) + share
        for country in {country_of.get(institution_id) for institution_id in shares}:
            country_count[country] = country_count.get(country, 0) + 1
        for name, entity_of in levels.items():
            for institution_id, share in shares.items():
                entity = entity_of.get(institution_id)
                level_share[name][entity] = level_share[name].get(entity, Fraction(0)) + share
            for entity in {entity_of.get(institution_id) for institution_id in shares}:
                level_count[name][entity] = level_count[name].get(entity, 0) + 1

    return {
        "institution": {
            key: {"count": institution_count[key], "share": float(institution_share[key])}
            for key in institution_count
        },
        "country": {
            key: {"count": country_count[key], "share": float(country_share[key])} for key in country_count
        },
        "work_shares": {key: float(value) for key, value in work_shares.items()},
    } | {
        name: {key: {"count": n, "share": float(level_share[name][key])} for key, n in counts.items()}
        for name, counts in level_count.items()
    }
