"""Drop works outside an edition's journals before they are parsed (`ingest openalex --edition`).

A journal set is a tiny part of the snapshot, and parsing JSON costs far more than decompressing it, so each
works file is decompressed in blocks and only the lines whose primary source may belong to the edition are
kept, found by the raw bytes: the source id after `"primary_location"`, else an ISSN of the source object.
The test is a superset: a line whose primary source cannot be read from the bytes (an old record with
`host_venue`, an odd layout) is kept and judged after parsing, as every line is without the filter. Lines with
no source (`"source": null`) and lines whose source is another journal are dropped and counted. A file whose
gzip stream is damaged is not filtered at all: it is read whole, so that its damage is quarantined as usual.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from isal import igzip, isal_zlib

from sciencecities.editions import Edition

_BLOCK = 4 << 20
_KEY = b'"primary_location"'
_WINDOW = 4096
_SOURCE = re.compile(rb'"source"\s*:\s*(null|\{[^{}]*\})')
_SOURCE_ID = re.compile(rb'^\{\s*"id"\s*:\s*"(?:https://openalex\.org/)?(S\d+)"')
_ISSN = re.compile(rb"\d{4}-\d{3}[\dXx]")


@dataclass(frozen=True)
class EditionFilter:
    """What a kept line's primary source must match: an OpenAlex source id or an ISSN of the edition's journals.

    `issnless`: the edition has journals known by title alone, so sources without an ISSN are kept too.
    """

    edition: str
    ids: frozenset[bytes]
    issns: frozenset[bytes]
    issnless: bool

    @classmethod
    def of(cls, edition: Edition) -> EditionFilter | None:
        """The filter of an edition with a journal list; None for an edition that counts every source."""
        if not edition.has_journal_list:
            return None
        journals = edition.journal_list()
        return cls(
            edition.name,
            frozenset(i.encode() for j in journals for i in j.openalex_ids),
            frozenset(i.upper().encode() for j in journals for i in j.issns),
            any(not j.openalex_ids and not j.issns for j in journals),
        )

    def keeps(self, line: bytes, start: int, end: int) -> bool:
        """Whether the line `line[start:end]` may belong to the edition (True when the bytes cannot tell)."""
        key = line.find(_KEY, start, end)
        if key < 0:
            return True
        found = _SOURCE.search(line, key, min(end, key + _WINDOW))
        if found is None:
            return True
        return self._judged(found.group(1))

    @functools.lru_cache(maxsize=1 << 16)  # noqa: B019 (filters live as long as the process: one per edition)
    def _judged(self, body: bytes) -> bool:
        """Whether a primary source object (its bytes, the same on every work of its journal) may be the
        edition's; cached, since a snapshot names a few hundred thousand sources in hundreds of millions of works."""
        if body == b"null":
            return False
        source_id = _SOURCE_ID.match(body)
        if source_id is not None and source_id.group(1) in self.ids:
            return True
        issns = _ISSN.findall(body)
        if not issns:
            return self.issnless or source_id is None
        return any(issn.upper() in self.issns for issn in issns)


@dataclass(frozen=True)
class Filtered:
    """The outcome of filtering one file: lines read and kept, or `damaged` (then nothing was written)."""

    source: Path
    kept_path: Path
    lines: int
    kept: int
    damaged: str | None = None


def filter_file(job: tuple[EditionFilter, Path, Path]) -> Filtered:
    """Write the lines of a (gzipped or plain) works file that the filter keeps to a plain file; streams in
    blocks, so memory stays flat whatever the file's size. Runs in worker processes (one file each)."""
    keep, source, target = job
    lines = kept = 0
    tail = b""
    try:
        with open(source, "rb") as raw, open(target, "wb") as out:
            for data in _decompressed(raw):
                first = data.find(b"\n") + 1
                if not first:
                    tail += data
                    continue
                if tail:  # the line that spans two blocks: only it is joined, not the whole block
                    line, tail = tail + data[:first], b""
                    lines += 1
                    if keep.keeps(line, 0, len(line) - 1):
                        out.write(line)
                        kept += 1
                    position = first
                else:
                    position = 0
                end = data.rfind(b"\n") + 1
                tail = data[end:]
                while position < end:
                    newline = data.find(b"\n", position, end)
                    lines += 1
                    if keep.keeps(data, position, newline):
                        out.write(data[position : newline + 1])
                        kept += 1
                    position = newline + 1
            if tail.strip():
                lines += 1
                if keep.keeps(tail, 0, len(tail)):
                    out.write(tail + b"\n")
                    kept += 1
    except (igzip.BadGzipFile, isal_zlib.error, EOFError) as exc:
        target.unlink(missing_ok=True)
        return Filtered(source, target, lines, kept, f"{type(exc).__name__}: {exc}")
    return Filtered(source, target, lines, kept)


def _decompressed(raw: BinaryIO) -> Iterator[bytes]:
    """Blocks of the file's bytes, gunzipped (all members) with ISA-L when it is gzip (about 5 times zlib's speed;
    the same bytes); raises BadGzipFile, EOFError or isal_zlib.error on damage."""
    gzipped = raw.read(2) == b"\x1f\x8b"
    raw.seek(0)
    source: BinaryIO = igzip.IGzipFile(fileobj=raw) if gzipped else raw
    yield from iter(lambda: source.read(_BLOCK), b"")
