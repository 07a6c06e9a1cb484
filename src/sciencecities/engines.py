"""The one module that names an engine: connect Ibis to the store's Parquet tables, on DuckDB (the embedded
default) or on Apache Spark (a local session, or a cluster through `--spark-master` or Spark's own
configuration), so that the metric expressions are written once (DESIGN §7)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import pyarrow as pa
import pyarrow.dataset as ds
from ibis.backends import BaseBackend

from sciencecities.errors import InputError
from sciencecities.tables import CANONICAL, DERIVED

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ENGINES = ("duckdb", "spark")
"""The engines a build or a ranking can run on."""

DEFAULT_MASTER = "local[*]"
"""The Spark master when neither `--spark-master` nor SCIENCECITIES_SPARK_MASTER nor spark.master is set."""

JAVA_HINT = (
    "Spark needs a Java 17 or newer: on Debian or Ubuntu `apt-get install -y openjdk-17-jre-headless`, "
    "elsewhere a JDK from adoptium.net; then set JAVA_HOME or put `java` on the PATH"
)


def check_engine(engine: str) -> str:
    """`engine` if it is one of `ENGINES`, else an InputError naming them."""
    if engine not in ENGINES:
        raise InputError(f"unknown engine {engine!r}", f"use one of {', '.join(ENGINES)}")
    return engine


def connect(
    directory: Path, edition: str | None = None, engine: str = "duckdb", spark_master: str | None = None
) -> BaseBackend:
    """An Ibis backend on `engine` with the version's canonical (and the edition's derived) tables as views;
    canonical tables the store predates are empty. On Spark, each connection is a session of its own over one
    shared Spark context (its views are its own), and disconnecting it leaves the context running."""
    if check_engine(engine) == "spark":
        con: BaseBackend = _shared_spark_backend()().connect(spark_session(spark_master).newSession())
    else:
        con = ibis.duckdb.connect()
    for name, table in CANONICAL.items():
        path = directory / f"{name}.parquet"
        if path.exists():
            con.read_parquet(path, table_name=name)
        else:  # a table added after the store was made (e.g. ror_places): empty until ingested
            con.create_view(name, ibis.memtable(table.schema.empty_table()))
    if edition is not None:
        derived = directory / "derived" / edition
        for name in DERIVED:
            path = derived / f"{name}.parquet"
            if path.exists():
                con.read_parquet(path, table_name=name)
    return con


@contextmanager
def result_batches(con: BaseBackend, expr: ibis.Table, scratch: Path) -> Iterator[pa.RecordBatchReader]:
    """The rows of `expr` as a stream of record batches, never the whole table in this process: DuckDB streams
    its result; Spark writes Parquet part files from its executors into `scratch` (removed afterwards), which
    are then read back a batch at a time."""
    if con.name != "pyspark":  # Ibis 12's to_pyarrow_batches calls a cursor method duckdb 2.0 no longer has
        yield con._to_duckdb_relation(expr).to_arrow_reader(_BATCH_ROWS)
        return
    try:
        con.to_parquet_dir(expr, scratch)
        parts = ds.dataset(scratch, format="parquet")
        if parts.files:
            yield pa.RecordBatchReader.from_batches(parts.schema, parts.to_batches(batch_size=_BATCH_ROWS))
        else:
            empty = expr.schema().to_pyarrow()
            yield pa.RecordBatchReader.from_batches(empty, [])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


_BATCH_ROWS = 100_000


@cache
def spark_session(master: str | None = None) -> SparkSession:
    """The process's Spark session (started once): UTC, no web UI, few shuffle partitions on a local master.
    Spark's own configuration (spark-defaults.conf, SPARK_CONF_DIR) applies; `master` wins over it."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise InputError("the Spark engine cannot start: no Java found", JAVA_HINT)
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise InputError(
            "the Spark engine needs pyspark, which is not installed",
            "pip install 'sciencecities[spark]' (or use --engine duckdb)",
        ) from error
    chosen = master or os.environ.get("SCIENCECITIES_SPARK_MASTER")
    builder = SparkSession.builder.appName("sciencecities")
    if chosen is not None:
        builder = builder.master(chosen)
    options: dict[str, Any] = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.ansi.enabled": "true",
        # Spark would otherwise create ./spark-warehouse in the user's working directory.
        "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "sciencecities-spark-warehouse"),
    }
    if (chosen or DEFAULT_MASTER).startswith("local"):
        options["spark.sql.shuffle.partitions"] = str(2 * (os.cpu_count() or 1))
    for key, value in options.items():
        builder = builder.config(key, value)
    if chosen is None:
        builder = builder.config("spark.master", DEFAULT_MASTER)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # py4j and Spark raise many kinds; all mean the same thing to a user
        raise InputError(f"the Spark engine could not start: {error}", JAVA_HINT) from error
    session.sparkContext.setLogLevel("ERROR")
    return session


@cache
def _shared_spark_backend() -> type[BaseBackend]:
    """Ibis's PySpark backend, except that disconnecting drops the session's views instead of stopping Spark
    (Ibis stops the whole context, which would make every later connection start a JVM again)."""
    from ibis.backends.pyspark import Backend

    if ibis.options.pyspark is None:  # registered when the backend is first reached as `ibis.pyspark`
        Backend().register_options()

    class SharedSparkBackend(Backend):  # type: ignore[misc]
        def disconnect(self) -> None:
            catalog = self._session.catalog
            for table in catalog.listTables():
                if table.isTemporary:
                    catalog.dropTempView(table.name)

    return SharedSparkBackend
