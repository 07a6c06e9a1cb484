"""Web of Science Core Collection exports (plain text and tab-delimited) -> `ExportRecord`s, streamed.

Plain text: an `FN`/`VR` header, then records of two-letter field tags, continuation lines indented three
spaces (one author or address per line in AU, AF and C1), `ER` closing each record and `EF` the file.
Tab-delimited: a header row of the same tags, one record per row, several authors or addresses in one field
separated by '; '. Either in UTF-8 or UTF-16 (with a byte-order mark), Windows or Unix line endings.

Author-address links: C1 addresses written `[Author A; Author B] Address` belong to the authors named in the
brackets (matched to AF or AU names, else by a surname only one author has); an address without brackets, or
whose bracket names no author, belongs to every author. So records before 2008, whose C1 has no brackets,
give every author all addresses.

A file that is not a WoS export, holds binary data, or ends inside a record (no `ER`: truncated) raises
InputError naming the file and line. A record without a UT, or with a line that is neither a tag nor a
continuation, is rejected with its line (quarantined, the rest is taken).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from sciencecities.errors import InputError
from sciencecities.normalise.exports import ExportRecord, Rejected, checked, open_text

__all__ = ["read_wos"]

_WHAT = "a Web of Science export: plain text (starts 'FN ') or tab-delimited (a header row of tags: PT, AU, ..., UT)"
_TAG = re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$")
_LISTS = ("AU", "AF", "C1", "SN", "EI")
"""Tags whose values are lists: one per line in plain text, separated by '; ' in tab-delimited rows."""
_BRACKETED = re.compile(r"^\[([^\]]*)\]\s*(.*)$")
_SOURCE_TYPES = {"J": "journal", "S": "book series", "B": "book", "P": "patent"}


def read_wos(path: Path) -> Iterator[ExportRecord | Rejected]:
    """Every record of a WoS export, in file order; InputError if the file is not one, or is damaged."""
    with open_text(path) as handle:
        numbered = ((n, checked(path, n, line, _WHAT)) for n, line in enumerate(handle, start=1))
        first = next(numbered, None)
        if first is None:
            raise InputError(f"{path}, line 1: the file is empty", f"give {_WHAT}")
        header = first[1].rstrip("\r\n")
        if header.startswith("FN "):
            yield from _plain(path, numbered)
        elif header.split("\t")[0] == "PT" and "UT" in header.split("\t"):
            yield from _tabbed(path, header.split("\t"), numbered)
        else:
            looks = (
                " (it looks like a Scopus CSV export: use `ingest scopus`)"
                if header.startswith(('"Authors"', "Authors,"))
                else ""
            )
            raise InputError(f"{path}, line 1: not a Web of Science export{looks}", f"give {_WHAT}")


def _plain(path: Path, lines: Iterator[tuple[int, str]]) -> Iterator[ExportRecord | Rejected]:
    fields: dict[str, list[str]] = {}
    start = 0
    raw: list[str] = []
    problem = ""
    tag = ""
    for number, text in lines:
        line = text.rstrip("\r\n")
        if not start:
            if not line.strip() or line.startswith(("VR ", "FN ")):
                continue
            if line == "EF":
                return
            start, fields, raw, problem, tag = number, {}, [], "", ""
        raw.append(line)
        if not line.strip():
            continue
        if line.rstrip() == "ER":
            yield Rejected(start, problem, "\n".join(raw)) if problem else _record(fields, start, raw)
            start = 0
            continue
        if line.startswith("   ") and tag:
            fields[tag].append(line.strip())
            continue
        match = _TAG.match(line)
        if match is None or line == "EF":
            problem = problem or f"line {number} is neither a field tag nor a continuation: {line[:80]!r}"
            continue
        tag = match.group(1)
        fields.setdefault(tag, []).append((match.group(2) or "").strip())
    if start:
        raise InputError(
            f"{path}, line {start}: the record that starts here has no ER line before the file ends "
            "(the file is truncated)",
            "export the records again, or delete the unfinished record at the end of the file",
        )


def _tabbed(
    path: Path, header: list[str], lines: Iterator[tuple[int, str]]
) -> Iterator[ExportRecord | Rejected]:
    for number, text in lines:
        line = text.rstrip("\r\n")
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) < len(header):
            if not text.endswith("\n"):
                raise InputError(
                    f"{path}, line {number}: the last row has {len(values)} of {len(header)} fields: the file "
                    "ends inside it (truncated)",
                    "export the records again, or delete the unfinished last row",
                )
            yield Rejected(number, f"{len(values)} fields where the header has {len(header)}", line)
            continue
        if any(v.strip() for v in values[len(header) :]):
            yield Rejected(number, f"{len(values)} fields where the header has {len(header)}", line)
            continue
        fields = {
            tag: ([v.strip() for v in _split(value)] if tag in _LISTS else [value])
            for tag, value in zip(header, values, strict=False)
            if value.strip()
        }
        yield _record(fields, number, [line])


def _split(value: str) -> list[str]:
    """Split a '; '-separated field, keeping the '; ' inside [brackets] (C1's author lists)."""
    parts, depth, current = [], 0, ""
    for char in value:
        depth += (char == "[") - (char == "]")
        if char == ";" and depth <= 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in (p.strip() for p in parts) if p]


def _key(name: str) -> str:
    return re.sub(r"[\s.]+", " ", name.casefold()).strip()


def _owners(names: str, positions: dict[str, list[int]]) -> list[int]:
    """Author positions of the names in a C1 bracket: by name, else by surname when that is unique."""
    owners: set[int] = set()
    for name in names.split(";"):
        found = positions.get(_key(name))
        if found is None:
            surname = _key(name.split(",")[0])
            found = list({i for key, at in positions.items() if key.split(",")[0] == surname for i in at})
            found = found if len(found) == 1 else []
        owners.update(found)
    return sorted(owners)


def _record(fields: dict[str, list[str]], line: int, raw: list[str]) -> ExportRecord | Rejected:
    def one(tag: str) -> str | None:
        values = fields.get(tag)
        return " ".join(values) if values else None

    ident = one("UT")
    if not ident:
        return Rejected(line, "no UT: the record has no accession number", "\n".join(raw))
    short, full = fields.get("AU", []), fields.get("AF", [])
    authors = full if len(full) == len(short) or not short else short
    positions: dict[str, list[int]] = {}
    for index, name in enumerate(authors):
        for form in {name, short[index] if index < len(short) else name}:
            positions.setdefault(_key(form), []).append(index)
    addresses: list[list[str]] = [[] for _ in authors]
    for entry in fields.get("C1", []):
        bracketed = _BRACKETED.match(entry)
        address = (bracketed.group(2) if bracketed else entry).strip().rstrip(".")
        if not address:
            continue
        owners = _owners(bracketed.group(1), positions) if bracketed else []
        for index in owners or range(len(authors)):
            if address not in addresses[index]:
                addresses[index].append(address)
    return ExportRecord(
        line=line,
        work_id=ident if ident.upper().startswith("WOS:") else f"WOS:{ident}",
        doi=one("DI"),
        title=one("TI"),
        year=one("PY"),
        doc_type=one("DT"),
        source_name=one("SO"),
        issns=fields.get("SN", []) + fields.get("EI", []),
        source_type=_SOURCE_TYPES.get(one("PT") or ""),
        authors=authors,
        author_ids=[None] * len(authors),
        author_addresses=addresses,
        cited_by=one("TC"),
        raw="\n".join(raw),
    )
