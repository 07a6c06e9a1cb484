"""OpenAlex works, institutions and sources (JSON Lines, local, s3a:// or hdfs://) -> batch tables, on Spark.

The Spark twin of the DuckDB reader in normalise/openalex.py, for snapshots larger than one machine reads in
good time: the same explicit schema (`SCHEMAS`, turned into a Spark type), the same canonical columns
(`canonicalise`), the same quarantine rules, written to the batch folder described in normalise/batch.py.
Files are read as text so that every record keeps its file and exact line number: within a split Spark's
row ids are contiguous, so a line is its id's offset in the split plus the lines of the file's earlier splits.
"""

from __future__ import annotations

import re
import shutil
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from sciencecities.acquire.files import ENTITIES, classify, record_kind
from sciencecities.errors import InputError
from sciencecities.normalise import batch as batch_tables
from sciencecities.normalise.openalex import ID_PATTERN, MAX_RAW, MAX_RECORD_BYTES, SCHEMAS, TOO_LONG

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

_LINES = "_spark_lines"
"""The batch's scratch folder: each line read, with its split, row id, parse and verdict (removed after)."""

_DATE_LIKE = r"^\s*-?\d+-\d{1,2}-\d{1,2}"
"""What DuckDB's cast to DATE or TIMESTAMP needs at least (Spark's also takes `2020` and `2020-01`)."""

_OPENALEX = r"^https://openalex\.org/"
_WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
"""What Python's str.strip() strips (the DuckDB reader strips lines so), for Spark's trim."""

MALFORMED = "malformed JSON: Spark's JSON parser cannot read it"
"""The reason given to a line that is not JSON (the DuckDB reader adds Python's parser's message instead)."""

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(//[^/]*)?")


@dataclass(frozen=True)
class SparkInput:
    """One file for the Spark reader: its URI, the entity it holds ('works', ..., or 'merged_ids:works' as
    listed), its order among the inputs (`_ord` = index * 2^32 + line) and its size in bytes."""

    uri: str
    entity: str
    index: int
    size: int = 0


@dataclass(frozen=True)
class SkippedUri:
    """A file that was found but is not read, and why."""

    uri: str
    reason: str


@dataclass(frozen=True)
class SparkFileRead:
    """What reading one file gave: its lines, blank lines skipped, records taken and records quarantined."""

    input: SparkInput
    lines: int
    blank: int
    taken: int
    quarantined: int


@dataclass(frozen=True)
class SparkRead:
    """What `read_openalex_spark` wrote to the batch, per input file, and how long it took."""

    files: list[SparkFileRead]
    seconds: float

    @property
    def taken(self) -> int:
        """Records taken from all files."""
        return sum(f.taken for f in self.files)

    @property
    def quarantined(self) -> int:
        """Records quarantined from all files (their rows are in <batch>/quarantine)."""
        return sum(f.quarantined for f in self.files)


def list_inputs(session: SparkSession, uris: list[str]) -> tuple[list[SparkInput], list[SkippedUri]]:
    """Expand files and folders into the files to read, in a stable order, with entity and size, as `discover`
    does: entities are told by the snapshot layout (`data/works/...`), else by the first records. Give local
    paths or URIs that the session's Hadoop configuration can open (file://, s3a://, hdfs://), in Hadoop's
    form: not percent-encoded."""
    jvm, conf = _hadoop(session)
    found: list[SparkInput] = []
    skipped: list[SkippedUri] = []
    seen: set[str] = set()
    for given in uris:
        path = jvm.org.apache.hadoop.fs.Path(_qualify(given))
        fs = path.getFileSystem(conf)
        if not fs.exists(path):
            raise InputError(
                f"{given} does not exist", "check the URI; give .jsonl/.jsonl.gz files or folders"
            )
        status = fs.getFileStatus(path)
        candidates: list[tuple[str, int]] = []
        if status.isDirectory():
            listing = fs.listFiles(path, True)
            while listing.hasNext():
                entry = listing.next()
                candidates.append((entry.getPath().toString(), int(entry.getLen())))
            candidates.sort()
        else:
            candidates.append((fs.makeQualified(path).toString(), int(status.getLen())))
        for uri, size in candidates:
            if uri in seen:
                continue
            seen.add(uri)
            entity, reason = _classify(session, uri)
            if entity is None:
                if not status.isDirectory() or reason != "not a data file":
                    skipped.append(SkippedUri(uri, reason))
                continue
            found.append(SparkInput(uri, entity, len(found) + 1, size))
    return found, skipped


def read_openalex_spark(
    session: SparkSession, inputs: list[SparkInput], batch: Path, buckets: int
) -> SparkRead:
    """Read OpenAlex files with Spark into the batch tables at `batch` (a local folder; adds files to it),
    with the schemas of batch.TABLES, the work tables in `buckets` buckets, and quarantined lines in
    <batch>/quarantine (columns entity, source_file, line, reason, raw: QUARANTINE's but ingest_id). Each
    file's lines add up: taken + quarantined + blank."""
    from pyspark.sql import functions as F

    started = time.perf_counter()
    if buckets < 1:
        raise InputError(f"{buckets} buckets: the batch needs at least one")
    by_entity: dict[str, list[SparkInput]] = defaultdict(list)
    keys: dict[tuple[str, str, str], SparkInput] = {}
    for item in inputs:
        if item.entity not in ENTITIES:
            raise InputError(f"{item.uri}: the Spark reader reads {', '.join(ENTITIES)}, not {item.entity!r}")
        key = _key(session, _qualify(item.uri))
        if key in keys:
            raise InputError(f"{item.uri} is given twice", "give each file once")
        keys[key] = item
        by_entity[item.entity].append(item)
    root = batch.resolve()
    scratch = root / _LINES
    counts: dict[SparkInput, dict[str, int]] = {item: defaultdict(int) for item in inputs}
    try:
        taken: dict[str, DataFrame] = {}
        for entity, items in by_entity.items():
            _read_lines(session, entity, items, scratch / entity)
            lines = session.read.parquet((scratch / entity).as_uri())
            splits = _splits(session, lines, keys, counts)
            located = lines.join(F.broadcast(splits), ["_file", "_block"]).withColumn(
                "_line", F.col("_id") - F.col("_first") + 1 + F.col("_before")
            )
            located = located.withColumn("_ord", F.col("_base") + F.col("_line"))
            quarantined = located.where(F.col("_verdict") != "").select(
                F.lit(entity).alias("entity"),
                F.col("_record_file").alias("source_file"),
                F.col("_line").alias("line"),
                F.col("_verdict").alias("reason"),
                _cut(F.col("_raw")).alias("raw"),
            )
            if any(counts[item]["quarantined"] for item in items):
                quarantined.write.mode("append").parquet((root / "quarantine").as_uri())
            taken[entity] = located.where(F.col("_verdict").isNull())
        _write_tables(taken, root, buckets)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    files = [
        SparkFileRead(item, c["lines"], c["blank"], c["taken"], c["quarantined"])
        for item, c in counts.items()
    ]
    return SparkRead(files, time.perf_counter() - started)


def spark_schema(entity: str) -> StructType:
    """The Spark type of an entity's records: `SCHEMAS[entity]`, the DuckDB reader's, field for field."""
    from pyspark.sql.types import StructField, StructType

    return StructType([StructField(name, _duckdb_type(kind)) for name, kind in SCHEMAS[entity].items()])


def _duckdb_type(text: str) -> DataType:
    """The Spark type of a DuckDB type of SCHEMAS (VARCHAR, BIGINT, BOOLEAN, DOUBLE, STRUCT(...), X[])."""
    kind, rest = _parse_type(text)
    if rest.strip():
        raise ValueError(f"unexpected {rest!r} after a type in {text!r}")
    return kind


def _parse_type(text: str) -> tuple[DataType, str]:
    from pyspark.sql.types import (
        ArrayType,
        BooleanType,
        DoubleType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    atoms: dict[str, DataType] = {
        "VARCHAR": StringType(),
        "BIGINT": LongType(),
        "BOOLEAN": BooleanType(),
        "DOUBLE": DoubleType(),
    }
    rest = text.lstrip()
    kind: DataType
    if rest.startswith("STRUCT("):
        rest = rest[len("STRUCT(") :]
        fields = []
        while True:
            named = re.match(r'\s*"?(\w+)"?\s+', rest)
            if named is None:
                raise ValueError(f"expected a field name at {rest!r}")
            field_type, rest = _parse_type(rest[named.end() :])
            fields.append(StructField(named.group(1), field_type))
            rest = rest.lstrip()
            if rest.startswith(","):
                rest = rest[1:]
                continue
            if not rest.startswith(")"):
                raise ValueError(f"expected ',' or ')' at {rest!r}")
            rest = rest[1:]
            break
        kind = StructType(fields)
    else:
        atom = re.match(r"[A-Z]+", rest)
        if atom is None or atom.group() not in atoms:
            raise ValueError(f"unknown type at {rest!r}")
        kind, rest = atoms[atom.group()], rest[atom.end() :]
    while rest.startswith("[]"):
        kind, rest = ArrayType(kind), rest[2:]
    return kind, rest


def _hadoop(session: SparkSession) -> tuple[Any, Any]:
    """The session's JVM and Hadoop configuration, through which files are listed and opened."""
    context = session.sparkContext
    if context._jvm is None or context._jsc is None:
        raise InputError(
            "the Spark session has no JVM gateway", "use a classic Spark session, not Spark Connect"
        )
    return context._jvm, context._jsc.hadoopConfiguration()


def _qualify(uri: str) -> str:
    """`uri` as given when it has a scheme, else the local path as a file: URI (Hadoop's form, not
    percent-encoded)."""
    return uri if _SCHEME.match(uri) else f"file:{Path(uri).resolve()}"


def _key(session: SparkSession, uri: str, *, encoded: bool = False) -> tuple[str, str, str]:
    """A file's scheme, authority and path: the same for the URI given (Hadoop's form) and the one Spark
    reports (`encoded`: percent-encoded, and `file:/x` for `file:///x`)."""
    jvm, conf = _hadoop(session)
    path = jvm.org.apache.hadoop.fs.Path(jvm.java.net.URI(uri) if encoded else uri)
    qualified = path.getFileSystem(conf).makeQualified(path).toUri()
    return (str(qualified.getScheme() or ""), str(qualified.getAuthority() or ""), str(qualified.getPath()))


def _path_part(uri: str) -> str:
    """The path of a URI in Hadoop's form (`s3a://bucket/a/b` -> `/a/b`, `file:///a` -> `/a`)."""
    return _SCHEME.sub("", uri, count=1)


def _record_file(uri: str) -> str:
    """A file's `record_file`: its local path for a local file (as the DuckDB reader gives), else its URI."""
    return _path_part(uri) if uri.startswith("file:") else uri


def _classify(session: SparkSession, uri: str) -> tuple[str | None, str]:
    """The entity of a file, by the rules acquire.files uses for local paths: by folder, else by its first records."""
    return classify([p.lower() for p in _path_part(uri).split("/") if p], lambda: _sniff(session, uri))


def _sniff(session: SparkSession, uri: str) -> str:
    """The entity of the file's first records ('' when none can be told), read through Hadoop so that it works
    on any file system the session can open."""
    from py4j.protocol import Py4JJavaError  # type: ignore[import-untyped]

    jvm, conf = _hadoop(session)
    path = jvm.org.apache.hadoop.fs.Path(uri)
    codec = jvm.org.apache.hadoop.io.compress.CompressionCodecFactory(conf).getCodec(path)
    try:
        stream = path.getFileSystem(conf).open(path)
        reader = jvm.java.io.BufferedReader(
            jvm.java.io.InputStreamReader(codec.createInputStream(stream) if codec else stream, "UTF-8")
        )
        try:
            return record_kind(iter(reader.readLine, None))
        finally:
            reader.close()
    except Py4JJavaError:  # an unreadable file: its reader will say what is wrong with it
        return ""


def _read_lines(session: SparkSession, entity: str, items: list[SparkInput], scratch: Path) -> None:
    """Read the files' lines into `scratch`; a file Spark cannot read (a damaged gzip stream) is an InputError
    that names it."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        _lines(session, entity, items).write.mode("overwrite").parquet(scratch.as_uri())
    except (PySparkException, Py4JJavaError) as error:
        message = str(error)
        named = re.search(r"reading file (\S+)", message)
        where = named.group(1).rstrip(".") if named else f"one of the {len(items)} {entity} files"
        causes = [
            line.strip().removeprefix("Caused by: ") for line in message.splitlines() if "Caused by:" in line
        ]
        raise InputError(
            f"Spark could not read {where}: {causes[-1] if causes else message.strip().splitlines()[0]}",
            "check the file (`gzip -t`); `ingest openalex` on DuckDB reads damaged files and quarantines the "
            "damaged part",
        ) from error


def _lines(session: SparkSession, entity: str, items: list[SparkInput]) -> DataFrame:
    """Every line of the files with its split (`_file`, `_block`), row id, parsed record `r`, and `_verdict`:
    NULL when taken, '' when blank, else the quarantine reason (with the line, stripped, in `_raw`)."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType

    schema = StructType([*spark_schema(entity).fields, StructField("_corrupt", StringType())])
    lines = (
        session.read.option("lineSep", "\n")
        .text([_qualify(item.uri) for item in items])
        .select(
            F.col("value"),
            F.col("_metadata.file_path").alias("_file"),
            F.col("_metadata.file_block_start").alias("_block"),
            F.monotonically_increasing_id().alias("_id"),
        )
    )
    value = F.col("value")
    text = F.when(value.startswith("{") & value.endswith("}"), value).otherwise(
        F.trim(value, F.lit(_WHITESPACE))
    )
    blank = text == ""
    too_long = F.octet_length("value") > MAX_RECORD_BYTES
    whole_object = text.startswith("{") & text.endswith("}")
    parsed = F.from_json(text, schema, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": "_corrupt"})
    lines = lines.select(
        "_file",
        "_block",
        "_id",
        text.alias("_text"),
        F.when(~blank & ~too_long & whole_object, parsed).alias("r"),
        blank.alias("_blank"),
        too_long.alias("_long"),
        whole_object.alias("_object"),
    )
    json_value = F.expr("try_parse_json(_text)")
    parsed_id = F.expr("variant_get(try_parse_json(_text), '$.id')")
    good = F.col("_object") & F.col("r").isNotNull() & F.col("r._corrupt").isNull()
    ident = F.when(good, F.col("r.id")).otherwise(
        F.expr("try_variant_get(try_parse_json(_text), '$.id', 'string')")
    )
    shown = F.when(
        F.expr("schema_of_variant(variant_get(try_parse_json(_text), '$.id')) = 'STRING'"),
        F.concat(F.lit("'"), ident, F.lit("'")),
    ).otherwise(F.to_json(parsed_id))
    opens = F.substring("_text", 1, 1) == "{"
    verdict = (
        F.when(F.col("_blank"), F.lit(""))
        .when(F.col("_long"), F.lit(TOO_LONG))
        .when(~good & (opens & ~F.col("_object") | json_value.isNull()), F.lit(MALFORMED))
        .when(~good & ~opens, F.concat(F.lit("not a JSON object: a "), _json_kind(F.col("_text"))))
        .when(ident.isNull(), F.lit("no id: the record has no id field"))
        .when(~ident.rlike(ID_PATTERN[entity]), F.concat(F.lit(f"not an OpenAlex {entity[:-1]} id: "), shown))
        .when(~good, F.lit(f"does not fit the {entity} schema (as read by Spark)"))
    )
    judged = lines.select("_file", "_block", "_id", "_text", "r", verdict.alias("_verdict"))
    return judged.select(
        "_file",
        "_block",
        "_id",
        "r",
        "_verdict",
        F.when(F.col("_verdict") != "", F.col("_text")).alias("_raw"),
    )


def _json_kind(text: Column) -> Column:
    """The Python type name of a JSON value that is not an object, as the DuckDB reader's reasons give it."""
    from pyspark.sql import functions as F

    first = F.substring(text, 1, 1)
    return (
        F.when(first == "[", "list")
        .when(first == '"', "str")
        .when(first.isin("t", "f"), "bool")
        .when(first == "n", "NoneType")
        .when(text.rlike(r"^-?\d+$"), "int")
        .otherwise("float")
    )


def _cut(raw: Column) -> Column:
    """The raw line, cut at 1 MiB characters as the DuckDB reader's quarantine does."""
    from pyspark.sql import functions as F

    return F.when(
        F.length(raw) > MAX_RAW,
        F.concat(
            F.substring(raw, 1, MAX_RAW),
            F.lit("... ["),
            (F.length(raw) - MAX_RAW).cast("string"),
            F.lit(" more characters cut]"),
        ),
    ).otherwise(raw)


def _splits(
    session: SparkSession,
    lines: DataFrame,
    keys: dict[tuple[str, str, str], SparkInput],
    counts: dict[SparkInput, dict[str, int]],
) -> DataFrame:
    """Per split of a file: its first row id, the lines of the file's earlier splits, the file's `_ord` base,
    `record_file`; and, into `counts`, each file's lines, blank lines, records taken and quarantined."""
    from pyspark.sql import functions as F

    rows = (
        lines.groupBy("_file", "_block")
        .agg(
            F.min("_id").alias("_first"),
            F.count("*").alias("lines"),
            F.count_if(F.col("_verdict") == "").alias("blank"),
            F.count_if(F.col("_verdict").isNull()).alias("taken"),
            F.count_if(F.col("_verdict") != "").alias("quarantined"),
        )
        .collect()
    )
    before: dict[str, int] = defaultdict(int)
    table: list[tuple[Any, ...]] = []
    for row in sorted(rows, key=lambda r: (r["_file"], r["_block"])):
        item = keys.get(_key(session, row["_file"], encoded=True))
        if item is None:
            raise InputError(f"Spark read {row['_file']}, which is none of the inputs given")
        table.append(
            (
                row["_file"],
                row["_block"],
                row["_first"],
                before[row["_file"]],
                item.index << 32,
                _record_file(_qualify(item.uri)),
            )
        )
        before[row["_file"]] += row["lines"]
        for name in ("lines", "blank", "taken", "quarantined"):
            counts[item][name] += row[name]
    return session.createDataFrame(
        table, "_file string, _block bigint, _first bigint, _before bigint, _base bigint, _record_file string"
    )


def _strip(column: Column) -> Column:
    from pyspark.sql import functions as F

    return F.regexp_replace(column, _OPENALEX, "")


def _cast_when_date(column: Column, kind: str) -> Column:
    """DuckDB's try_cast of a string to DATE or TIMESTAMP: NULL unless it has a whole year-month-day."""
    from pyspark.sql import functions as F

    return F.when(column.rlike(_DATE_LIKE), column.try_cast(kind))


def _write_tables(taken: dict[str, DataFrame], root: Path, buckets: int) -> None:
    """The canonical batch tables from the records taken (`r`, `_ord`, `_line`, `_record_file`), as
    `canonicalise` builds them on DuckDB."""
    institutions = [_institution_records(taken["institutions"])] if "institutions" in taken else []
    sources = [_source_records(taken["sources"])] if "sources" in taken else []
    if "works" in taken:
        embedded_institutions, embedded_sources = _write_work_tables(taken["works"], root, buckets)
        institutions.append(embedded_institutions)
        sources.append(embedded_sources)
    for name, parts in (("institutions", institutions), ("sources", sources)):
        if parts:
            frame = parts[0]
            for part in parts[1:]:
                frame = frame.unionByName(part, allowMissingColumns=True)
            _write(_newest_embedded(frame), name, root, buckets)


def _write_work_tables(taken: DataFrame, root: Path, buckets: int) -> tuple[DataFrame, DataFrame]:
    """Write works, authorships and affiliations from the works taken; return the institution and source
    records embedded in them."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import ArrayType, StringType

    no_strings = F.array().cast(ArrayType(StringType()))
    # Spark SQL reads a backslash in a string literal as an escape (DuckDB does not): double it for the regex.
    bucket = F.expr(batch_tables.work_bucket("work_id", buckets)).alias("bucket")
    pl, hv = F.col("r.primary_location.source"), F.col("r.host_venue")
    works = taken.select(
        _strip(F.col("r.id")).alias("work_id"),
        F.lower(F.regexp_replace("r.doi", r"^https?://(dx\.)?doi\.org/", "")).alias("doi"),
        F.coalesce("r.title", "r.display_name").alias("title"),
        F.col("r.publication_year").alias("publication_year"),
        _cast_when_date(F.col("r.publication_date"), "date").alias("publication_date"),
        F.col("r.type").alias("type"),
        F.coalesce(_strip(pl.id), F.regexp_replace(_strip(hv.id), "^V", "S")).alias("source_id"),
        F.coalesce("r.is_retracted", F.lit(False)).alias("is_retracted"),
        F.coalesce("r.is_paratext", F.lit(False)).alias("is_paratext"),
        _strip(F.col("r.primary_topic.id")).alias("primary_topic_id"),
        *(
            F.regexp_extract(f"r.primary_topic.{level}.id", r"(\d+)$", 1).alias(f"primary_topic_{level}")
            for level in ("subfield", "field", "domain")
        ),
        F.when(F.col("r.authorships").isNull(), 0).otherwise(F.size("r.authorships")).alias("n_authors"),
        F.coalesce("r.is_authors_truncated", F.lit(False)).alias("is_authors_truncated"),
        F.col("r.cited_by_count").alias("cited_by_count"),
        _cast_when_date(F.col("r.updated_date"), "timestamp_ntz").alias("updated_date"),
        F.col("_record_file").alias("record_file"),
        F.col("_line").alias("record_line"),
        "_ord",
        F.coalesce(pl.display_name, hv.display_name).alias("_source_name"),
        F.coalesce(pl.issn_l, hv.issn_l).alias("_source_issn_l"),
        F.coalesce(pl.issn, hv.issn).alias("_source_issns"),
        F.coalesce(pl.type, hv.type).alias("_source_type"),
        F.col("r.authorships").alias("_authorships"),
    ).withColumn("bucket", bucket)
    _write(works, "works", root, buckets)
    a = F.col("a")
    institution_ids = F.array_distinct(
        F.concat(
            F.transform(
                F.filter(
                    F.coalesce(a.institutions, F.array()), lambda i: F.nullif(i.id, F.lit("")).isNotNull()
                ),
                lambda i: _strip(i.id),
            ),
            F.transform(
                F.filter(
                    F.flatten(
                        F.transform(
                            F.coalesce(a.affiliations, F.array()),
                            lambda f: F.coalesce(f.institution_ids, no_strings),
                        )
                    ),
                    lambda x: F.nullif(x, F.lit("")).isNotNull(),
                ),
                _strip,
            ),
        )
    )
    authored = works.select(
        "work_id",
        "_ord",
        "bucket",
        "updated_date",
        F.posexplode("_authorships").alias("author_position", "a"),
    ).withColumn("institution_ids", institution_ids)
    authorships = authored.select(
        "work_id",
        "author_position",
        _strip(a.author.id).alias("author_id"),
        F.coalesce(a.author.display_name, a.raw_author_name).alias("author_name"),
        a.is_corresponding.alias("is_corresponding"),
        F.when(F.size(a.raw_affiliation_strings) > 0, a.raw_affiliation_strings)
        .when(
            F.size(a.affiliations) > 0,
            F.filter(
                F.transform(a.affiliations, lambda f: f.raw_affiliation_string), lambda x: x.isNotNull()
            ),
        )
        .when(a.raw_affiliation_string.isNotNull(), F.array(a.raw_affiliation_string))
        .otherwise(no_strings)
        .alias("raw_affiliations"),
        F.size("institution_ids").alias("n_institutions"),
        "_ord",
        "bucket",
    )
    _write(authorships, "authorships", root, buckets)
    affiliations = authored.select(
        "work_id",
        "author_position",
        F.explode("institution_ids").alias("institution_id"),
        "_ord",
        "bucket",
    )
    _write(affiliations, "affiliations", root, buckets)
    i = F.col("i")
    embedded_institutions = (
        authored.select("updated_date", "_ord", F.explode(a.institutions).alias("i"))
        .where(F.nullif(i.id, F.lit("")).isNotNull())
        .select(
            _strip(i.id).alias("institution_id"),
            i.display_name.alias("name"),
            F.regexp_replace(i.ror, r"^https://ror\.org/", "").alias("ror"),
            i.country_code.alias("country_code"),
            i.type.alias("type"),
            F.transform(i.lineage, _strip).alias("lineage"),
            F.lit("embedded").alias("record_source"),
            "updated_date",
            F.lit(1).alias("_prio"),
            "_ord",
        )
    )
    embedded_sources = works.where(F.col("source_id").isNotNull()).select(
        "source_id",
        F.col("_source_name").alias("name"),
        F.col("_source_issn_l").alias("issn_l"),
        F.col("_source_issns").alias("issns"),
        F.col("_source_type").alias("type"),
        F.lit("embedded").alias("record_source"),
        "updated_date",
        F.lit(1).alias("_prio"),
        "_ord",
    )
    return embedded_institutions, embedded_sources


def _institution_records(taken: DataFrame) -> DataFrame:
    """The institution entity records taken, as canonical rows."""
    from pyspark.sql import functions as F

    external = F.col("r.external_id")
    return taken.select(
        _strip(F.col("r.id")).alias("institution_id"),
        F.col("r.display_name").alias("name"),
        F.regexp_replace(
            F.coalesce("r.ror", F.when(external.startswith("https://ror.org/"), external)),
            r"^https://ror\.org/",
            "",
        ).alias("ror"),
        F.coalesce("r.country_code", "r.geo.country_code").alias("country_code"),
        F.col("r.type").alias("type"),
        F.transform("r.lineage", _strip).alias("lineage"),
        F.col("r.geo.geonames_city_id").alias("geonames_city_id"),
        F.col("r.geo.city").alias("city_name"),
        F.col("r.geo.latitude").alias("latitude"),
        F.col("r.geo.longitude").alias("longitude"),
        F.when(F.col("r.geo.latitude").isNotNull(), "openalex").alias("geo_source"),
        F.lit("entity").alias("record_source"),
        _cast_when_date(F.col("r.updated_date"), "timestamp_ntz").alias("updated_date"),
        F.lit(2).alias("_prio"),
        "_ord",
    )


def _source_records(taken: DataFrame) -> DataFrame:
    """The source entity records taken, as canonical rows."""
    from pyspark.sql import functions as F

    return taken.select(
        _strip(F.col("r.id")).alias("source_id"),
        F.col("r.display_name").alias("name"),
        F.col("r.issn_l").alias("issn_l"),
        F.col("r.issn").alias("issns"),
        F.col("r.type").alias("type"),
        F.lit("entity").alias("record_source"),
        _cast_when_date(F.col("r.updated_date"), "timestamp_ntz").alias("updated_date"),
        F.lit(2).alias("_prio"),
        "_ord",
    )


def _newest_embedded(records: DataFrame) -> DataFrame:
    """Entity records as they are, and of the embedded records identical in every field but `updated_date` and
    `_ord` only the newest: the merge takes the newest non-null value per field, so its result is the same."""
    from pyspark.sql import functions as F

    fields = [c for c in records.columns if c not in ("updated_date", "_ord")]
    entity = records.where(F.col("_prio") == 2)
    embedded = (
        records.where(F.col("_prio") != 2)
        .groupBy(*fields)
        .agg(F.max(F.struct("updated_date", "_ord")).alias("_newest"))
        .select(*fields, "_newest.updated_date", "_newest._ord")
    )
    return entity.unionByName(embedded)


def _write(frame: DataFrame, table: str, root: Path, buckets: int) -> None:
    """Write one batch table with exactly the columns and types of batch.TABLES, NULL where `frame` has none
    (the geography of embedded institutions); work tables by bucket, one file per bucket."""
    from pyspark.sql import functions as F

    columns = [
        (F.col(f.name) if f.name in frame.columns else F.lit(None)).cast(_spark_type(f.type)).alias(f.name)
        for f in batch_tables.TABLES[table]
    ]
    target = (root / table).as_uri()
    if table in batch_tables.BUCKETED:
        (
            frame.select(*columns, "bucket")
            .repartition(buckets, "bucket")
            .write.mode("append")
            .partitionBy("bucket")
            .parquet(target)
        )
    else:
        frame.select(*columns).write.mode("append").parquet(target)


def _spark_type(kind: pa.DataType) -> DataType:
    """The Spark type written as the Arrow type `kind` of a batch table."""
    from pyspark.sql.types import (
        ArrayType,
        BooleanType,
        DateType,
        DoubleType,
        LongType,
        StringType,
        TimestampNTZType,
    )

    if pa.types.is_list(kind):
        return ArrayType(_spark_type(kind.value_type))
    simple: dict[pa.DataType, DataType] = {
        pa.string(): StringType(),
        pa.int64(): LongType(),
        pa.float64(): DoubleType(),
        pa.bool_(): BooleanType(),
        pa.date32(): DateType(),
        pa.timestamp("us"): TimestampNTZType(),
    }
    if kind not in simple:
        raise ValueError(f"no Spark type for the batch column type {kind}")
    return simple[kind]


__all__ = [
    "MALFORMED",
    "SkippedUri",
    "SparkFileRead",
    "SparkInput",
    "SparkRead",
    "list_inputs",
    "read_openalex_spark",
    "spark_schema",
]
