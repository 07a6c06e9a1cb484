"""ROR (Research Organization Registry) schema-v2 records -> `ror_places`, with quarantine.

Accepted inputs: the ROR data dump `.zip` from Zenodo (its `*_schema_v2.json` member, else its single `*.json`
member), a JSON array of records (`.json`, `.json.gz`), JSON Lines (`.jsonl`, `.jsonl.gz`), one record, and a
ROR API response (`{"items": [...]}`) or Elasticsearch response (`{"hits": {"hits": [{"_source": ...}]}}`).
Gzip is told by its magic bytes, zip by its name or central directory.

Records are decoded one at a time by Python's json module from a stream (a zip member is decompressed as it
is read, never extracted), so no input sits in memory whole: one 1 MiB buffer and one record at a time, about
6 s for the 120k-record dump. We chose this over DuckDB's JSON reader because every record needs its own
verdict (schema v1 or v2, usable location) with its number and raw text for quarantine, because DuckDB cannot
read inside a zip, and because it rejects a whole file at its first bad record.

Each record gives one row from its first location (ROR lists the main location first; others are ignored).
When an id occurs more than once, the record with the newest `admin.last_modified.date` is kept (on a tie,
the one read last). Record-level problems are quarantined, with the record's number in its file (1-based,
in file order) as `line`, and never stop the read; so is a damaged line of JSON Lines after a good one. A file
that is not JSON, or not one of the shapes above, raises InputError.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TextIO

import pyarrow as pa

from sciencecities.errors import InputError
from sciencecities.tables import ROR_PLACES

__all__ = ["V1_REASON", "RorRead", "read_ror", "ror_id"]

_ROR_ID = re.compile(r"(?:https?://(?:www\.)?ror\.org/)?(0[0-9a-hjkmnp-tv-z]{6}[0-9]{2})")
_CHUNK = 1 << 20
_MAX_RECORD = 64 << 20
"""Give up on a value that is still incomplete after this many characters (bounds memory on broken files)."""
_RAW_LIMIT = 10_000
_NOT_SPACE = re.compile(r"\S")
_RECORD_KEYS = frozenset({"id", "locations", "addresses", "names", "name", "admin", "status"})
_SHAPES = (
    "a ROR data dump .zip, a JSON array of ROR records (.json, .json.gz), JSON Lines (.jsonl, .jsonl.gz), "
    'one record, or a ROR API / Elasticsearch response ({"items": [...]} or {"hits": {"hits": [...]}})'
)
V1_REASON = "schema v1 record: it has addresses, not locations; read the dump's _schema_v2.json file"
"""Quarantine reason for schema-v1 records (the dumps of the v1-to-v2 transition hold both schemas)."""


@dataclass(frozen=True)
class RorRead:
    """What read_ror() gave: the `ror_places` table, the quarantined records, and one entry per file read."""

    table: pa.Table
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)


def ror_id(value: object) -> str | None:
    """The bare ROR id (`042nb2s44`) of an id or its URL (`https://ror.org/042nb2s44`); None if not one."""
    if not isinstance(value, str):
        return None
    match = _ROR_ID.fullmatch(value.strip().lower())
    return match.group(1) if match else None


def read_ror(paths: list[Path]) -> RorRead:
    """Read ROR records from dump zips and JSON files into one `ror_places` table (newest record per id)."""
    newest: dict[str, dict[str, Any]] = {}
    quarantined: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    for given in paths:
        path = _checked(given)
        taken = 0
        before = len(quarantined)
        with _opened(path) as (handle, member):
            name = f"{path} (zip member {member})" if member else str(path)
            for number, item in enumerate(_items(_Stream(handle, name)), start=1):
                row, reason = (None, item.problem) if item.problem else _row(item.value, str(path))
                if row is None:
                    raw = item.text if item.text is not None else json.dumps(item.value, ensure_ascii=False)
                    quarantined.append(
                        {
                            "entity": "ror",
                            "source_file": str(path),
                            "line": number,
                            "reason": reason,
                            "raw": raw[:_RAW_LIMIT],
                        }
                    )
                    continue
                taken += 1
                kept = newest.get(row["ror"])
                if kept is None or (row["last_modified"] or "") >= (kept["last_modified"] or ""):
                    newest[row["ror"]] = row
        files.append(
            {
                "path": str(path),
                "member": member,
                "size": path.stat().st_size,
                "sha256": _sha256(path),
                "records": taken,
                "quarantined": len(quarantined) - before,
            }
        )
    rows = [newest[key] for key in sorted(newest)]
    return RorRead(pa.Table.from_pylist(rows, schema=ROR_PLACES.schema), quarantined, files)


def _checked(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"{path} does not exist", f"check the path; give {_SHAPES}")
    if not path.is_file():
        raise InputError(f"{path} is not a file", f"give the files themselves: {_SHAPES}")
    return path.resolve()


def _row(record: object, record_file: str) -> tuple[dict[str, Any] | None, str]:
    """The `ror_places` row of one record, or None and the reason it is quarantined."""
    if not isinstance(record, dict):
        return None, f"not a JSON object: {_kind(record)}"
    if "id" not in record:
        return None, "no id: the record has no id field"
    ror = ror_id(record["id"])
    if ror is None:
        return None, f"not a ROR id: {record['id']!r}"
    if "locations" not in record and "addresses" in record:
        return None, V1_REASON
    locations = record.get("locations")
    if not isinstance(locations, list) or not locations or not isinstance(locations[0], dict):
        return None, "no locations: the record has no location"
    location = locations[0]
    details = location.get("geonames_details")
    details = details if isinstance(details, dict) else {}
    geonames_id = location.get("geonames_id")
    if geonames_id is not None:
        if isinstance(geonames_id, str) and geonames_id.strip().isdigit():
            geonames_id = int(geonames_id)
        if isinstance(geonames_id, bool) or not isinstance(geonames_id, int) or geonames_id <= 0:
            return None, f"not a GeoNames id: {location['geonames_id']!r} in the first location"
    latitude, longitude = details.get("lat"), details.get("lng")
    if latitude is None or longitude is None:
        latitude = longitude = None
    elif not (_degrees(latitude, 90) and _degrees(longitude, 180)):
        return None, f"bad coordinates: lat {latitude!r}, lng {longitude!r} in the first location"
    if geonames_id is None and latitude is None:
        return None, "no place: the first location has neither a geonames_id nor coordinates"
    names = record.get("names")
    display = next(
        (
            n.get("value")
            for n in (names if isinstance(names, list) else [])
            if isinstance(n, dict) and "ror_display" in (n.get("types") or [])
        ),
        None,
    )
    admin = record.get("admin")
    modified = admin.get("last_modified") if isinstance(admin, dict) else None
    return {
        "ror": ror,
        "name": _text(display),
        "status": _text(record.get("status")),
        "country_code": _text(details.get("country_code")),
        "geonames_id": geonames_id,
        "place_name": _text(details.get("name")),
        "admin1_code": _text(details.get("country_subdivision_code")),
        "latitude": None if latitude is None else float(latitude),
        "longitude": None if longitude is None else float(longitude),
        "last_modified": _text(modified.get("date")) if isinstance(modified, dict) else None,
        "record_file": record_file,
    }, ""


def _degrees(value: object, limit: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and -limit <= value <= limit


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class _Item(NamedTuple):
    """One record as read: the decoded value and its source text (None when it must be re-serialised), or the
    text of a damaged line and what is wrong with it."""

    value: object
    text: str | None
    problem: str | None = None


class _Malformed(Exception):
    """A JSON syntax error at a place in the file."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} at line {line}, column {column}")
        self.message = message


def _items(stream: _Stream) -> Iterator[_Item]:
    """Every record of a file, in order, whatever its shape; InputError if the file is not JSON or not ROR."""
    first = True
    while char := stream.peek():
        if char == "[":
            try:
                yield from stream.array()
            except _Malformed as exc:
                raise _not_json(stream.name, exc) from None
            first = False
            continue
        try:
            value, text = stream.value()
        except _Malformed as exc:
            if first:
                raise _not_json(stream.name, exc) from None
            # A damaged line after good ones (JSON Lines): quarantined, and reading goes on at the next line.
            yield _Item(None, stream.skip_line(), f"malformed JSON: {exc.message}")
            continue
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            yield from (_Item(item, None) for item in value["items"])
        elif isinstance(value, dict) and isinstance(value.get("hits"), dict):
            hits = value["hits"].get("hits")
            yield from (_hit(hit) for hit in (hits if isinstance(hits, list) else []))
        elif first and not (isinstance(value, dict) and _RECORD_KEYS & value.keys()):
            raise InputError(f"{stream.name} is not a ROR file: it holds {_kind(value)}", f"give {_SHAPES}")
        else:
            yield _Item(value, text)
        first = False


def _kind(value: object) -> str:
    """What a JSON value is, for messages ('a JSON number', 'an object with keys a, b')."""
    if isinstance(value, dict):
        return f"an object with keys {', '.join(sorted(value)[:8]) or '(none)'}"
    names = {str: "string", bool: "boolean", int: "number", float: "number", list: "array"}
    return f"a JSON {names.get(type(value), 'null')}"


def _hit(hit: object) -> _Item:
    if isinstance(hit, dict) and "_source" in hit:
        return _Item(hit["_source"], None)
    return _Item(hit, None)


def _not_json(name: str, exc: _Malformed) -> InputError:
    return InputError(f"{name} is not valid JSON: {exc}", f"give {_SHAPES}")


class _Stream:
    """JSON values read from a text stream a chunk at a time: top-level values (JSON Lines) or array items."""

    def __init__(self, handle: TextIO, name: str) -> None:
        self.name = name
        self._handle = handle
        self._buffer = ""
        self._pos = 0
        self._lines = 0  # newlines before the buffer
        self._eof = False
        self._decoder = json.JSONDecoder()

    def peek(self) -> str:
        """The next non-blank character, without consuming it ('' at the end of the file)."""
        while True:
            found = _NOT_SPACE.search(self._buffer, self._pos)
            if found:
                self._pos = found.start()
                return self._buffer[self._pos]
            self._pos = len(self._buffer)
            if not self._more():
                return ""

    def value(self) -> tuple[object, str]:
        """Decode the value at the cursor; returns it and its text. Raises _Malformed on a syntax error."""
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buffer, self._pos)
            except json.JSONDecodeError as exc:
                if self._incomplete(exc.pos) and self._more():
                    continue
                raise _Malformed(exc.msg, *self._where(exc.pos)) from None
            if end == len(self._buffer) and self._more():  # a number may go on in the next chunk
                continue
            text = self._buffer[self._pos : end]
            self._pos = end
            return value, text

    def array(self) -> Iterator[_Item]:
        """The elements of the array whose '[' is at the cursor."""
        self._pos += 1
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            if not self.peek():
                raise _Malformed("the array is not closed (file truncated?)", *self._where(self._pos))
            yield _Item(*self.value())
            char = self.peek()
            self._pos += bool(char)
            if char == "]":
                return
            if char != ",":
                raise _Malformed("expected ',' or ']' after an array element", *self._where(self._pos - 1))

    def skip_line(self) -> str:
        """Consume the rest of the current line and return it."""
        while (end := self._buffer.find("\n", self._pos)) < 0 and self._more():
            pass
        end = len(self._buffer) if end < 0 else end
        text = self._buffer[self._pos : end]
        self._pos = end
        return text

    def _incomplete(self, error_at: int) -> bool:
        """Whether a decoding error may be the end of the buffer, not of the value (no newline after it)."""
        return "\n" not in self._buffer[error_at:] and len(self._buffer) - self._pos < _MAX_RECORD

    def _more(self) -> bool:
        """Append the next chunk, dropping what was consumed; False at the end of the file."""
        if self._eof:
            return False
        chunk = self._handle.read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._lines += self._buffer.count("\n", 0, self._pos)
        self._buffer = self._buffer[self._pos :] + chunk
        self._pos = 0
        return True

    def _where(self, pos: int) -> tuple[int, int]:
        """Line and column (1-based) of a buffer position in the file."""
        line = self._lines + self._buffer.count("\n", 0, pos) + 1
        return line, pos - self._buffer.rfind("\n", 0, pos)


@contextmanager
def _opened(path: Path) -> Iterator[tuple[TextIO, str | None]]:
    """The file's text (a zip's ROR JSON member, gunzipped when gzipped) and the zip member's name, if any."""
    try:
        if path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                member = _member(archive, path)
                with archive.open(member) as raw:
                    yield io.TextIOWrapper(raw, encoding="utf-8-sig", errors="replace"), member
            return
        with open(path, "rb") as raw:
            gzipped = raw.read(2) == b"\x1f\x8b"
            raw.seek(0)
            binary = gzip.GzipFile(fileobj=raw) if gzipped else raw
            yield io.TextIOWrapper(binary, encoding="utf-8-sig", errors="replace"), None
    except (OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise InputError(
            f"{path} could not be read: {exc}", "the file is damaged; download it again"
        ) from exc


def _member(archive: zipfile.ZipFile, path: Path) -> str:
    """The zip member to read: the one named `*_schema_v2.json`, else the only `*.json`."""
    names = [
        i.filename for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
    ]
    v2 = [n for n in names if n.lower().endswith("_schema_v2.json")]
    candidates = v2 or [n for n in names if n.lower().endswith(".json")]
    if len(candidates) != 1:
        raise InputError(
            f"{path} holds {len(candidates)} candidate JSON files ({', '.join(candidates) or 'none'})",
            "give the ROR data dump zip from Zenodo, which holds one *_schema_v2.json or one *-ror-data.json",
        )
    return candidates[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()
