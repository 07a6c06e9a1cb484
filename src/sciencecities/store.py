"""The Parquet store: versioned table directories, a manifest, atomic swaps and a writer lock.

Layout: ``ROOT/CURRENT`` names the live version; ``ROOT/versions/NNNNNNNN/`` holds the canonical tables
as Parquet, ``manifest.json`` and ``derived/<edition>/`` tables. A write builds a new version beside the
live one (unchanged files are hard-linked) and becomes visible only when ``CURRENT`` is replaced, so an
interrupted write leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sciencecities import __version__
from sciencecities.errors import StoreError
from sciencecities.tables import CANONICAL, Table

FORMAT = 1
_CURRENT = "CURRENT"
_VERSIONS = "versions"


def now_iso() -> str:
    """The current UTC time as an ISO 8601 string (seconds)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class Store:
    """A store directory: read the live version, or change it inside `transaction()`."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).expanduser().absolute()

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    # -- reading -------------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """True when the directory holds a live version."""
        return (self.root / _CURRENT).is_file()

    @property
    def current(self) -> Path:
        """The directory of the live version; a StoreError when there is none yet."""
        marker = self.root / _CURRENT
        if not marker.is_file():
            raise StoreError(
                f"no store at {self.root}",
                "ingest data first (`sciencecities ingest openalex PATH`), or point --store / "
                "SCIENCECITIES_STORE at an existing store; `sciencecities demo` builds one from the sample",
            )
        path = self.root / _VERSIONS / marker.read_text().strip()
        if not path.is_dir():
            raise StoreError(
                f"store {self.root} is damaged: {path.name} is missing", "re-run the last ingest"
            )
        return path

    def manifest(self) -> dict[str, Any]:
        """The live manifest (what was ingested and built, with counts, checksums and times)."""
        return json.loads((self.current / "manifest.json").read_text())  # type: ignore[no-any-return]

    def path(self, name: str, edition: str | None = None) -> Path:
        """The Parquet file of a canonical table, or of a derived table of `edition`."""
        base = self.current if edition is None else self.current / "derived" / edition
        return base / f"{name}.parquet"

    def read(self, name: str, edition: str | None = None) -> pa.Table:
        """Read one table into Arrow."""
        path = self.path(name, edition)
        if not path.exists():
            raise StoreError(f"table {name!r} is not in the store {self.root}", "run `sciencecities build`")
        return pq.read_table(path)

    # -- writing -------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Stage a new version (hard links to the live files), and make it live only if the block succeeds."""
        self.root.mkdir(parents=True, exist_ok=True)
        with _locked(self.root / ".lock"):
            _remove_stale_staging(self.root)
            staging = self.root / f".staging-{uuid.uuid4().hex[:12]}"
            if self.exists:
                previous = self.current
                shutil.copytree(previous, staging, copy_function=_link_or_copy)
                manifest = json.loads((staging / "manifest.json").read_text())
            else:
                previous = None
                staging.mkdir()
                manifest = _new_manifest()
                for table in CANONICAL.values():
                    pq.write_table(table.schema.empty_table(), staging / f"{table.name}.parquet")
            txn = Transaction(staging, manifest)
            try:
                yield txn
                number = int(manifest.get("version", 0)) + 1
                manifest.update(version=number, updated=now_iso(), sciencecities_version=__version__)
                manifest["tables"] = _table_rows(staging)
                (staging / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))
                final = self.root / _VERSIONS / f"{number:08d}"
                final.parent.mkdir(exist_ok=True)
                os.rename(staging, final)
                tmp = self.root / f".{_CURRENT}.{uuid.uuid4().hex[:8]}"
                tmp.write_text(final.name)
                os.replace(tmp, self.root / _CURRENT)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
            if previous is not None:
                _prune(self.root, keep={final.name, previous.name})


class Transaction:
    """A staged version being written: its directory and its manifest (a dict, saved on commit)."""

    def __init__(self, directory: Path, manifest: dict[str, Any]) -> None:
        self.dir = directory
        self.manifest = manifest

    def path(self, name: str, edition: str | None = None) -> Path:
        """Where a table is written in the staged version."""
        base = self.dir if edition is None else self.dir / "derived" / edition
        base.mkdir(parents=True, exist_ok=True)
        return base / f"{name}.parquet"

    def replace(self, table: Table, data: pa.Table, edition: str | None = None) -> None:
        """Write `data` as `table`, cast to the canonical schema (never in place: hard links stay intact)."""
        path = self.path(table.name, edition)
        tmp = path.with_suffix(".tmp")
        pq.write_table(conform(data, table), tmp, compression="zstd")
        os.replace(tmp, path)

    def stream(self, table: Table, batches: pa.RecordBatchReader, edition: str | None = None) -> None:
        """Write `table` from a stream of record batches (memory stays that of one batch), like `replace`."""
        with self.writers(table, edition=edition) as out:
            out[table.name].write(batches)

    @contextmanager
    def writers(self, *tables: Table, edition: str | None = None) -> Iterator[dict[str, TableWriter]]:
        """Writers of several tables at once, each filled by streams of batches; the files replace the staged
        tables together when the block ends, and not at all if it fails."""
        open_writers = {table.name: TableWriter(table, self.path(table.name, edition)) for table in tables}
        try:
            yield open_writers
        except BaseException:
            for writer in open_writers.values():
                writer.abandon()
            raise
        for writer in open_writers.values():
            writer.finish()


ROW_GROUP_ROWS = 122_880
"""Rows per Parquet row group written by a TableWriter (DuckDB's own row-group size): small batches are
gathered into full groups, so a small table is one group and scans of it do not depend on how it was written."""


class TableWriter:
    """One table's Parquet file being written batch by batch, beside the file it will replace."""

    def __init__(self, table: Table, path: Path) -> None:
        self.table = table
        self.path = path
        self.tmp = path.with_suffix(".tmp")
        self._writer = pq.ParquetWriter(self.tmp, table.schema, compression="zstd")
        self._pending: list[pa.Table] = []
        self._rows = 0

    def write(self, batches: pa.RecordBatchReader) -> None:
        """Append the batches, cast to the table's schema, in row groups of ROW_GROUP_ROWS."""
        for batch in batches:
            self._pending.append(conform(pa.Table.from_batches([batch], schema=batches.schema), self.table))
            self._rows += batch.num_rows
            while self._rows >= ROW_GROUP_ROWS:
                gathered = pa.concat_tables(self._pending)
                self._writer.write_table(gathered.slice(0, ROW_GROUP_ROWS), row_group_size=ROW_GROUP_ROWS)
                self._pending = [gathered.slice(ROW_GROUP_ROWS)]
                self._rows -= ROW_GROUP_ROWS

    def finish(self) -> None:
        """Write what is left as the last row group, close the file and put it in the table's place."""
        if self._rows:
            self._writer.write_table(pa.concat_tables(self._pending), row_group_size=ROW_GROUP_ROWS)
        self._writer.close()
        os.replace(self.tmp, self.path)

    def abandon(self) -> None:
        """Close and remove the unfinished file."""
        self._writer.close()
        self.tmp.unlink(missing_ok=True)


def conform(data: pa.Table, table: Table) -> pa.Table:
    """Select and cast `data` to the table's schema, failing loudly on a missing column."""
    missing = [f.name for f in table.schema if f.name not in data.column_names]
    if missing:
        raise StoreError(f"table {table.name} lacks columns {missing}", "this is a bug: please report it")
    return data.select(table.schema.names).cast(table.schema)


def _new_manifest() -> dict[str, Any]:
    return {"format": FORMAT, "created": now_iso(), "version": 0, "ingests": [], "builds": {}}


def _table_rows(directory: Path) -> dict[str, int]:
    rows = {}
    for path in sorted(directory.rglob("*.parquet")):
        rows[str(path.relative_to(directory).with_suffix(""))] = pq.ParquetFile(path).metadata.num_rows
    return rows


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _remove_stale_staging(root: Path) -> None:
    for stale in root.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _prune(root: Path, keep: set[str]) -> None:
    for version in (root / _VERSIONS).iterdir():
        if version.name not in keep:
            shutil.rmtree(version, ignore_errors=True)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreError(
                f"another sciencecities process is writing to {path.parent}", "wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
