"""Monetization fixtures: an app client over the seed platform, a funded advertiser and a
merchant, and helpers to create campaigns and products through the API."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient

from guanghe.app import create_app
from guanghe.events import EVENT_SCHEMA
from guanghe.monetize import deposit, register_party
from guanghe.runtime import Runtime
from guanghe.store import session_factory, transaction, writer_engine
from tests.seed import SeedPlatform

NOW = dt.datetime.now(dt.UTC)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Market:
    """Two advertisers (the first funded with 1,000 CNY) and two merchants, with tokens."""

    advertiser: int
    other_advertiser: int
    merchant: int
    other_merchant: int
    tokens: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return auth(self.tokens[who])


@pytest.fixture
def client(runtime: Runtime, seed_platform: SeedPlatform) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def market(runtime: Runtime, seed_platform: SeedPlatform, token_for: Callable[..., str]) -> Market:
    with transaction(session_factory(writer_engine(runtime.engine))) as session:
        ids = [
            register_party(session, kind, name, now=NOW).id
            for kind, name in (
                ("advertiser", "Acme Noodles"),
                ("advertiser", "Bolt Motors"),
                ("merchant", "Kitchen Shop"),
                ("merchant", "Gadget Store"),
            )
        ]
        deposit(session, ids[0], key="initial", amount_fen=100_000, now=NOW)
        deposit(session, ids[1], key="initial", amount_fen=100_000, now=NOW)
    tokens = {
        "operator": token_for("operator"),
        "ranker": token_for("ranker"),
        "advertiser": token_for("advertiser", ids[0]),
        "other_advertiser": token_for("advertiser", ids[1]),
        "merchant": token_for("merchant", ids[2]),
        "other_merchant": token_for("merchant", ids[3]),
        **{f"creator{c}": token_for("creator", c) for c in seed_platform.creator_ids},
    }
    return Market(ids[0], ids[1], ids[2], ids[3], tokens)


def campaign_body(**overrides: Any) -> dict[str, Any]:
    """A valid CPM campaign running from an hour ago to a day ahead, paced ASAP."""
    body: dict[str, Any] = {
        "name": "Noodle week",
        "billing": "cpm",
        "bid_fen": 3_000,
        "budget_fen": 10_000,
        "starts_at": (NOW - dt.timedelta(hours=1)).isoformat(),
        "ends_at": (NOW + dt.timedelta(days=1)).isoformat(),
        "pacing": "asap",
        "creative_title": "Try Acme noodles",
        "creative_url": "https://acme.example/noodles",
    }
    return body | overrides


def product_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Cast iron wok",
        "category": "kitchenware",
        "price_fen": 19_900,
        "commission_bp": 1_500,
        "stock": 40,
    }
    return body | overrides


def opt_in(client: TestClient, market: Market, creator_id: int, kind: str, granted: bool) -> None:
    response = client.put(
        f"/v1/authorisations/{creator_id}/{kind}",
        json={"granted": granted},
        headers=market.headers(f"creator{creator_id}"),
    )
    assert response.status_code == 200, response.text


def append_ad_impressions(
    runtime: Runtime, campaign_id: int, day: dt.date, charges: list[tuple[str, int, int]]
) -> None:
    """Log one ``ad_impression`` event of 100 impressions per ``(event_id, creator_id, fen)``
    charged to ``campaign_id`` at 09:00 on ``day``."""
    ts = dt.datetime.combine(day, dt.time(9), tzinfo=dt.UTC)
    rows = [
        dict.fromkeys(EVENT_SCHEMA.names)
        | {
            "event_id": event,
            "type": "ad_impression",
            "ts": ts,
            "creator_id": creator,
            "count": 100,
            "campaign_id": campaign_id,
            "amount_fen": fen,
        }
        for event, creator, fen in charges
    ]
    runtime.event_log.append(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
