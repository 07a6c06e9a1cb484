"""Builds `work_subjects`: the subject tables each eligible article counts in (DESIGN §5).

Single-subject journals give their listed subject; a journal listed under two subjects gives both. Articles in
the multidisciplinary journals are routed by their OpenAlex primary topic's field, else its domain, through the
edition's mapping; an article without a topic is 'unclassified' (overall table only), and one whose field is
mapped to [] is outside the edition's subjects and does not count at all.
"""

from __future__ import annotations

import ibis
import pyarrow as pa
from ibis import _

from sciencecities.editions import Edition

ALL = "all"
"""The subject value of the overall tables."""

_ROUTE = pa.schema([("key", pa.string()), ("subject", pa.string())])


def _routes(mapping: dict[str, tuple[str, ...]]) -> ibis.Table:
    """(key, subject) rows; a key mapped to [] gets one row with a null subject (outside the subjects)."""
    rows = [
        {"key": key, "subject": subject}
        for key, subjects in mapping.items()
        for subject in (subjects or (None,))
    ]
    return ibis.memtable(pa.Table.from_pylist(rows, schema=_ROUTE))


def journal_subjects(edition: Edition) -> ibis.Table:
    """One row per (journal, subject) for the journals with listed subjects."""
    rows = [{"journal": j.title, "subject": s} for j in edition.journal_list() for s in j.subjects]
    schema = pa.schema([("journal", pa.string()), ("subject", pa.string())])
    return ibis.memtable(pa.Table.from_pylist(rows, schema=schema))


def multidisciplinary_journals(edition: Edition) -> list[str]:
    """Titles of the journals whose articles are routed to subjects one by one."""
    return [j.title for j in edition.journal_list() if j.multidisciplinary]


def routed(articles: ibis.Table, edition: Edition) -> ibis.Table:
    """Route articles of multidisciplinary journals: one row per (work_id, subject, route), subject null when
    the article's field or domain is outside the edition's subjects. Unclassified articles get no row.

    `articles` has work_id, journal, field and domain (the primary topic's OpenAlex ids as strings).
    """
    md = articles.filter(articles.journal.isin(multidisciplinary_journals(edition)))
    fields = _routes(edition.multidisciplinary.fields)
    domains = _routes(edition.multidisciplinary.domains)
    known = fields.select(field_key=fields.key).distinct()
    md = md.left_join(known, md.field == known.field_key)
    by_field = md.join(fields, md.field == fields.key).select("work_id", "subject", route="field " + md.field)
    no_field = md.filter(md.field_key.isnull())
    by_domain = no_field.join(domains, no_field.domain == domains.key).select(
        "work_id", "subject", route="domain " + no_field.domain
    )
    return by_field.union(by_domain)


def outside_subjects(articles: ibis.Table, edition: Edition) -> ibis.Table:
    """Articles that do not count because their field (or domain) is mapped to no subject: work_id, route."""
    return routed(articles, edition).filter(_.subject.isnull()).select("work_id", "route").distinct()


def work_subjects(eligible: ibis.Table, works: ibis.Table, edition: Edition) -> ibis.Table:
    """One row per (eligible work, subject) it counts in; the overall table ('all') is not repeated here."""
    articles = eligible.join(
        works.select("work_id", "primary_topic_field", "primary_topic_domain"), "work_id"
    )
    articles = articles.select(
        "work_id", "journal", field=_.primary_topic_field, domain=_.primary_topic_domain
    )
    listed = articles.join(journal_subjects(edition), "journal").select("work_id", "subject")
    by_topic = routed(articles, edition).filter(_.subject.notnull()).select("work_id", "subject")
    return listed.union(by_topic).distinct()
