"""Line-by-line reading of (possibly damaged) JSON Lines files, for the careful path of ingest.

Gzip files are decompressed member by member: a corrupt member is reported and reading resumes at the
next member, so one bad block does not lose the rest of the file.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

_MAGIC = b"\x1f\x8b\x08"
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Line:
    """A line of the file (1-based number, text) or, when `damage` is set, a stretch that could not be read."""

    number: int
    text: str
    damage: str | None = None


def read_lines(path: Path, gzipped: bool) -> Iterator[Line]:
    """Yield every line of the file, and a `damage` entry wherever bytes could not be decoded."""
    number = 0
    for chunk in _split_lines(_gzip_blocks(path) if gzipped else _plain_blocks(path)):
        if isinstance(chunk, _Damage):
            yield Line(number + 1, chunk.partial, chunk.reason)
            continue
        number += 1
        try:
            yield Line(number, chunk.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield Line(number, chunk.decode("utf-8", errors="replace"), f"not valid UTF-8: {exc.reason}")


@dataclass(frozen=True)
class _Damage:
    reason: str
    partial: str = ""


def _plain_blocks(path: Path) -> Iterator[bytes | _Damage]:
    with open(path, "rb") as handle:
        yield from iter(lambda: handle.read(_BLOCK), b"")


def _gzip_blocks(path: Path) -> Iterator[bytes | _Damage]:
    with open(path, "rb") as handle:
        buffer = b""
        eof = False
        decoder = zlib.decompressobj(wbits=31)
        in_member = False
        while True:
            if not eof and len(buffer) < _BLOCK:
                more = handle.read(_BLOCK)
                eof = not more
                buffer += more
            if not buffer:
                if in_member:
                    yield _Damage("gzip data ends in the middle of a member (file truncated)")
                return
            try:
                out = decoder.decompress(buffer)
                in_member = True
            except zlib.error as exc:
                yield _Damage(f"corrupt gzip data ({exc}); skipped to the next gzip member")
                resume = buffer.find(_MAGIC, 1)
                while resume < 0 and not eof:
                    more = handle.read(_BLOCK)
                    eof = not more
                    buffer = buffer[-(len(_MAGIC) - 1) :] + more
                    resume = buffer.find(_MAGIC)
                if resume < 0:
                    return
                buffer = buffer[resume:]
                decoder = zlib.decompressobj(wbits=31)
                in_member = False
                continue
            if out:
                yield out
            if decoder.eof:
                buffer = decoder.unused_data
                decoder = zlib.decompressobj(wbits=31)
                in_member = False
            else:
                buffer = b""
                if eof:
                    tail = decoder.flush()
                    if tail:
                        yield tail
                    yield _Damage("gzip data ends in the middle of a member (file truncated)")
                    return


def _split_lines(blocks: Iterator[bytes | _Damage]) -> Iterator[bytes | _Damage]:
    pending = b""
    for block in blocks:
        if isinstance(block, _Damage):
            yield _Damage(block.reason, pending.decode("utf-8", errors="replace"))
            pending = b""
            continue
        pending += block
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending
