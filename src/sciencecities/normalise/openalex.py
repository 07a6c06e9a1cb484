"""OpenAlex works, institutions and sources (JSON Lines) -> canonical batch tables, with quarantine.

Each file is read by DuckDB's JSON reader with an explicit schema that accepts both schema variants in
the wild: `primary_location.source` with `authorships[].affiliations[]` (2024 on) and the older
`host_venue` with `authorships[].institutions[]` only. A file that DuckDB cannot read whole, or that holds
records without a valid id, is read again line by line: malformed lines and records that break the
schema are quarantined with file, line and reason, and everything else is taken.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from sciencecities.acquire.files import InputFile, is_gzip, strip_id
from sciencecities.errors import InputError
from sciencecities.normalise.lines import read_lines
from sciencecities.normalise.upsert import write_batch

_SOURCE = "STRUCT(id VARCHAR, display_name VARCHAR, issn_l VARCHAR, issn VARCHAR[], type VARCHAR)"
_NAMED = "STRUCT(id VARCHAR, display_name VARCHAR)"
_INSTITUTION = "STRUCT(id VARCHAR, display_name VARCHAR, ror VARCHAR, country_code VARCHAR, type VARCHAR, lineage VARCHAR[])"

SCHEMAS: dict[str, dict[str, str]] = {
    "works": {
        "id": "VARCHAR",
        "doi": "VARCHAR",
        "title": "VARCHAR",
        "display_name": "VARCHAR",
        "publication_year": "BIGINT",
        "publication_date": "VARCHAR",
        "type": "VARCHAR",
        "is_retracted": "BOOLEAN",
        "is_paratext": "BOOLEAN",
        "is_authors_truncated": "BOOLEAN",
        "cited_by_count": "BIGINT",
        "updated_date": "VARCHAR",
        "primary_location": f"STRUCT(source {_SOURCE})",
        "host_venue": _SOURCE,
        "primary_topic": f"STRUCT(id VARCHAR, subfield {_NAMED}, field {_NAMED}, domain {_NAMED})",
        "authorships": (
            f"STRUCT(author {_NAMED}, institutions {_INSTITUTION}[], is_corresponding BOOLEAN, "
            "raw_author_name VARCHAR, raw_affiliation_strings VARCHAR[], raw_affiliation_string VARCHAR, "
            "affiliations STRUCT(raw_affiliation_string VARCHAR, institution_ids VARCHAR[])[])[]"
        ),
    },
    "institutions": {
        "id": "VARCHAR",
        "display_name": "VARCHAR",
        "ror": "VARCHAR",
        "external_id": "VARCHAR",
        "country_code": "VARCHAR",
        "type": "VARCHAR",
        "lineage": "VARCHAR[]",
        "geo": (
            "STRUCT(city VARCHAR, geonames_city_id VARCHAR, region VARCHAR, country_code VARCHAR, "
            "latitude DOUBLE, longitude DOUBLE)"
        ),
        "updated_date": "VARCHAR",
    },
    "sources": {
        "id": "VARCHAR",
        "display_name": "VARCHAR",
        "issn_l": "VARCHAR",
        "issn": "VARCHAR[]",
        "type": "VARCHAR",
        "updated_date": "VARCHAR",
    },
}
"""The explicit DuckDB schema of each entity's records: only the fields the pipeline uses."""

ID_PATTERN = {
    "works": r"^(https://openalex\.org/)?W\d+$",
    "institutions": r"^(https://openalex\.org/)?I\d+$",
    "sources": r"^(https://openalex\.org/)?S\d+$",
}
"""A valid id of each entity (with or without the URL prefix); a record without one is quarantined."""
MAX_RAW = 1 << 20
"""How much of a quarantined record's text is kept (the rest is cut, and the cut said so)."""
MAX_RECORD_BYTES = 32 << 20
"""The longest record line read (the largest real works, with thousands of authors, are a few MB); a longer
line is quarantined, by either engine. Bounded so that DuckDB's JSON reader fits in the ingest's memory limit."""
TOO_LONG = f"longer than {MAX_RECORD_BYTES} bytes (MAX_RECORD_BYTES): not read"
_READER_OBJECT_SIZE = MAX_RECORD_BYTES // 2
"""DuckDB's read_json takes objects of up to twice its `maximum_object_size` (measured with duckdb 2.0), so
half the limit makes a file with a longer line fail the whole-file read and go line by line."""
_CHUNK_LINES = 20_000


@dataclass(frozen=True)
class ReadJob:
    """One file to read into the batch folder: what `read_into_batch` needs, in a form a worker can receive."""

    file: InputFile
    index: int
    batch: Path
    buckets: int
    workdir: Path
    memory_limit: str
    threads: int | None = None
    lines_from: Path | None = None


@dataclass
class Quarantined:
    """A record that could not be taken."""

    entity: str
    source_file: str
    line: int
    reason: str
    raw: str


@dataclass
class FileResult:
    """What reading one file gave: records taken, blank lines, quarantined records, and the path used."""

    file: InputFile
    taken: int = 0
    quarantined: list[Quarantined] = field(default_factory=list)
    careful: bool = False


def read_into_batch(job: ReadJob) -> FileResult:
    """Read one file with a DuckDB of its own (so that files can be read in parallel processes) and append its
    canonical rows to the batch folder; memory stays within `job.memory_limit`, spilling to `job.workdir`."""
    job.workdir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    try:
        con.execute("SET temp_directory = ?", [str(job.workdir / "spill")])
        con.execute("SET memory_limit = ?", [job.memory_limit])
        if job.threads:
            con.execute(f"SET threads = {int(job.threads)}")
        result = RawReader(con, job.workdir).read(job.file, job.index, lines_from=job.lines_from)
        try:
            canonicalise(con)
            write_batch(con, job.batch, job.buckets, f"f{job.index}")
        except duckdb.OutOfMemoryException as exc:
            raise InputError(
                f"{job.file.path}: the ingest ran out of memory with its records ({_first_line(exc)})",
                "raise `ingest openalex --memory-limit`",
            ) from exc
    finally:
        con.close()
    return result


class RawReader:
    """Reads one file into the raw table `raw_<entity>` (columns `_file`, `_ord` and the schema) on a connection
    of its own: a file read whole becomes a view over what DuckDB's JSON reader loaded (no second copy)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, workdir: Path) -> None:
        self.con = con
        self.workdir = workdir
        for entity, columns in SCHEMAS.items():
            cols = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
            con.execute(f"CREATE OR REPLACE TEMP TABLE raw_{entity} (_file VARCHAR, _ord BIGINT, {cols})")

    def read(
        self,
        file: InputFile,
        index: int,
        on_lines: Callable[[int], None] | None = None,
        *,
        lines_from: Path | None = None,
    ) -> FileResult:
        """Read one file into its raw table; `index` orders files so that later records win ties.

        `lines_from`: a plain file holding the lines of `file` that an edition's prefilter kept; it is read in
        the file's place, and if it cannot be read whole the original file is read line by line instead.
        """
        result = FileResult(file)
        fast = self._read_fast(file, index, lines_from)
        if fast is not None:
            result.taken = fast
        else:
            result.careful = True
            self._read_careful(file, index, result, on_lines)
        return result

    def _columns_sql(self, entity: str) -> str:
        return "{" + ", ".join(f"'{k}': '{v}'" for k, v in SCHEMAS[entity].items()) + "}"

    def _read_fast(self, file: InputFile, index: int, lines_from: Path | None = None) -> int | None:
        entity = file.entity
        path = lines_from or file.path
        try:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE _chunk AS SELECT * FROM read_json(?, format='newline_delimited', "
                f"columns={self._columns_sql(entity)}, compression=?, maximum_object_size={_READER_OBJECT_SIZE})",
                [str(path), "gzip" if is_gzip(path) else "none"],
            )
        except duckdb.OutOfMemoryException as exc:
            raise InputError(
                f"{file.path}: the ingest ran out of memory reading it ({_first_line(exc)})",
                "raise `ingest openalex --memory-limit` (at least 256MB; more for files of very long records)",
            ) from exc
        except duckdb.Error:
            return None
        bad = self.con.execute(
            "SELECT count(*) FROM _chunk WHERE id IS NULL OR NOT regexp_matches(id, ?)", [ID_PATTERN[entity]]
        ).fetchone()
        if bad and bad[0]:
            return None
        names = ", ".join(f'"{c}"' for c in SCHEMAS[entity])
        self.con.execute(f"DROP TABLE raw_{entity}")
        self.con.execute(
            f"CREATE TEMP VIEW raw_{entity} AS SELECT {_quoted(str(file.path))} AS _file, "
            f"{int(index)} * 4294967296 + rowid + 1 AS _ord, {names} FROM _chunk"
        )
        count = self.con.execute("SELECT count(*) FROM _chunk").fetchone()
        return int(count[0]) if count else 0

    def _append(self, entity: str, source: str, index: int, line_expr: str) -> int:
        names = ", ".join(f'"{c}"' for c in SCHEMAS[entity])
        self.con.execute(
            f"INSERT INTO raw_{entity} SELECT ? AS _file, ? * 4294967296 + {line_expr} AS _ord, {names} FROM _chunk",
            [source, index],
        )
        count = self.con.execute("SELECT count(*) FROM _chunk").fetchone()
        return int(count[0]) if count else 0

    def _read_careful(
        self, file: InputFile, index: int, result: FileResult, on_lines: Callable[[int], None] | None
    ) -> None:
        entity = file.entity
        pattern = re.compile(ID_PATTERN[entity])
        batch: list[tuple[int, str]] = []
        for line in read_lines(file.path, is_gzip(file.path)):
            if line.damage is not None:
                self._quarantine(result, line.number, line.damage, line.text)
                continue
            text = line.text.strip()
            if not text:
                continue
            if (
                len(text) > MAX_RECORD_BYTES // 4
                and len(text.encode("utf-8", "surrogatepass")) > MAX_RECORD_BYTES
            ):
                self._quarantine(result, line.number, TOO_LONG, text)
                continue
            try:
                record = json.loads(text)
            except ValueError as exc:
                self._quarantine(result, line.number, f"malformed JSON: {exc}", text)
                continue
            if not isinstance(record, dict):
                self._quarantine(result, line.number, f"not a JSON object: a {type(record).__name__}", text)
                continue
            ident = record.get("id")
            if ident is None:
                self._quarantine(result, line.number, "no id: the record has no id field", text)
                continue
            if not isinstance(ident, str) or not pattern.match(ident):
                self._quarantine(result, line.number, f"not an OpenAlex {entity[:-1]} id: {ident!r}", text)
                continue
            batch.append((line.number, text))
            if len(batch) >= _CHUNK_LINES:
                result.taken += self._load_lines(file, index, batch, result)
                if on_lines:
                    on_lines(len(batch))
                batch = []
        if batch:
            result.taken += self._load_lines(file, index, batch, result)

    def _load_lines(
        self, file: InputFile, index: int, lines: list[tuple[int, str]], result: FileResult
    ) -> int:
        """Load lines through DuckDB with the schema, bisecting to isolate each line that breaks it."""
        wrapped = self.workdir / "careful.jsonl"
        wrapped.write_text("".join(f'{{"_line":{n},"r":{text}}}\n' for n, text in lines), encoding="utf-8")
        columns = (
            "{'_line': 'BIGINT', 'r': 'STRUCT("
            + ", ".join(f'"{k}" {v}' for k, v in SCHEMAS[file.entity].items())
            + ")'}"
        )
        try:
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE _wrapped AS SELECT * FROM read_json(?, format='newline_delimited', "
                f"columns={columns}, maximum_object_size={MAX_RECORD_BYTES})",
                [str(wrapped)],
            )
        except duckdb.Error as exc:
            if len(lines) == 1:
                number, text = lines[0]
                self._quarantine(
                    result, number, f"does not fit the {file.entity} schema: {_first_line(exc)}", text
                )
                return 0
            middle = len(lines) // 2
            return self._load_lines(file, index, lines[:middle], result) + self._load_lines(
                file, index, lines[middle:], result
            )
        self.con.execute("CREATE OR REPLACE TEMP TABLE _chunk AS SELECT _line, r.* FROM _wrapped")
        return self._append(file.entity, str(file.path), index, "_line")

    @staticmethod
    def _quarantine(result: FileResult, line: int, reason: str, raw: str) -> None:
        if len(raw) > MAX_RAW:
            raw = raw[:MAX_RAW] + f"... [{len(raw) - MAX_RAW} more characters cut]"
        result.quarantined.append(Quarantined(result.file.entity, str(result.file.path), line, reason, raw))


def _quoted(text: str) -> str:
    """`text` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _first_line(exc: Exception) -> str:
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return re.sub(r'\s*in file "[^"]*"(, in line \d+)?', "", message).removeprefix("Invalid Input Error: ")


_STRIP = "regexp_replace({0}, '^https://openalex\\.org/', '')"


def canonicalise(con: duckdb.DuckDBPyConnection) -> None:
    """Turn the raw tables into batch tables `b_works`, `b_authorships`, `b_affiliations`, `b_institutions`,
    `b_sources` (canonical columns plus `_ord`, `_prio` for the upsert)."""
    s = _STRIP.format
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE b_works AS
        SELECT {s("id")} AS work_id,
               lower(regexp_replace(doi, '^https?://(dx\\.)?doi\\.org/', '')) AS doi,
               coalesce(title, display_name) AS title,
               publication_year,
               try_cast(publication_date AS DATE) AS publication_date,
               type,
               coalesce({s("primary_location.source.id")},
                        regexp_replace({s("host_venue.id")}, '^V', 'S')) AS source_id,
               coalesce(is_retracted, false) AS is_retracted,
               coalesce(is_paratext, false) AS is_paratext,
               {s("primary_topic.id")} AS primary_topic_id,
               regexp_extract(primary_topic.subfield.id, '(\\d+)$') AS primary_topic_subfield,
               regexp_extract(primary_topic.field.id, '(\\d+)$') AS primary_topic_field,
               regexp_extract(primary_topic.domain.id, '(\\d+)$') AS primary_topic_domain,
               coalesce(len(authorships), 0) AS n_authors,
               coalesce(is_authors_truncated, false) AS is_authors_truncated,
               cited_by_count,
               try_cast(updated_date AS TIMESTAMP) AS updated_date,
               _file AS record_file,
               _ord % 4294967296 AS record_line,
               _ord
        FROM raw_works
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE b_authorships AS
        WITH a AS (
            SELECT {s("id")} AS work_id, _ord,
                   generate_subscripts(authorships, 1) - 1 AS author_position,
                   unnest(authorships) AS a
            FROM raw_works
        )
        SELECT work_id, _ord, author_position,
               {s("a.author.id")} AS author_id,
               coalesce(a.author.display_name, a.raw_author_name) AS author_name,
               a.is_corresponding,
               CASE WHEN len(a.raw_affiliation_strings) > 0 THEN a.raw_affiliation_strings
                    WHEN len(a.affiliations) > 0
                         THEN [f.raw_affiliation_string FOR f IN a.affiliations IF f.raw_affiliation_string IS NOT NULL]
                    WHEN a.raw_affiliation_string IS NOT NULL THEN [a.raw_affiliation_string]
                    ELSE []::VARCHAR[] END AS raw_affiliations,
               list_distinct(list_concat(
                   [{s("i.id")} FOR i IN coalesce(a.institutions, []) IF nullif(i.id, '') IS NOT NULL],
                   [{s("x")} FOR x IN flatten([coalesce(f.institution_ids, []::VARCHAR[])
                                               FOR f IN coalesce(a.affiliations, [])])
                    IF nullif(x, '') IS NOT NULL]
               )) AS institution_ids
        FROM a
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE b_affiliations AS
        SELECT work_id, _ord, author_position, unnest(institution_ids) AS institution_id FROM b_authorships
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE b_institutions AS
        SELECT {s("id")} AS institution_id, display_name AS name,
               regexp_replace(coalesce(ror, CASE WHEN external_id LIKE 'https://ror.org/%' THEN external_id END),
                              '^https://ror\\.org/', '') AS ror,
               coalesce(country_code, geo.country_code) AS country_code, type,
               [{s("x")} FOR x IN lineage] AS lineage,
               geo.geonames_city_id AS geonames_city_id, geo.city AS city_name,
               geo.latitude AS latitude, geo.longitude AS longitude,
               CASE WHEN geo.latitude IS NOT NULL THEN 'openalex' END AS geo_source,
               'entity' AS record_source, try_cast(updated_date AS TIMESTAMP) AS updated_date, 2 AS _prio, _ord
        FROM raw_institutions
        UNION ALL BY NAME
        SELECT {s("i.id")} AS institution_id, i.display_name AS name,
               regexp_replace(i.ror, '^https://ror\\.org/', '') AS ror, i.country_code, i.type,
               [{s("x")} FOR x IN i.lineage] AS lineage,
               'embedded' AS record_source, updated_date, 1 AS _prio, _ord
        FROM (
            SELECT unnest(flatten([coalesce(a.institutions, []) FOR a IN authorships])) AS i,
                   try_cast(updated_date AS TIMESTAMP) AS updated_date, _ord
            FROM raw_works
        )
        WHERE nullif(i.id, '') IS NOT NULL
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE b_sources AS
        SELECT {s("id")} AS source_id, display_name AS name, issn_l, issn AS issns, type,
               'entity' AS record_source, try_cast(updated_date AS TIMESTAMP) AS updated_date, 2 AS _prio, _ord
        FROM raw_sources
        UNION ALL BY NAME
        SELECT w.source_id, coalesce(r.primary_location.source.display_name, r.host_venue.display_name) AS name,
               coalesce(r.primary_location.source.issn_l, r.host_venue.issn_l) AS issn_l,
               coalesce(r.primary_location.source.issn, r.host_venue.issn) AS issns,
               coalesce(r.primary_location.source.type, r.host_venue.type) AS type,
               'embedded' AS record_source, w.updated_date, 1 AS _prio, w._ord
        FROM raw_works AS r JOIN b_works AS w USING (_ord)
        WHERE w.source_id IS NOT NULL
    """)


__all__ = [
    "SCHEMAS",
    "FileResult",
    "Quarantined",
    "RawReader",
    "ReadJob",
    "canonicalise",
    "read_into_batch",
    "strip_id",
]
