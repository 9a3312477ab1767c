"""Pipeline fixtures: one local Spark session for the whole test session (started on first
use), and a platform with a fortnight of revenue events to settle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from guanghe.access import Principal
from guanghe.events import EVENT_SCHEMA
from guanghe.institutions import sign_contract
from guanghe.monetize import CampaignSpec, create_campaign, deposit, register_party
from guanghe.runtime import Runtime
from guanghe.store import INCOME_SOURCES, transaction
from tests.seed import SeedPlatform


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from guanghe.pipelines.engines import spark_session

    session = spark_session("local[2]", "guanghe-tests")
    yield session
    session.stop()


D0 = dt.date(2026, 11, 20)


def events(rows: list[dict[str, object]]) -> pa.Table:
    full = [
        {name: row.get(name) for name in EVENT_SCHEMA.names} | {"count": row.get("count", 1)}
        for row in rows
    ]
    return pa.Table.from_pylist(full, schema=EVENT_SCHEMA)


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def day(n: int) -> dt.date:
    return D0 + dt.timedelta(days=n)


def funded_campaign(runtime: Runtime, budget_fen: int) -> int:
    """A new advertiser's campaign with ``budget_fen`` funded in the ledger, so that ad rows
    naming it are charged (settlement pays creators only on collected charges)."""
    now = dt.datetime.now(dt.UTC)
    with transaction(runtime.sessions) as session:
        advertiser = register_party(session, "advertiser", "Test advertiser", now=now).id
        deposit(session, advertiser, key="fund", amount_fen=budget_fen, now=now)
        spec = CampaignSpec(
            name="Test campaign",
            billing="cpm",
            bid_fen=1_000,
            budget_fen=budget_fen,
            starts_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            ends_at=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
            creative_title="Test ad",
            creative_url="https://example.com/ad",
        )
        operator = Principal(user_id=0, role="operator", subject_id=None)
        return create_campaign(session, operator, advertiser, spec, now=now).id


@pytest.fixture
def revenue_platform(runtime: Runtime, seed_platform: SeedPlatform) -> Runtime:
    with transaction(runtime.sessions) as session:
        for institution, creator, split_bp, valid_from in (
            (1, 1, 2_000, dt.date(2024, 1, 1)),
            (2, 3, 1_000, day(3)),
        ):
            sign_contract(
                session,
                institution_id=institution,
                creator_id=creator,
                splits=dict.fromkeys(INCOME_SOURCES, split_bp),
                valid_from=valid_from,
                status="active",
            )
    campaign = funded_campaign(runtime, budget_fen=10_000)
    runtime.event_log.append(
        events(
            [
                {
                    "event_id": "ad1",
                    "type": "ad_impression",
                    "ts": at(day(0)),
                    "creator_id": 1,
                    "count": 100,
                    "amount_fen": 1_000,
                    "campaign_id": campaign,
                },
                {
                    "event_id": "ad2",
                    "type": "ad_click",
                    "ts": at(day(0)),
                    "creator_id": 4,
                    "amount_fen": 1,
                    "campaign_id": campaign,
                },
                {
                    "event_id": "o1",
                    "type": "order",
                    "ts": at(day(0)),
                    "creator_id": 3,
                    "amount_fen": 9_900,
                    "commission_fen": 500,
                },
                {
                    "event_id": "o2",
                    "type": "order",
                    "ts": at(day(0)),
                    "creator_id": 1,
                    "amount_fen": 5_000,
                    "commission_fen": 300,
                },
                {
                    "event_id": "o3",
                    "type": "order",
                    "ts": at(day(0)),
                    "creator_id": 2,
                    "amount_fen": 2_000,
                    "commission_fen": 200,
                },
                {
                    "event_id": "o4",
                    "type": "order",
                    "ts": at(day(0)),
                    "creator_id": 1,
                    "amount_fen": 1_000,
                    "commission_fen": 100,
                },
                {
                    "event_id": "r2",
                    "type": "refund",
                    "ts": at(day(2)),
                    "creator_id": 1,
                    "ref_event_id": "o2",
                },
                {
                    "event_id": "ad3",
                    "type": "ad_impression",
                    "ts": at(day(4)),
                    "creator_id": 3,
                    "count": 10,
                    "amount_fen": 800,
                    "campaign_id": campaign,
                },
                {
                    "event_id": "r3",
                    "type": "refund",
                    "ts": at(day(9)),
                    "creator_id": 2,
                    "ref_event_id": "o3",
                },
                {
                    "event_id": "r4",
                    "type": "refund",
                    "ts": at(day(10)),
                    "creator_id": 1,
                    "ref_event_id": "o4",
                },
            ]
        )
    )
    return runtime
