"""Discover OpenAlex input files: plain and gzipped JSON Lines, directories, and the snapshot layout."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import os
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from sciencecities.errors import InputError

ENTITIES = ("works", "institutions", "sources")
"""The OpenAlex entity kinds that the pipeline reads."""

_PREFIX_ENTITY = {"W": "works", "I": "institutions", "S": "sources"}
_OTHER_ENTITIES = {
    "authors",
    "topics",
    "domains",
    "fields",
    "subfields",
    "publishers",
    "funders",
    "concepts",
    "keywords",
}
_ID_URL = "https://openalex.org/"
_JSON_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".json", ".json.gz", ".gz")
_CSV_SUFFIXES = (".csv", ".csv.gz")


@dataclass(frozen=True)
class InputFile:
    """One file to ingest: its path, the entity it holds ('works', ..., or 'merged_ids:works'), size, checksum;
    a file that Spark reads from another file system (s3a://, hdfs://) has its `uri` and no checksum."""

    path: Path
    entity: str
    size: int
    sha256: str | None
    uri: str | None = None

    @property
    def name(self) -> str:
        """How the file is named to the user and in the manifest: its URI, else its path."""
        return self.uri or str(self.path)


@dataclass(frozen=True)
class Skipped:
    """A file that was found but is not read, and why."""

    path: Path
    reason: str


def discover(paths: list[Path]) -> tuple[list[InputFile], list[Skipped]]:
    """Expand files and directories into the files to ingest, in a stable order, with their entity kind."""
    found: list[InputFile] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    for given in paths:
        if not given.exists():
            raise InputError(
                f"{given} does not exist", "check the path; give .jsonl/.jsonl.gz files or folders"
            )
        candidates = [given] if given.is_file() else sorted(p for p in given.rglob("*") if p.is_file())
        for path in candidates:
            path = path.resolve()
            if path in seen:
                continue
            seen.add(path)
            entity, reason = _classify(path)
            if entity is None:
                if given.is_file() or reason != "not a data file":
                    skipped.append(Skipped(path, reason))
                continue
            found.append(InputFile(path, entity, path.stat().st_size, ""))
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # hashlib releases the GIL: one file per core
        digests = list(pool.map(_sha256, [f.path for f in found]))
    return [replace(f, sha256=d) for f, d in zip(found, digests, strict=True)], skipped


def strip_id(value: str) -> str:
    """An OpenAlex id without its URL prefix (`https://openalex.org/W1` -> `W1`)."""
    return value.removeprefix(_ID_URL)


def _classify(path: Path) -> tuple[str | None, str]:
    return classify([p.lower() for p in path.parts], lambda: _sniff(path))


def classify(parts: Sequence[str], sniff: Callable[[], str]) -> tuple[str | None, str]:
    """The entity a file holds, from its path's parts (lower-case; the snapshot layout's folders name it), else
    from `sniff` (the entity of its first records); None and the reason for a file that is not read."""
    name = parts[-1] if parts else ""
    if "merged_ids" in parts:
        after = parts[parts.index("merged_ids") + 1 :]
        kind = after[0] if len(after) > 1 else None
        if not name.endswith(_CSV_SUFFIXES):
            return None, "not a data file"
        if kind in ENTITIES:
            return f"merged_ids:{kind}", ""
        return None, f"merged ids of {kind or 'an unknown entity'} are not used"
    if not name.endswith(_JSON_SUFFIXES) or name == "manifest" or name.endswith(".manifest"):
        return None, "not a data file"
    for part in reversed(parts[:-1]):
        if part in ENTITIES:
            return part, ""
        if part in _OTHER_ENTITIES:
            return None, f"OpenAlex {part} are not used"
    kind = sniff()
    if kind in ENTITIES or kind == "":
        return kind or "works", ""
    return None, f"holds OpenAlex records of kind {kind!r}, which are not used"


SNIFF_LINES = 200
"""How many first lines are read to tell the entity of a file that its path does not name."""


def record_kind(lines: Iterable[str]) -> str:
    """The entity of the first parseable record with an id among `lines` ('' when none can be told)."""
    for line in itertools.islice(lines, SNIFF_LINES):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("id"), str):
            key = strip_id(record["id"])
            return _PREFIX_ENTITY.get(key[:1], key[:1])
    return ""


def _sniff(path: Path) -> str:
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as handle:
            return record_kind(handle)
    except (OSError, EOFError, UnicodeError, zlib.error):
        return ""


def is_gzip(path: Path) -> bool:
    """True when the file starts with the gzip magic bytes, whatever its name."""
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


__all__ = [
    "ENTITIES",
    "InputFile",
    "Skipped",
    "classify",
    "discover",
    "is_gzip",
    "record_kind",
    "strip_id",
]
