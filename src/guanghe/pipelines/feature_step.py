"""The cycle's ``features`` step: creator features as of a date, as the ``creator_features``
snapshot, on the batch engine chosen for the cycle (DuckDB unless ``--engine spark``)."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from guanghe.events import EVENT_SCHEMA
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.engines import BatchEngine, open_engine
from guanghe.pipelines.features import (
    MAX_CONTINUOUS_MONTHS,
    WINDOWS_DAYS,
    creator_features,
    daily_activity,
)
from guanghe.pipelines.reports import StepReport
from guanghe.runtime import Runtime
from guanghe.snapshots import write_snapshot
from guanghe.store import Creator, Work

SNAPSHOT: Final = "creator_features"

CREATORS_SCHEMA: Final = pa.schema(
    [
        ("creator_id", pa.int64()),
        ("vertical_id", pa.int64()),
        ("joined_on", pa.date32()),
        ("follower_count", pa.int64()),
    ]
)
WORKS_SCHEMA: Final = pa.schema(
    [("creator_id", pa.int64()), ("published_at", pa.timestamp("us", tz="UTC"))]
)


def run(ctx: CycleContext) -> StepReport:
    """Compute the features as of the cycle's date on its batch engine and write the
    ``creator_features`` snapshot."""
    with open_engine(ctx.batch_engine, spark_master=ctx.runtime.settings.spark_master) as engine:
        table = compute_features(ctx.runtime, ctx.date, engine)
    write_snapshot(ctx.snapshots, SNAPSHOT, ctx.date, table)
    return StepReport("features", {"creators": table.num_rows})


def compute_features(runtime: Runtime, date: dt.date, engine: BatchEngine) -> pa.Table:
    """The features snapshot of ``date`` computed on ``engine`` (nothing written)."""
    first = date - dt.timedelta(days=max(WINDOWS_DAYS) - 1)
    runtime.settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(
        prefix="features-", dir=runtime.settings.scratch_dir
    ) as tmp:  # a path a Spark cluster's executors read as well
        folder = Path(tmp)
        creators_path = folder / "creators.parquet"
        works_path = folder / "works.parquet"
        pq.write_table(_creators(runtime.engine), creators_path)
        pq.write_table(_works(runtime.engine, date), works_path)
        events = engine.read_parquet(_event_files(runtime, first, date, folder))
        if tombstones := runtime.event_log.quarantine_files():  # quarantined events don't count
            events = events.anti_join(engine.read_parquet(tombstones), "event_id")
        works = engine.read_parquet([works_path])
        daily = daily_activity(events, works, first, date)
        expr = creator_features(engine.read_parquet([creators_path]), daily, works, date)
        return canonical(engine.to_arrow(expr))


def canonical(table: pa.Table) -> pa.Table:
    """``table`` sorted by creator with plain (non-nullable-flagged) column types, so DuckDB's
    and Spark's results compare and serialise identically."""
    table = table.sort_by("creator_id")
    fields = [pa.field(f.name, f.type) for f in table.schema]
    return pa.Table.from_arrays(
        [c.combine_chunks() for c in table.columns], schema=pa.schema(fields)
    )


def _event_files(runtime: Runtime, first: dt.date, last: dt.date, tmp: Path) -> Sequence[Path]:
    """The event log's files of the days ``[first, last]``; an empty file if there are none."""
    files = [
        f
        for f in runtime.event_log.files()
        if first.isoformat() <= f.parent.name.removeprefix("date=") <= last.isoformat()
    ]
    if files:
        return files
    empty = tmp / "no-events.parquet"
    pq.write_table(EVENT_SCHEMA.empty_table(), empty)
    return [empty]


def _creators(engine: Engine) -> pa.Table:
    query = select(Creator.id, Creator.vertical_id, Creator.joined_on, Creator.follower_count)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(Creator.id)).all()
    columns = [[row[i] for row in rows] for i in range(len(CREATORS_SCHEMA))]
    return pa.Table.from_arrays(
        [pa.array(c, f.type) for c, f in zip(columns, CREATORS_SCHEMA, strict=True)],
        schema=CREATORS_SCHEMA,
    )


def _works(engine: Engine, date: dt.date) -> pa.Table:
    """Works published in the months continuous authorship looks at, up to ``date``."""
    start = dt.date(date.year - (MAX_CONTINUOUS_MONTHS // 12) - 1, date.month, 1)
    since = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    until = dt.datetime.combine(date + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    query = select(Work.creator_id, Work.published_at).where(
        Work.published_at >= since, Work.published_at < until
    )
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(Work.id)).all()
    creator_ids = [r[0] for r in rows]
    published = [r[1] for r in rows]
    return pa.Table.from_arrays(
        [pa.array(creator_ids, pa.int64()), pa.array(published, pa.timestamp("us", tz="UTC"))],
        schema=WORKS_SCHEMA,
    )
