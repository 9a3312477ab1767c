"""The cycle honours the event log's quarantine: a quarantined event is neither settled nor
counted in the features, on DuckDB and on Spark."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from guanghe.events import quarantine_events
from guanghe.pipelines import ad_spend_step
from guanghe.pipelines.context import CycleContext
from guanghe.pipelines.engines import BatchEngine, DuckDBEngine, SparkEngine
from guanghe.pipelines.feature_step import compute_features
from guanghe.pipelines.settlement_step import settle_day
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import Campaign
from tests.conftest import insert_seed_platform
from tests.pipelines.conftest import at, day, events
from tests.pipelines.sample import AS_OF, log_sample_events
from tests.pipelines.test_settlement import balances

AT = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)


def test_a_quarantined_ad_impression_is_not_settled(revenue_platform: Runtime) -> None:
    quarantine_events(revenue_platform.event_log, ["ad1"], reason="bot traffic", by="ops-li", at=AT)
    for n in range(12):
        settle_day(revenue_platform, day(n))
    books = balances(revenue_platform)
    # Without ad1 creator 1 has no ad revenue (400 to them, 100 to institution 1 with it).
    assert books[("creator", 1, "earnings")] == (0, 0)
    assert books[("institution", 1, "earnings")] == (0, 0)
    assert books[("creator", 3, "earnings")] == (500 + 360, 0)  # the rest of the day settles


@pytest.fixture
def sample_runtime(tmp_path: Path) -> Runtime:
    runtime = Runtime(Settings(data_dir=tmp_path / "data", database_url=""))
    runtime.init()
    insert_seed_platform(runtime)
    log_sample_events(runtime)
    return runtime


def _organic_exposures(runtime: Runtime, engine: BatchEngine) -> int:
    rows = compute_features(runtime, AS_OF, engine).to_pylist()
    return int(next(r for r in rows if r["creator_id"] == 2)["exposures_organic_7d"])


def _quarantine_one_organic_exposure(runtime: Runtime) -> None:
    [(event_id,)] = (
        runtime.event_log.connect()
        .execute(
            "SELECT event_id FROM events WHERE creator_id = 2 AND type = 'exposure' "
            "AND NOT boosted AND CAST(ts AS DATE) = ?",
            [AS_OF],
        )
        .fetchall()
    )
    quarantine_events(runtime.event_log, [event_id], reason="test traffic", by="ops", at=AT)


def test_a_quarantined_exposure_is_not_counted_on_duckdb(sample_runtime: Runtime) -> None:
    assert _organic_exposures(sample_runtime, DuckDBEngine()) == 3 * 200
    _quarantine_one_organic_exposure(sample_runtime)
    assert _organic_exposures(sample_runtime, DuckDBEngine()) == 2 * 200


def test_a_quarantined_exposure_is_not_counted_on_spark(
    sample_runtime: Runtime, spark: Any
) -> None:
    _quarantine_one_organic_exposure(sample_runtime)
    assert _organic_exposures(sample_runtime, SparkEngine(spark)) == 2 * 200


def test_an_event_id_no_store_can_hold_stops_no_cycle(revenue_platform: Runtime) -> None:
    """A row logged before ingest refused such ids (a NUL in the id, then an UntranslatableCharacter
    on PostgreSQL at every run): reported and skipped; the rest of the day settles."""
    with revenue_platform.sessions() as session:
        campaign = session.scalars(select(Campaign.id)).one()
    revenue_platform.event_log.append(
        events(
            [
                {
                    "event_id": "ad\x00poison",
                    "type": "ad_impression",
                    "ts": at(day(0)),
                    "creator_id": 3,
                    "count": 10,
                    "amount_fen": 100,
                    "campaign_id": campaign,
                },
                {
                    "event_id": "o\x00poison",
                    "type": "order",
                    "ts": at(day(0)),
                    "creator_id": 3,
                    "amount_fen": 100,
                    "commission_fen": 7,
                },
            ]
        )
    )
    reports = [ad_spend_step.run(CycleContext.for_date(revenue_platform, day(n))) for n in (0,)]
    for n in range(12):
        result = settle_day(revenue_platform, day(n))
        if n == 0:
            assert {(p.kind, p.id, p.affects_money) for p in result.problems} == {
                ("event", "ad\\x00poison", True),
                ("event", "o\\x00poison", True),
            }
    assert [(p.kind, p.id) for p in reports[0].problems] == [("event", "ad\\x00poison")]
    assert "NUL" in reports[0].problems[0].reason
    books = balances(revenue_platform)
    assert books[("creator", 1, "earnings")] == (400, 0)  # ad1 settled beside the poisoned rows
    assert books[("creator", 3, "earnings")] == (500 + 360, 0)
