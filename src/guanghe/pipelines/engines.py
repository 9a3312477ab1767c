"""Batch engines the pipelines run on: DuckDB in process (default) or Apache Spark.

The pipelines are Ibis expressions, written once; a :class:`BatchEngine` only reads Parquet
into an Ibis table and brings a result back as Arrow. Both engines work in UTC.
"""

from __future__ import annotations

import gc
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import ibis
import pyarrow as pa
from ibis.expr.types import Table

from guanghe.errors import InvalidInput, Unavailable

EngineName = Literal["duckdb", "spark"]
ENGINES: Final[tuple[EngineName, ...]] = ("duckdb", "spark")

#: Spark settings for a small, local, quiet session; a cluster overrides ``master``.
SPARK_CONF: Final = {
    "spark.ui.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.shuffle.partitions": "4",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "2g",
    "spark.ui.showConsoleProgress": "false",
}


class BatchEngine(Protocol):
    """Reads Parquet files into Ibis tables and executes expressions to Arrow."""

    name: EngineName

    def read_parquet(self, paths: Sequence[Path]) -> Table:
        """The rows of ``paths`` (one schema) as a table; at least one path."""
        ...

    def to_arrow(self, expr: Table) -> pa.Table:
        """Execute ``expr`` and return its rows."""
        ...


class DuckDBEngine:
    """DuckDB in process; ``threads`` and ``memory_limit`` as DuckDB understands them."""

    name: EngineName = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.backend = ibis.duckdb.connect()
        self.backend.raw_sql("SET TimeZone = 'UTC'")
        if threads is not None:
            self.backend.raw_sql(f"SET threads = {int(threads)}")
        if memory_limit is not None:
            self.backend.raw_sql(f"SET memory_limit = '{memory_limit}'")

    def read_parquet(self, paths: Sequence[Path]) -> Table:
        with _quiet_duckdb():
            return self.backend.read_parquet([str(p) for p in paths], hive_partitioning=False)

    def to_arrow(self, expr: Table) -> pa.Table:
        with _quiet_duckdb():
            return self.backend.to_pyarrow(expr)

    def close(self) -> None:
        self.backend.disconnect()


@contextmanager
def _quiet_duckdb() -> Iterator[None]:
    """Ibis 12 still calls DuckDB's deprecated ``fetch_arrow_table``; hide only that warning."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"fetch_arrow_table\(\) is deprecated", category=DeprecationWarning
        )
        yield


class SparkEngine:
    """Apache Spark through Ibis's PySpark backend, on an existing or new session.

    Results come back with ``DataFrame.toArrow()`` (no pandas round trip).
    """

    name: EngineName = "spark"

    def __init__(self, session: Any) -> None:
        self.session = session
        self.backend = ibis.pyspark.connect(session)

    def read_parquet(self, paths: Sequence[Path]) -> Table:
        view = f"guanghe_{uuid.uuid4().hex}"
        self.session.read.parquet(*[str(p) for p in paths]).createOrReplaceTempView(view)
        return self.backend.table(view)

    def to_arrow(self, expr: Table) -> pa.Table:
        frame = self.backend.raw_sql(self.backend.compile(expr))
        # PySpark leaves the local socket its results arrive on to the garbage collector;
        # collect it here so its ResourceWarning (only that one) is not raised elsewhere.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            table = frame.toArrow()
            gc.collect()
        return table


def spark_session(master: str = "local[*]", app_name: str = "guanghe") -> Any:
    """A Spark session with :data:`SPARK_CONF`; :class:`Unavailable` if Spark cannot start."""
    try:
        from pyspark.sql import SparkSession

        builder = SparkSession.builder.master(master).appName(app_name)
        for key, value in SPARK_CONF.items():
            builder = builder.config(key, value)
        session = builder.getOrCreate()
    except Exception as exc:  # Java missing, cluster unreachable, ...
        raise Unavailable(f"cannot start Spark ({master}): {exc}") from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextmanager
def open_engine(name: str, *, spark_master: str = "local[*]") -> Iterator[BatchEngine]:
    """The engine called ``name`` (one of :data:`ENGINES`), Spark on ``spark_master``; closed
    or stopped on exit."""
    if name == "duckdb":
        duck = DuckDBEngine()
        try:
            yield duck
        finally:
            duck.close()
        return
    if name == "spark":
        session = spark_session(spark_master)
        try:
            yield SparkEngine(session)
        finally:
            session.stop()
        return
    raise InvalidInput(f"unknown batch engine {name!r}; expected one of {', '.join(ENGINES)}")
