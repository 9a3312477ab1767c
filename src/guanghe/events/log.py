"""The append-only event log: Parquet files partitioned by date, queried with DuckDB.

Appends are atomic per batch, even across several date partitions: files are written to
``_staging/<batch>/``, a ``COMMITTED`` marker is written, and only then are they moved into
place. A crash before the marker leaves nothing visible (the staging is discarded at the next
append); a crash after it is rolled forward. One writer at a time, by a file lock.

Logged events are never edited. An operator takes one out of use by quarantining it
(:mod:`guanghe.events.quarantine`): a tombstone file is added under ``quarantine/``, and every
reader of the log (the ``events`` view of :meth:`EventLog.connect`, the batch engines through
:meth:`EventLog.quarantine_files`) passes over the events it names.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from guanghe.events.schema import EVENT_SCHEMA, TOMBSTONE_SCHEMA

_STAGING = "_staging"
_COMMITTED = "COMMITTED"
_QUARANTINE = "quarantine"


class EventLog:
    """A date-partitioned Parquet event log rooted at ``root``.

    Parameters
    ----------
    root
        Directory holding ``date=YYYY-MM-DD/part-<batch>.parquet`` files; created on demand.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def append(self, events: pa.Table) -> int:
        """Add ``events`` (conforming to :data:`EVENT_SCHEMA`) as one atomic batch.

        The caller guarantees the rows are valid and their ``event_id`` new; a caller that
        must check which are new does so inside :meth:`writer`. Returns the rows written.
        """
        with self.writer() as writer:
            return writer.append(events)

    @contextmanager
    def writer(self) -> Iterator[LogWriter]:
        """The log's one writer, holding its lock until the block ends, so what the block
        reads of the log (:meth:`LogWriter.existing`) is still true when it appends."""
        with self._locked():
            yield LogWriter(self)

    def connect(self, *, quarantined: bool = False) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with a view ``events`` over the whole log (plus ``date``).

        The view leaves out quarantined events unless ``quarantined`` is true.
        """
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        files = self.files()
        if not files:
            empty = EVENT_SCHEMA.empty_table().append_column("date", pa.array([], pa.date32()))
            con.register("_empty_events", empty)
            con.execute("CREATE VIEW events AS SELECT * FROM _empty_events")
            return con
        logged = f"read_parquet({_paths(files)}, hive_partitioning=true, union_by_name=true)"
        tombstones = [] if quarantined else self.quarantine_files()
        if tombstones:
            con.execute(
                f"CREATE VIEW events AS SELECT e.* FROM {logged} e "
                f"ANTI JOIN read_parquet({_paths(tombstones)}) q USING (event_id)"
            )
        else:
            con.execute(f"CREATE VIEW events AS SELECT * FROM {logged}")
        return con

    @contextmanager
    def reading(
        self, con: duckdb.DuckDBPyConnection | None = None
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        """``con``, a caller's :meth:`connect` reused over many reads (a connection costs
        milliseconds of CPU), or else a connection of its own, closed after the block."""
        if con is not None:
            yield con
            return
        own = self.connect()
        try:
            yield own
        finally:
            own.close()

    def quarantine_files(self) -> list[Path]:
        """The tombstone files (:data:`TOMBSTONE_SCHEMA`), oldest first: each names events a
        reader of the log must leave out."""
        return sorted((self.root / _QUARANTINE).glob("tombstones-*.parquet"))

    def tombstones(self) -> pa.Table:
        """Every tombstone (:data:`TOMBSTONE_SCHEMA`), in the order they were written."""
        files = self.quarantine_files()
        if not files:
            return TOMBSTONE_SCHEMA.empty_table()
        return pa.concat_tables(pq.read_table(f, schema=TOMBSTONE_SCHEMA) for f in files)

    def files(self) -> list[Path]:
        """The published Parquet files, in date order."""
        if not self.root.exists():
            return []
        return sorted(self.root.glob("date=*/part-*.parquet"))

    def dates(self) -> list[str]:
        """The dates (``YYYY-MM-DD``) that have events."""
        return sorted({f.parent.name.removeprefix("date=") for f in self.files()})

    def count(self) -> int:
        """Number of event rows in the log."""
        return sum(pq.ParquetFile(f).metadata.num_rows for f in self.files())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                self._recover()
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _recover(self) -> None:
        """Roll committed staged batches forward and throw uncommitted ones away."""
        staging_root = self.root / _STAGING
        if not staging_root.exists():
            return
        for staging in staging_root.iterdir():
            if (staging / _COMMITTED).exists():
                _publish(self.root, staging)
            else:
                shutil.rmtree(staging)


class LogWriter:
    """What may be done to an :class:`EventLog` while holding its lock (see
    :meth:`EventLog.writer`)."""

    def __init__(self, log: EventLog) -> None:
        self.log = log

    def existing(self, events: pa.Table) -> pa.Table:
        """The logged rows whose ``event_id`` appears in ``events`` (log columns only)."""
        if not self.log.files() or events.num_rows == 0:
            return EVENT_SCHEMA.empty_table()
        con = self.log.connect(quarantined=True)
        con.register("_incoming", events.select(["event_id"]))
        columns = ", ".join(f'e."{n}"' for n in EVENT_SCHEMA.names)
        found = con.sql(
            f"SELECT {columns} FROM events e SEMI JOIN _incoming i USING (event_id)"
        ).to_arrow_table()
        return found.cast(EVENT_SCHEMA)

    def append(self, events: pa.Table) -> int:
        """Write ``events`` as one atomic batch (see :meth:`EventLog.append`)."""
        events = events.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)
        if events.num_rows == 0:
            return 0
        root = self.log.root
        batch = uuid.uuid4().hex
        staging = root / _STAGING / batch
        dates = pc.cast(events["ts"], pa.date32())
        for day in pc.unique(dates).to_pylist():
            part = events.filter(pc.equal(dates, pa.scalar(day, pa.date32())))
            part = part.sort_by([("creator_id", "ascending"), ("ts", "ascending")])
            target = staging / f"date={day.isoformat()}"
            target.mkdir(parents=True)
            pq.write_table(part, target / f"part-{batch}.parquet", compression="zstd")
        _write_atomically(staging / _COMMITTED, batch)
        _publish(root, staging)
        return int(events.num_rows)

    def add_tombstones(self, tombstones: pa.Table) -> None:
        """Write ``tombstones`` (:data:`TOMBSTONE_SCHEMA`) as one new file, atomically."""
        folder = self.log.root / _QUARANTINE
        folder.mkdir(parents=True, exist_ok=True)
        name = f"tombstones-{len(self.log.quarantine_files()):08d}-{uuid.uuid4().hex}.parquet"
        staged = folder / f".{name}.tmp"
        pq.write_table(tombstones.select(TOMBSTONE_SCHEMA.names).cast(TOMBSTONE_SCHEMA), staged)
        with staged.open("rb") as handle:
            os.fsync(handle.fileno())
        staged.replace(folder / name)


def _paths(files: list[Path]) -> str:
    return "[" + ", ".join("'" + str(f).replace("'", "''") + "'" for f in files) + "]"


def _publish(root: Path, staging: Path) -> None:
    for staged in sorted(staging.glob("date=*/part-*.parquet")):
        target = root / staged.parent.name / staged.name
        target.parent.mkdir(parents=True, exist_ok=True)
        staged.replace(target)
    shutil.rmtree(staging)


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)
