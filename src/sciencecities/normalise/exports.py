"""Web of Science and Scopus exports -> canonical batch rows: what the two formats share once parsed.

wos.py and scopus.py turn a file into `ExportRecord`s (or `Rejected` records, quarantined with their line);
this module gives each record its rows of `works`, `authorships`, `affiliations`, `institutions` and
`sources` (DESIGN §3). Each address is split into an institution and a place by the project's affiliation
parser (resolve/geography/affiliations.py): the place and country are what the parser reads against the
GeoNames gazetteer; the institution is the organisation segment of the address (WoS writes it first; in
Scopus it is the last segment naming an organisation before the place). One institution per distinct
(normalised name, place), with an id hashed from both; one source per ISSN (else title), likewise.
Authors are linked to the addresses the format gives them, so the build's Share splits each author's
credit over their own institutions (DESIGN §4).
"""

from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa

from sciencecities.errors import InputError
from sciencecities.resolve.geography.affiliations import ParsedPlace, parse_affiliation
from sciencecities.resolve.geography.gazetteer import Gazetteer, normalise_name
from sciencecities.resolve.journals import normalise_title
from sciencecities.tables import AFFILIATIONS, AUTHORSHIPS, INSTITUTIONS, SOURCES, WORKS

__all__ = [
    "KINDS",
    "TYPES",
    "ExportRead",
    "ExportRecord",
    "Rejected",
    "add_records",
    "checked",
    "issn",
    "open_text",
]

KINDS = ("wos", "scopus")
"""The export formats, as named by `sciencecities ingest wos|scopus` and in the manifest."""

TYPES: dict[str, str] = {
    "article": "article",
    "proceedings paper": "article",
    "conference paper": "article",
    "data paper": "article",
    "review": "review",
    "short survey": "review",
    "letter": "letter",
    "editorial material": "editorial",
    "editorial": "editorial",
    "correction": "erratum",
    "erratum": "erratum",
    "retraction": "retraction",
    "book chapter": "book-chapter",
    "book": "book",
}
"""WoS and Scopus document types -> OpenAlex work types; the first of several ('Article; Proceedings Paper')
decides, and any other type is 'other'. Conference papers are 'article', as OpenAlex types them."""

_ORGANISATIONS = (
    re.compile(
        r"univ|institut|academ|hospital|polytechn|politecnic|ecole|école|cnrs|inserm|csic", re.IGNORECASE
    ),
    re.compile(
        r"college|cent(?:er|re)|ctr\b|lab|school|observator|foundation|council|agency|museum|clinic|company"
        r"|corporation|gmbh",
        re.IGNORECASE,
    ),
)
"""Words that mark the organisation segment of a Scopus address ('Department of X, University of Y, City'):
the first pattern before the second."""
_STREET = re.compile(
    r"^(?:rue|via|ul|calle|avenida|av)\b|\b(?:street|st|road|rd|lane|avenue|ave|strasse|str|weg|platz)\b\.?\s*\d*$",
    re.IGNORECASE,
)
"""Segments that are street addresses, never the organisation ('College Lane', 'rue de l'Universite')."""

_OUTSIDE_PARENTHESES = re.compile(r",(?![^()]*\))")
_ISSN = re.compile(r"^(\d{4})-?(\d{3}[\dX])$")
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)
_MAX_RAW = 100_000
_MARK = "sciencecities-undecodable"
_UNDECODED = "\udcff"


def _marked(exc: UnicodeError) -> tuple[str, int]:
    """The `_MARK` error handler: an undecodable stretch becomes one `_UNDECODED`."""
    if isinstance(exc, UnicodeDecodeError):
        return _UNDECODED, exc.end
    raise exc


codecs.register_error(_MARK, _marked)

_SCHEMAS = {
    "works": pa.schema([*WORKS.schema, pa.field("_ord", pa.int64())]),
    "authorships": pa.schema(
        [
            *(f for f in AUTHORSHIPS.schema if f.name != "n_institutions"),
            pa.field("_ord", pa.int64()),
            pa.field("institution_ids", pa.list_(pa.string())),
            pa.field("institution_objects", pa.string()),
        ]
    ),
    "affiliations": pa.schema([*AFFILIATIONS.schema, pa.field("_ord", pa.int64())]),
    "institutions": pa.schema(
        [*INSTITUTIONS.schema, pa.field("_prio", pa.int64()), pa.field("_ord", pa.int64())]
    ),
    "sources": pa.schema([*SOURCES.schema, pa.field("_prio", pa.int64()), pa.field("_ord", pa.int64())]),
}
"""The batch tables' schemas: canonical columns plus what normalise/upsert.py merges on (`_ord`, `_prio`)."""


@dataclass
class ExportRecord:
    """One record of an export, as its parser read it: `author_addresses[i]` are the addresses of author i."""

    line: int
    work_id: str
    doi: str | None
    title: str | None
    year: str | None
    doc_type: str | None
    source_name: str | None
    issns: list[str]
    source_type: str | None
    authors: list[str]
    author_ids: list[str | None]
    author_addresses: list[list[str]]
    cited_by: str | None
    raw: str


@dataclass
class Rejected:
    """A record (or row) that cannot be taken: its first line and why."""

    line: int
    reason: str
    raw: str


@dataclass
class ExportRead:
    """The batch rows of the files read (per table), their quarantined records, and the records taken."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in _SCHEMAS})
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    taken: int = 0

    def tables(self) -> dict[str, pa.Table]:
        """The batch tables `b_<name>`, typed."""
        return {name: pa.Table.from_pylist(rows, schema=_SCHEMAS[name]) for name, rows in self.rows.items()}


def open_text(path: Path) -> TextIO:
    """Open an export as text, lines numbered as read: UTF-16 when it starts with a byte-order mark (or with
    ASCII interleaved with NULs), else UTF-8 (a BOM skipped); bytes that do not decode become a lone surrogate
    (which no decoded text holds), and `checked` reports them with their line."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif len(head) == 4 and head[1] == 0 and head[3] == 0 and head[0] != 0:
        encoding = "utf-16-le"
    elif len(head) == 4 and head[0] == 0 and head[2] == 0 and head[1] != 0:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8-sig"
    return path.open(encoding=encoding, errors=_MARK, newline="")


def checked(path: Path, number: int, line: str, what: str) -> str:
    """The line, or InputError naming file and line when it holds binary data or bytes of another encoding."""
    if _UNDECODED in line or "\x00" in line:
        raise InputError(
            f"{path}, line {number}: not text (binary data, or bytes that are not UTF-8 or UTF-16)",
            f"give {what}; a damaged file has to be exported again",
        )
    return line


def issn(text: str) -> str | None:
    """An ISSN written as 1234-567X ('0192-8651' and '01928651' alike), or None when the text is not one."""
    match = _ISSN.match(text.strip().upper())
    return f"{match.group(1)}-{match.group(2)}" if match else None


def _hashed(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


class _Institutions:
    """Address -> (institution id, its row), parsed once per distinct address string."""

    def __init__(self, kind: str, gazetteer: Gazetteer) -> None:
        self.kind = kind
        self.gazetteer = gazetteer
        self.known: dict[str, tuple[str, dict[str, Any]]] = {}

    def of(self, address: str) -> tuple[str, dict[str, Any]]:
        found = self.known.get(address)
        if found is None:
            parsed = parse_affiliation(address, self.gazetteer)
            name = self._name(address, parsed)
            place = parsed.place if parsed is not None else None
            where = str(place.geonames_id) if place else (parsed.country_code if parsed else "")
            iid = f"{self.kind}:I{_hashed(normalise_name(name), where)}"
            found = (
                iid,
                {
                    "institution_id": iid,
                    "name": name,
                    "country_code": parsed.country_code if parsed else None,
                    "lineage": [],
                    "geonames_city_id": str(place.geonames_id) if place else None,
                    "city_name": place.name if place else None,
                    "latitude": place.latitude if place else None,
                    "longitude": place.longitude if place else None,
                    "geo_source": "parsed" if parsed else None,
                    "record_source": "entity",
                    "_prio": 2,
                },
            )
            self.known[address] = found
        return found

    def _name(self, address: str, parsed: ParsedPlace | None) -> str:
        """The organisation segment: WoS writes it first; in Scopus, the last segment that names an organisation
        before the segment where the place is written (else the first segment)."""
        segments = [s.strip() for s in _OUTSIDE_PARENTHESES.split(address) if s.strip()] or [address.strip()]
        if self.kind == "wos":
            return segments[0]
        before = segments[:-1] or segments
        if parsed is not None and parsed.matched:
            written = parsed.matched.split(",")[0].strip()
            at = next((i for i in range(len(segments) - 1, -1, -1) if written in segments[i]), 0)
            before = segments[:at] or before
        named = [s for s in reversed(before) if not _STREET.search(s)]
        return next((s for pattern in _ORGANISATIONS for s in named if pattern.search(s)), segments[0])


def _source(kind: str, record: ExportRecord) -> dict[str, Any] | None:
    issns = list(dict.fromkeys(i for i in (issn(x) for x in record.issns) if i))
    key = issns[0] if issns else normalise_title(record.source_name or "")
    if not key:
        return None
    return {
        "source_id": f"{kind}:S{_hashed(key)}",
        "name": record.source_name,
        "issn_l": None,
        "issns": issns,
        "type": record.source_type,
        "record_source": "entity",
        "_prio": 2,
    }


def _work_type(doc_type: str | None) -> tuple[str | None, bool]:
    """The OpenAlex type of a document type, and whether it says the work is retracted."""
    if not doc_type or not doc_type.strip():
        return None, False
    parts = [p.strip().lower() for p in doc_type.split(";")]
    return TYPES.get(parts[0], "other"), "retracted publication" in parts


def add_records(
    read: ExportRead,
    kind: str,
    path: Path,
    file_index: int,
    records: Iterable[ExportRecord | Rejected],
    gazetteer: Gazetteer,
) -> None:
    """Add the rows of one file's records to `read`, and its rejected records to the quarantine.

    A record whose year is not a year is quarantined; so is a second record with the same id in one file.
    """
    institutions = _Institutions(kind, gazetteer)
    seen: set[str] = set()
    for record in records:
        if isinstance(record, Rejected):
            _quarantine(read, kind, path, record.line, record.reason, record.raw)
            continue
        year = record.year.strip() if record.year else ""
        if year and not (year.isdigit() and len(year) == 4):
            _quarantine(read, kind, path, record.line, f"bad year: {record.year!r}", record.raw)
            continue
        if record.work_id in seen:
            _quarantine(read, kind, path, record.line, f"duplicate id: {record.work_id} again", record.raw)
            continue
        seen.add(record.work_id)
        order = file_index * 4294967296 + record.line
        source = _source(kind, record)
        if source is not None:
            read.rows["sources"].append(source | {"_ord": order})
        work_type, retracted = _work_type(record.doc_type)
        cited = record.cited_by.strip() if record.cited_by else ""
        read.rows["works"].append(
            {
                "work_id": record.work_id,
                "doi": _DOI.sub("", record.doi.strip()).lower()
                if record.doi and record.doi.strip()
                else None,
                "title": record.title,
                "publication_year": int(year) if year else None,
                "type": work_type,
                "source_id": source["source_id"] if source else None,
                "is_retracted": retracted,
                "is_paratext": False,
                "n_authors": len(record.authors),
                "is_authors_truncated": False,
                "cited_by_count": int(cited) if cited.isdigit() else None,
                "record_file": str(path),
                "record_line": record.line,
                "_ord": order,
            }
        )
        for position, (name, author_id, addresses) in enumerate(
            zip(record.authors, record.author_ids, record.author_addresses, strict=True)
        ):
            ids = []
            for address in addresses:
                iid, row = institutions.of(address)
                if iid not in ids:
                    ids.append(iid)
                    read.rows["affiliations"].append(
                        {
                            "work_id": record.work_id,
                            "author_position": position,
                            "institution_id": iid,
                            "_ord": order,
                        }
                    )
                    read.rows["institutions"].append(row | {"_ord": order})
            read.rows["authorships"].append(
                {
                    "work_id": record.work_id,
                    "author_position": position,
                    "author_id": author_id,
                    "author_name": name,
                    "raw_affiliations": addresses,
                    "institution_ids": ids,
                    "_ord": order,
                }
            )
        read.taken += 1


def _quarantine(read: ExportRead, kind: str, path: Path, line: int, reason: str, raw: str) -> None:
    if len(raw) > _MAX_RAW:
        raw = raw[:_MAX_RAW] + f"... [{len(raw) - _MAX_RAW} more characters cut]"
    read.quarantined.append(
        {"entity": kind, "source_file": str(path), "line": line, "reason": reason, "raw": raw}
    )
