"""Canonical tables: the contracts between pipeline stages, each with its grain, key and Arrow schema."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Table:
    """A canonical table: `grain` says what one row is, `key` the columns that are unique and not null."""

    name: str
    grain: str
    key: tuple[str, ...]
    schema: pa.Schema


_STR = pa.string()
_I64 = pa.int64()
_F64 = pa.float64()
_BOOL = pa.bool_()

WORKS = Table(
    "works",
    "one row per work (the newest record of each OpenAlex work id, merged ids removed)",
    ("work_id",),
    pa.schema(
        [
            ("work_id", _STR),
            ("doi", _STR),
            ("title", _STR),
            ("publication_year", _I64),
            ("publication_date", pa.date32()),
            ("type", _STR),
            ("source_id", _STR),
            ("is_retracted", _BOOL),
            ("is_paratext", _BOOL),
            ("primary_topic_id", _STR),
            ("primary_topic_subfield", _STR),
            ("primary_topic_field", _STR),
            ("primary_topic_domain", _STR),
            ("n_authors", _I64),
            ("is_authors_truncated", _BOOL),
            ("cited_by_count", _I64),
            ("updated_date", pa.timestamp("us")),
            ("record_file", _STR),
            ("record_line", _I64),  # line in the file (record number when the file was read whole)
        ]
    ),
)

AUTHORSHIPS = Table(
    "authorships",
    "one row per work and author position",
    ("work_id", "author_position"),
    pa.schema(
        [
            ("work_id", _STR),
            ("author_position", _I64),
            ("author_id", _STR),
            ("author_name", _STR),
            ("is_corresponding", _BOOL),
            ("raw_affiliations", pa.list_(_STR)),
            ("n_institutions", _I64),
        ]
    ),
)

AFFILIATIONS = Table(
    "affiliations",
    "one row per work, author position and distinct institution of that author",
    ("work_id", "author_position", "institution_id"),
    pa.schema([("work_id", _STR), ("author_position", _I64), ("institution_id", _STR)]),
)

INSTITUTIONS = Table(
    "institutions",
    "one row per institution (entity record first, else the objects embedded in authorships)",
    ("institution_id",),
    pa.schema(
        [
            ("institution_id", _STR),
            ("name", _STR),
            ("ror", _STR),
            ("country_code", _STR),
            ("type", _STR),
            ("lineage", pa.list_(_STR)),
            ("geonames_city_id", _STR),
            ("city_name", _STR),
            ("latitude", _F64),
            ("longitude", _F64),
            ("geo_source", _STR),
            ("record_source", _STR),
            ("updated_date", pa.timestamp("us")),
        ]
    ),
)

SOURCES = Table(
    "sources",
    "one row per source (journal, repository, ...), entity record first, else as embedded in works",
    ("source_id",),
    pa.schema(
        [
            ("source_id", _STR),
            ("name", _STR),
            ("issn_l", _STR),
            ("issns", pa.list_(_STR)),
            ("type", _STR),
            ("record_source", _STR),
            ("updated_date", pa.timestamp("us")),
        ]
    ),
)

MERGED_IDS = Table(
    "merged_ids",
    "one row per retired OpenAlex id (merged into another record)",
    ("entity", "id"),
    pa.schema([("entity", _STR), ("id", _STR), ("merge_into_id", _STR), ("merge_date", _STR)]),
)

QUARANTINE = Table(
    "quarantine",
    "one row per input record that could not be taken, with the reason",
    ("source_file", "line", "reason"),
    pa.schema(
        [
            ("entity", _STR),
            ("source_file", _STR),
            ("line", _I64),
            ("reason", _STR),
            ("raw", _STR),
            ("ingest_id", _STR),
        ]
    ),
)

INSTITUTION_RECORDS = Table(
    "institution_records",
    "one row per institution and kind of record (entity, embedded): the newest non-null value of each field",
    ("institution_id", "record_source"),
    INSTITUTIONS.schema,
)

SOURCE_RECORDS = Table(
    "source_records",
    "one row per source and kind of record (entity, embedded): the newest non-null value of each field",
    ("source_id", "record_source"),
    SOURCES.schema,
)

ROR_PLACES = Table(
    "ror_places",
    "one row per ROR organisation (from `ingest ror`): its first location, a GeoNames place (DESIGN §6)",
    ("ror",),
    pa.schema(
        [
            ("ror", _STR),  # the bare ROR id, as in institutions.ror (e.g. 042nb2s44)
            ("name", _STR),
            ("status", _STR),
            ("country_code", _STR),
            ("geonames_id", _I64),
            ("place_name", _STR),
            ("admin1_code", _STR),  # the subdivision code as ROR gives it (e.g. DC, VIC)
            ("latitude", _F64),
            ("longitude", _F64),
            ("last_modified", _STR),
            ("record_file", _STR),
        ]
    ),
)

CANONICAL: dict[str, Table] = {
    t.name: t
    for t in (
        WORKS,
        AUTHORSHIPS,
        AFFILIATIONS,
        INSTITUTIONS,
        SOURCES,
        MERGED_IDS,
        QUARANTINE,
        INSTITUTION_RECORDS,
        SOURCE_RECORDS,
        ROR_PLACES,
    )
}

JOURNAL_SOURCES = Table(
    "journal_sources",
    "one row per source of the store matched to a journal of the edition, with how it matched",
    ("source_id",),
    pa.schema([("source_id", _STR), ("journal", _STR), ("matched_by", _STR), ("candidates", _I64)]),
)

ELIGIBLE_WORKS = Table(
    "eligible_works",
    "one row per work counted by the edition, with its year, weight and journal",
    ("work_id",),
    pa.schema(
        [
            ("work_id", _STR),
            ("year", _I64),
            ("weight", _F64),
            ("source_id", _STR),
            ("journal", _STR),
            ("n_affiliated", _I64),
            ("n_authors", _I64),
        ]
    ),
)

WORK_SUBJECTS = Table(
    "work_subjects",
    "one row per eligible work and subject table it counts in (unclassified works have none)",
    ("work_id", "subject"),
    pa.schema([("work_id", _STR), ("subject", _STR)]),
)

ARTICLE_TOTALS = Table(
    "article_totals",
    "one row per subject ('all' for overall) and year: eligible articles and their summed weight, N(y)",
    ("subject", "year"),
    pa.schema([("subject", _STR), ("year", _I64), ("articles", _I64), ("weighted", _F64)]),
)

CREDIT = Table(
    "credit",
    "one row per eligible work and institution with its fractional Share (DESIGN §4)",
    ("work_id", "institution_id"),
    pa.schema([("work_id", _STR), ("institution_id", _STR), ("year", _I64), ("share", _F64)]),
)

INSTITUTION_YEAR = Table(
    "institution_year",
    "one row per institution, subject ('all' for overall) and publication year: Count and Share",
    ("institution_id", "subject", "year"),
    pa.schema(
        [("institution_id", _STR), ("subject", _STR), ("year", _I64), ("count", _I64), ("share", _F64)]
    ),
)

COUNTRY_YEAR = Table(
    "country_year",
    "one row per country, subject and year: Count and Share (institutions without a country are left out; "
    "audit shows them)",
    ("country_code", "subject", "year"),
    pa.schema([("country_code", _STR), ("subject", _STR), ("year", _I64), ("count", _I64), ("share", _F64)]),
)

INSTITUTION_PLACES = Table(
    "institution_places",
    "one row per institution: its GeoNames place, the source that gave it (override, openalex, ror, parsed) "
    "and the confidence; place columns null when unplaced",
    ("institution_id",),
    pa.schema(
        [
            ("institution_id", _STR),
            ("geonames_id", _I64),
            ("place_name", _STR),
            ("place_country_code", _STR),
            ("admin1", _STR),
            ("admin2", _STR),
            ("latitude", _F64),
            ("longitude", _F64),
            ("population", _I64),
            ("geo_source", _STR),
            ("confidence", _F64),
            ("detail", _STR),
        ]
    ),
)

INSTITUTION_UNITS = Table(
    "institution_units",
    "one row per boundary set and placed institution: the science city (unit) it falls in and the rule that "
    "decided",
    ("boundaries", "institution_id"),
    pa.schema(
        [
            ("boundaries", _STR),
            ("institution_id", _STR),
            ("unit_id", _STR),
            ("unit_name", _STR),
            ("country_code", _STR),
            ("rule", _STR),
        ]
    ),
)

INSTITUTION_GROUPS = Table(
    "institution_groups",
    "one row per placed institution and group it is in (regional clusters, continents, ...)",
    ("group_id", "institution_id"),
    pa.schema([("group_id", _STR), ("group_name", _STR), ("institution_id", _STR)]),
)

CITY_YEAR = Table(
    "city_year",
    "one row per boundary set, science city (unit), subject and year: Count and Share (unplaced institutions "
    "are left out; audit shows them)",
    ("boundaries", "unit_id", "subject", "year"),
    pa.schema(
        [
            ("boundaries", _STR),
            ("unit_id", _STR),
            ("subject", _STR),
            ("year", _I64),
            ("count", _I64),
            ("share", _F64),
        ]
    ),
)

GROUP_YEAR = Table(
    "group_year",
    "one row per group, subject and year: Count and Share",
    ("group_id", "subject", "year"),
    pa.schema([("group_id", _STR), ("subject", _STR), ("year", _I64), ("count", _I64), ("share", _F64)]),
)

UNIT_POPULATION = Table(
    "unit_population",
    "one row per boundary set and science city: its population (GeoNames places summed, or a user's file)",
    ("boundaries", "unit_id"),
    pa.schema(
        [
            ("boundaries", _STR),
            ("unit_id", _STR),
            ("population", _I64),
            ("places", _I64),
            ("source", _STR),
        ]
    ),
)

DERIVED: dict[str, Table] = {
    t.name: t
    for t in (
        JOURNAL_SOURCES,
        ELIGIBLE_WORKS,
        WORK_SUBJECTS,
        ARTICLE_TOTALS,
        CREDIT,
        INSTITUTION_YEAR,
        COUNTRY_YEAR,
        INSTITUTION_PLACES,
        INSTITUTION_UNITS,
        INSTITUTION_GROUPS,
        CITY_YEAR,
        GROUP_YEAR,
        UNIT_POPULATION,
    )
}
