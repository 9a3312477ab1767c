"""The feature pipeline: known window sums, DuckDB and Spark agree, the cycle is repeatable."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from guanghe.errors import InvalidInput
from guanghe.events import EVENT_SCHEMA
from guanghe.pipelines import run_cycle
from guanghe.pipelines.engines import DuckDBEngine, SparkEngine
from guanghe.pipelines.feature_step import DAYS_DIR, compute_features
from guanghe.pipelines.traffic_step import recent_activity
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.snapshots import read_snapshot, snapshot_path
from guanghe.traffic.response import DailyActivity, daily_activity
from tests.conftest import insert_seed_platform
from tests.pipelines.sample import AS_OF, log_sample_events
from tests.seed import SeedPlatform


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Runtime:
    runtime = Runtime(Settings(data_dir=tmp_path / "data", database_url=""))
    runtime.init()
    insert_seed_platform(runtime)
    log_sample_events(runtime)
    return runtime


def test_window_sums_match_the_hand_made_events(sqlite_runtime: Runtime) -> None:
    engine = DuckDBEngine()
    rows = {r["creator_id"]: r for r in compute_features(sqlite_runtime, AS_OF, engine).to_pylist()}
    assert sorted(rows) == [1, 2, 3, 4, 5, 6]
    two = rows[2]
    # Days 0, 3, 6 fall in the 7-day window; 0..27 step 3 (10 days) in 28; 0..39 (14) in 90.
    assert two["exposures_organic_7d"] == 3 * 200
    assert two["exposures_boosted_7d"] == 2 * 20  # days 0 and 6
    assert two["plays_28d"] == 10 * 100
    assert two["follows_90d"] == 14 * 2
    assert two["unfollows_90d"] == 14
    assert two["gmv_fen_28d"] == 10 * 5_000
    assert two["income_sources_28d"] == 2
    assert two["engagement_rate_28d"] == pytest.approx(0.02)
    assert rows[1]["income_sources_28d"] == 0
    # Seed works: creators 1 and 2 published on days 0..4 before NOW (2026-11-28).
    assert rows[1]["works_7d"] == 4
    assert rows[1]["continuous_months"] == 1
    assert rows[3]["tenure_days"] == (AS_OF - dt.date(2024, 1, 3)).days


def test_duckdb_and_spark_compute_identical_features(sqlite_runtime: Runtime, spark: Any) -> None:
    on_duckdb = compute_features(sqlite_runtime, AS_OF, DuckDBEngine())
    on_spark = compute_features(sqlite_runtime, AS_OF, SparkEngine(spark))
    assert on_duckdb.schema == on_spark.schema
    assert on_duckdb.to_pylist() == on_spark.to_pylist()
    assert on_duckdb.equals(on_spark)


def test_cycle_writes_snapshots_and_rerun_is_identical(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    log_sample_events(runtime)
    run_cycle(runtime, AS_OF)
    root = runtime.settings.snapshots_dir
    first = {
        n: snapshot_path(root, n, AS_OF).read_bytes()
        for n in ("creator_features", "creator_growth")
    }
    growth = read_snapshot(root, "creator_growth", AS_OF)
    assert growth.num_rows == len(seed_platform.creator_ids)
    run_cycle(runtime, AS_OF)
    again = {n: snapshot_path(root, n, AS_OF).read_bytes() for n in first}
    assert again == first
    assert pq.read_table(snapshot_path(root, "creator_features", AS_OF)).num_rows == 6


def test_unknown_engine_is_rejected(sqlite_runtime: Runtime) -> None:
    with pytest.raises(InvalidInput, match="unknown batch engine 'flink'"):
        run_cycle(sqlite_runtime, AS_OF, engine="flink")


def test_kept_days_are_read_back_and_a_day_with_late_events_is_rolled_up_again(
    sqlite_runtime: Runtime,
) -> None:
    engine = DuckDBEngine()
    kept_dir = sqlite_runtime.settings.scratch_dir / DAYS_DIR / "duckdb"
    compute_features(sqlite_runtime, AS_OF, engine)
    kept = {p.parent.name: p for p in kept_dir.glob("date=*/*.parquet")}
    assert len(kept) == 14  # every third day of the 40 with events
    late_day = AS_OF - dt.timedelta(days=3)
    late = {
        "event_id": "late-exposure",
        "type": "exposure",
        "creator_id": 2,
        "count": 5,
        "boosted": False,
        "ts": dt.datetime.combine(late_day, dt.time(23), tzinfo=dt.UTC),
    }
    sqlite_runtime.event_log.append(pa.Table.from_pylist([late], schema=EVENT_SCHEMA))

    again = compute_features(sqlite_runtime, AS_OF, engine)
    two = next(r for r in again.to_pylist() if r["creator_id"] == 2)
    assert two["exposures_organic_7d"] == 3 * 200 + 5
    now_kept = {p.parent.name: p for p in kept_dir.glob("date=*/*.parquet")}
    assert {day for day in kept if now_kept[day] != kept[day]} == {f"date={late_day}"}
    shutil.rmtree(kept_dir)
    assert compute_features(sqlite_runtime, AS_OF, engine).equals(again)


def test_the_traffic_steps_activity_from_the_kept_days_is_the_event_logs(
    sqlite_runtime: Runtime,
) -> None:
    # A creator-day with a play only has a kept row but no exposure or follow to fit on.
    play = {"event_id": "play-only", "type": "play", "creator_id": 3, "count": 4}
    play["ts"] = dt.datetime.combine(AS_OF - dt.timedelta(days=1), dt.time(9), tzinfo=dt.UTC)
    sqlite_runtime.event_log.append(pa.Table.from_pylist([play], schema=EVENT_SCHEMA))
    first = AS_OF - dt.timedelta(days=55)

    def rows(activity: DailyActivity) -> list[tuple[float, ...]]:
        columns = (activity.creator_id, activity.organic, activity.boosted, activity.follows)
        return sorted(zip(*(c.tolist() for c in columns), strict=True))

    expected = rows(daily_activity(sqlite_runtime.event_log, first, AS_OF))
    assert rows(recent_activity(sqlite_runtime, first, AS_OF)) == expected
    assert len(expected) == 6 * 14  # the play-only day is not among them
