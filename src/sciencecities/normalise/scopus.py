"""Scopus CSV exports -> `ExportRecord`s, streamed.

A Scopus CSV is UTF-8 (usually with a byte-order mark), comma-separated, fields quoted, and a field may span
lines. The columns used: Authors, Author(s) ID, Title, Year, Source title, DOI, Affiliations, Authors with
affiliations, ISSN, Document Type, Cited by, EID (the work id, `2-s2.0-...`).

Author-address links: 'Authors with affiliations' has one entry per author ('Name, affiliation, affiliation');
each author gets the entries of 'Affiliations' written in their entry (longest first, so an affiliation that
is the tail of a longer one is not also read). Without that column, or when its entries do not pair one to one
with the authors, every author gets all 'Affiliations'.

Scopus has added columns over the years (e.g. 'Funding Text 2' after 'Funding Text 1'), and a file put
together from two exports has rows longer than its header. Such a row is read with the columns up to
'Authors with affiliations' from its start and the columns from 'Correspondence Address' on from its end,
and taken only if its EID then reads as one. A file whose header lacks the columns above, that holds binary
data, or whose last quoted field never closes (truncated) raises InputError naming the file and line; a
row that cannot be read is rejected with its line.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from sciencecities.errors import InputError
from sciencecities.normalise.exports import ExportRecord, Rejected, checked, open_text

__all__ = ["read_scopus"]

REQUIRED = ("Authors", "Title", "Year", "Source title", "EID")
_WHAT = "a Scopus CSV export (a header row with " + ", ".join(REQUIRED) + ")"
_EID = re.compile(r"^2-s2\.0-\d+$")
_HEAD_END = "Authors with affiliations"
_TAIL_START = "Correspondence Address"
_NO_AUTHOR = "[No author name available]"


def read_scopus(path: Path) -> Iterator[ExportRecord | Rejected]:
    """Every record of a Scopus CSV export, in file order; InputError if the file is not one, or is damaged."""
    with open_text(path) as handle:
        numbered = _Numbered(path, handle)
        reader = csv.reader(numbered, strict=True)
        start = 1
        try:
            header = next(reader, None)
            if header is None:
                raise InputError(f"{path}, line 1: the file is empty", f"give {_WHAT}")
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                looks = (
                    " (it looks like a Web of Science export: use `ingest wos`)"
                    if header and header[0].startswith(("FN ", "PT\t"))
                    else ""
                )
                raise InputError(
                    f"{path}, line 1: not a Scopus CSV export{looks}: the header lacks {', '.join(missing)}",
                    f"give {_WHAT}",
                )
            columns = {name: index for index, name in enumerate(header)}
            while True:
                start = numbered.number + 1
                row = next(reader, None)
                if row is None:
                    return
                if not any(v.strip() for v in row):
                    continue
                yield _record(row, header, columns, start)
        except csv.Error as exc:
            raise InputError(
                f"{path}, line {numbered.number}: not readable as CSV ({exc}); the record starting at line "
                f"{start} is damaged or the file is truncated",
                "export the records again",
            ) from exc


class _Numbered:
    """The lines of a text file with the number of the last one read, checked for binary data."""

    def __init__(self, path: Path, handle: Iterator[str]) -> None:
        self.path = path
        self.handle = handle
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.handle)
        self.number += 1
        return checked(self.path, self.number, line, _WHAT)


def _aligned(row: list[str], header: list[str], columns: dict[str, int]) -> dict[str, str] | str:
    """Column name -> value, aligning a row longer than the header (see the module docstring); or why not."""
    extra = len(row) - len(header)
    if extra == 0:
        return dict(zip(header, row, strict=True))
    if extra < 0:
        return f"{len(row)} fields where the header has {len(header)}"
    head_end = columns.get(_HEAD_END, -1)
    tail_start = columns.get(_TAIL_START, len(header))
    return {
        name: row[index] if index <= head_end else row[index + extra]
        for name, index in columns.items()
        if index <= head_end or index >= tail_start
    }


def _record(row: list[str], header: list[str], columns: dict[str, int], line: int) -> ExportRecord | Rejected:
    text = io.StringIO()
    csv.writer(text).writerow(row)
    raw = text.getvalue().rstrip("\r\n")
    fields = _aligned(row, header, columns)
    if isinstance(fields, str):
        return Rejected(line, fields, raw)
    eid = fields.get("EID", "").strip()
    if not _EID.match(eid):
        extra = f" ({len(row)} fields where the header has {len(header)})" if len(row) != len(header) else ""
        return Rejected(line, f"no EID: {eid[:40]!r} is not a Scopus EID{extra}", raw)

    def value(name: str) -> str | None:
        text = fields.get(name, "").strip()
        return text or None

    written = value("Authors") or ""
    authors = [] if written.startswith(_NO_AUTHOR) else _names(written)
    ids = [i.strip() for i in (value("Author(s) ID") or "").split(";") if i.strip()]
    affiliations = [a.strip() for a in (value("Affiliations") or "").split(";") if a.strip()]
    entries = [e.strip() for e in (value("Authors with affiliations") or "").split(";") if e.strip()]
    if entries and len(entries) == len(authors):
        addresses = [_own(entry, affiliations) for entry in entries]
    else:
        addresses = [list(affiliations) for _ in authors]
    return ExportRecord(
        line=line,
        work_id=eid,
        doi=value("DOI"),
        title=value("Title"),
        year=value("Year"),
        doc_type=value("Document Type"),
        source_name=value("Source title"),
        issns=[i for i in re.split(r"[;,\s]+", value("ISSN") or "") if i],
        source_type=None,
        authors=authors,
        author_ids=[ids[i] if len(ids) == len(authors) else None for i in range(len(authors))],
        author_addresses=addresses,
        cited_by=value("Cited by"),
        raw=raw,
    )


def _names(written: str) -> list[str]:
    """Authors as Scopus writes them: 'Smith J., Doe A.B.' (older exports) or 'Smith, J.; Doe, A.B.'."""
    separator = ";" if ";" in written else ","
    return [n.strip() for n in written.split(separator) if n.strip()]


def _own(entry: str, affiliations: list[str]) -> list[str]:
    """The affiliations written in one author's entry, longest first and each part of the text read once; the
    entry without the name when it names none of them."""
    found: list[tuple[int, str]] = []
    rest = entry
    for affiliation in sorted(set(affiliations), key=len, reverse=True):
        at = rest.find(affiliation)
        if at >= 0:
            found.append((at, affiliation))
            rest = rest[:at] + "\x00" * len(affiliation) + rest[at + len(affiliation) :]
    if found:
        return [a for _, a in sorted(found)]
    parts = [p.strip() for p in entry.split(",")]
    own = ", ".join(
        parts[2:] if len(parts) > 2 and re.fullmatch(r"(?:[A-Z][a-z]?[.-]?\s?)+", parts[1]) else parts[1:]
    )
    return [own] if own else []
