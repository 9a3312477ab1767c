"""The cycle's ``features`` step: creator features as of a date, as the ``creator_features``
snapshot, on the batch engine chosen for the cycle (DuckDB unless ``--engine spark``).

The events' days (:func:`~guanghe.pipelines.features.daily_events`) are kept per day and
engine under the scratch directory, named by what they were computed from: the day's files
in the event log and the quarantine's tombstones. A day whose files or tombstones changed
(events ingested late, an event quarantined) is computed again; the others are read back, so
a daily cycle rolls up one new day of events instead of its 90-day window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
import uuid
from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Engine, select

from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.engines import BatchEngine, open_engine
from guanghe.pipelines.features import (
    DAILY_METRICS,
    MAX_CONTINUOUS_MONTHS,
    WINDOWS_DAYS,
    creator_features,
    daily_activity,
    daily_events,
)
from guanghe.pipelines.reports import StepReport
from guanghe.runtime import Runtime
from guanghe.snapshots import write_snapshot
from guanghe.store import Creator, Work, as_stored

SNAPSHOT: Final = "creator_features"
#: Where the events' days are kept, under the scratch directory; bump the version when
#: :func:`~guanghe.pipelines.features.daily_events` changes what it computes.
DAYS_DIR: Final = "daily_events"
DAYS_VERSION: Final = 1
DAYS_SCHEMA: Final = pa.schema(
    [("creator_id", pa.int64()), ("day", pa.date32())]
    + [(name, pa.int64()) for name in DAILY_METRICS]
)

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
        by_day = engine.read_parquet(events_by_day(runtime, engine, first, date, folder))
        works = engine.read_parquet([works_path])
        daily = daily_activity(by_day, works, first, date)
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


def events_by_day(
    runtime: Runtime, engine: BatchEngine, first: dt.date, last: dt.date, tmp: Path
) -> list[Path]:
    """Files of :func:`daily_events` for the days ``[first, last]`` (an empty file if no day
    has events), computed on ``engine`` for the days not kept yet, in one query."""
    log = runtime.event_log
    tombstones = log.quarantine_files()
    by_date: dict[str, list[Path]] = {}
    for f in log.files():
        day = f.parent.name.removeprefix("date=")
        if first.isoformat() <= day <= last.isoformat():
            by_date.setdefault(day, []).append(f)
    root = runtime.settings.scratch_dir / DAYS_DIR / engine.name
    kept = {
        day: root / f"date={day}" / _day_name(files, tombstones) for day, files in by_date.items()
    }
    missing = sorted(day for day, path in kept.items() if not path.exists())
    if missing:
        events = engine.read_parquet([f for day in missing for f in by_date[day]])
        if tombstones:  # quarantined events don't count
            events = events.anti_join(engine.read_parquet(tombstones), "event_id")
        days = [dt.date.fromisoformat(d) for d in missing]
        rolled = engine.to_arrow(daily_events(events, days[0], days[-1])).cast(DAYS_SCHEMA)
        for day, date in zip(missing, days, strict=True):
            _write_day(kept[day], rolled.filter(pc.equal(rolled["day"], date)))
    if kept:
        return [kept[day] for day in sorted(kept)]
    empty = tmp / "no-events.parquet"
    pq.write_table(DAYS_SCHEMA.empty_table(), empty)
    return [empty]


def kept_events_by_day(
    runtime: Runtime, first: dt.date, last: dt.date, columns: list[str]
) -> pa.Table:
    """``columns`` of :func:`daily_events` for the days ``[first, last]``, as kept (the days
    not kept yet rolled up on DuckDB)."""
    runtime.settings.scratch_dir.mkdir(parents=True, exist_ok=True)
    with (
        open_engine("duckdb") as engine,
        tempfile.TemporaryDirectory(prefix="days-", dir=runtime.settings.scratch_dir) as tmp,
    ):
        paths = events_by_day(runtime, engine, first, last, Path(tmp))
        return pa.concat_tables(pq.read_table(p, columns=columns) for p in paths)


def _day_name(files: list[Path], tombstones: list[Path]) -> str:
    """The kept day's file name: a digest of its event files (names and sizes: a batch is
    written once, under a new name) and of the tombstones."""
    named = [(f.name, f.stat().st_size) for f in sorted(files)] + [t.name for t in tombstones]
    digest = hashlib.sha256(json.dumps([DAYS_VERSION, named]).encode()).hexdigest()
    return f"{digest[:32]}.parquet"


def _write_day(path: Path, table: pa.Table) -> None:
    """Keep ``table`` at ``path`` (atomically), and drop the day's older files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{uuid.uuid4().hex}.tmp")
    pq.write_table(table, staged)
    staged.replace(path)
    for stale in path.parent.glob("*.parquet"):
        if stale != path:
            stale.unlink(missing_ok=True)


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
    query = select(Work.creator_id, as_stored(Work.published_at)).where(
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
