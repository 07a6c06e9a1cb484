"""Builds `journal_sources`: which sources of the store are journals of the edition, and how each was matched.

Match order (DESIGN §5): OpenAlex source id, then any shared ISSN (ISSN-L included), then normalised title.
Titles are compared only for sources without any ISSN, so that generic titles ('Brain', 'Blood', 'Gut') cannot
pull in an unrelated journal whose ISSNs say otherwise, and 'X Letters' never matches 'X'.
"""

from __future__ import annotations

import re

import ibis
import pyarrow as pa
from ibis import _

from sciencecities.editions import Edition

MATCHED_BY = ("openalex id", "issn", "title")


def normalise_title(title: str) -> str:
    """Lower case, '&' as 'and', punctuation as spaces, no leading 'the': 'The BMJ' -> 'bmj'."""
    text = re.sub(r"[^a-z0-9]+", " ", title.lower().replace("&", " and ")).strip()
    return re.sub(r"^the ", "", text)


def _title_key(column: ibis.StringValue) -> ibis.StringValue:
    """`normalise_title` as an Ibis expression, so it runs in the engine."""
    text = column.lower().replace("&", " and ").re_replace(r"[^a-z0-9]+", " ").strip()
    return text.re_replace(r"^the ", "")


def journal_keys(edition: Edition) -> pa.Table:
    """One row per (journal, kind, value): the ids, ISSNs and title key by which a journal is recognised."""
    rows = []
    for journal in edition.journal_list():
        rows += [{"journal": journal.title, "kind": "openalex id", "value": i} for i in journal.openalex_ids]
        rows += [{"journal": journal.title, "kind": "issn", "value": i.upper()} for i in journal.issns]
        rows.append({"journal": journal.title, "kind": "title", "value": normalise_title(journal.title)})
    schema = pa.schema([("journal", pa.string()), ("kind", pa.string()), ("value", pa.string())])
    return pa.Table.from_pylist(rows, schema=schema)


def journal_sources(sources: ibis.Table, edition: Edition) -> ibis.Table:
    """One row per matched source: source_id, journal, matched_by, and `candidates` (journals tied at the
    best match; above 1 the alphabetically first journal is taken and the coverage report flags it)."""
    keys = ibis.memtable(journal_keys(edition))
    issns = (
        sources.select("source_id", issn=sources.issns.unnest())
        .union(sources.select("source_id", issn=sources.issn_l))
        .filter(_.issn.notnull())
        .mutate(issn=_.issn.upper())
    )
    with_issn = issns.select("source_id").distinct()
    by_id = sources.join(keys.filter(keys.kind == "openalex id"), sources.source_id == keys.value)
    by_issn = issns.join(keys.filter(keys.kind == "issn"), issns.issn == keys.value)
    unissued = sources.anti_join(with_issn, "source_id")
    by_title = unissued.join(keys.filter(keys.kind == "title"), _title_key(unissued.name) == keys.value)
    matches = ibis.union(
        *(
            table.select("source_id", "journal", matched_by=ibis.literal(kind), priority=ibis.literal(order))
            for order, (kind, table) in enumerate(zip(MATCHED_BY, (by_id, by_issn, by_title), strict=True))
        )
    ).distinct()
    best = matches.group_by("source_id").agg(priority=_.priority.min())
    top = matches.join(best, ["source_id", "priority"])
    tied = top.group_by("source_id").agg(candidates=_.journal.nunique(), journal=_.journal.min())
    return tied.join(top, ["source_id", "journal"]).select(
        "source_id", "journal", "matched_by", candidates=_.candidates.cast("int64")
    )


def coverage(edition: Edition, matched: pa.Table, works_per_source: dict[str, tuple[int, int]]) -> pa.Table:
    """One row per journal of the edition: its matched sources, how, and the works and eligible works found.

    `matched` is a `journal_sources` table; `works_per_source` maps source_id to (works, eligible works).
    """
    by_journal: dict[str, list[dict[str, object]]] = {}
    for row in matched.to_pylist():
        by_journal.setdefault(row["journal"], []).append(row)
    rows = []
    for journal in edition.journal_list():
        found = sorted(by_journal.get(journal.title, []), key=lambda r: str(r["source_id"]))
        counts = [works_per_source.get(str(r["source_id"]), (0, 0)) for r in found]
        rows.append(
            {
                "journal": journal.title,
                "subjects": "; ".join(journal.subjects) if journal.subjects else "per article",
                "found": bool(found),
                "sources": "; ".join(f"{r['source_id']} ({r['matched_by']})" for r in found),
                "ambiguous": any(int(r["candidates"]) > 1 for r in found),
                "works": sum(c[0] for c in counts),
                "eligible_works": sum(c[1] for c in counts),
            }
        )
    return pa.Table.from_pylist(rows)
