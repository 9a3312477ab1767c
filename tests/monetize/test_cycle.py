"""The cycle's monetization steps on the seed platform: matching writes placements only for
creators who display products, ad spend settles campaigns' charges through the ledger (never
past a budget), settlement pays the creator's share of what was collected, and re-running
changes nothing."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import sqlalchemy as sa
from fastapi.testclient import TestClient

from guanghe.events import EVENT_SCHEMA
from guanghe.ledger import reconcile
from guanghe.pipelines import CycleContext, ad_spend_step, matching_step, settlement_step
from guanghe.runtime import Runtime
from guanghe.snapshots import read_snapshot
from guanghe.store import EarningsEstimate, LedgerTransfer, ProductPlacement
from tests.monetize.conftest import Market, campaign_body, opt_in, product_body

DAY = dt.date(2026, 11, 28)


def _events(campaign_id: int, product_id: int) -> pa.Table:
    ts = dt.datetime.combine(DAY, dt.time(9), tzinfo=dt.UTC)
    rows = [
        {"event_id": "p1", "type": "play", "ts": ts, "creator_id": 1, "count": 4_000},
        {"event_id": "p2", "type": "play", "ts": ts, "creator_id": 2, "count": 1_000},
        {"event_id": "i1", "type": "ad_impression", "ts": ts, "creator_id": 1, "count": 100,
         "campaign_id": campaign_id, "amount_fen": 300},
        {"event_id": "i2", "type": "ad_impression", "ts": ts, "creator_id": 1, "count": 3_000,
         "campaign_id": campaign_id, "amount_fen": 9_000},
        {"event_id": "i3", "type": "ad_impression", "ts": ts, "creator_id": 1, "count": 500,
         "campaign_id": campaign_id, "amount_fen": 1_500},
        {"event_id": "o1", "type": "order", "ts": ts, "creator_id": 2, "count": 1,
         "amount_fen": 19_900, "commission_fen": 2_985, "product_id": product_id},
    ]  # fmt: skip
    return pa.Table.from_pylist(rows, schema=EVENT_SCHEMA)


def test_matching_ad_spend_and_settlement(
    client: TestClient, market: Market, runtime: Runtime
) -> None:
    campaign = client.post(
        "/v1/campaigns", json=campaign_body(budget_fen=10_000), headers=market.headers("advertiser")
    ).json()
    wok = client.post(
        "/v1/products",
        json=product_body(title="Demo tag0 wok", category="kitchen"),
        headers=market.headers("merchant"),
    ).json()
    for i, category in enumerate(("kitchen", "kitchen", "kitchen", "toys", "garden")):
        client.post(
            "/v1/products",
            json=product_body(title=f"Item {i} tag{i % 3}", category=category),
            headers=market.headers("other_merchant"),
        )
    client.post("/v1/products", json=product_body(stock=0), headers=market.headers("merchant"))
    opt_in(client, market, 1, "profile_ads", True)
    opt_in(client, market, 2, "product_display", True)
    runtime.event_log.append(_events(campaign["id"], wok["id"]))

    matching_step.run(CycleContext.for_date(runtime, DAY))
    spent = ad_spend_step.charge_day(runtime, DAY)
    settlement_step.settle_day(runtime, DAY)

    with runtime.sessions() as session:
        placed = session.execute(
            sa.select(ProductPlacement.creator_id, ProductPlacement.product_id).order_by(
                ProductPlacement.rank
            )
        ).all()
        estimates = {e.creator_id: e for e in session.scalars(sa.select(EarningsEstimate))}
        assert reconcile(session) == []
    assert {c for c, _ in placed} == {2}
    products = [p for _, p in placed]
    assert len(set(products)) == len(products) == 5  # the out-of-stock one is not placed
    assert sum(p != wok["id"] for p in products) == 4  # at most three of one category
    snapshot = read_snapshot(runtime.settings.snapshots_dir, "product_matches", DAY)
    assert snapshot.num_rows == 5
    assert estimates[1].profile_views_28d == 3_600
    assert estimates[1].profile_ads_fen_28d > 0
    assert estimates[2].product_display_fen_28d > 0

    # 300 + 9,000 fit the 10,000 budget; 1,500 more would pass it and is refused.
    assert (spent.transfers_created, spent.spent_fen) == (2, 9_300)
    assert [(p.kind, p.id, p.affects_money) for p in spent.problems] == [("ad_event", "i3", True)]
    again = ad_spend_step.charge_day(runtime, DAY)
    assert (again.transfers_created, again.spent_fen) == (0, 0)

    earnings = client.get("/v1/earnings/1", headers=market.headers("creator1")).json()
    assert earnings["by_source"]["profile_ads"] == (300 + 9_000) // 2  # only what was collected
    assert earnings["by_source"]["institution_split"] == 0  # no contract in force
    seller = client.get("/v1/earnings/2", headers=market.headers("creator2")).json()
    assert seller["pending_commission_fen"] == 2_985
    view = client.get(f"/v1/campaigns/{campaign['id']}", headers=market.headers("advertiser"))
    assert view.json()["spent_fen"] == 9_300
    with runtime.sessions() as session:
        codes = set(session.scalars(sa.select(LedgerTransfer.code)))
    assert {"ad_spend", "ad_revenue_share", "commission", "campaign_budget"} <= codes


def test_withdrawn_product_display_clears_the_page_on_the_next_view(
    client: TestClient, market: Market, runtime: Runtime
) -> None:
    client.post("/v1/products", json=product_body(), headers=market.headers("merchant"))
    opt_in(client, market, 3, "product_display", True)
    matching_step.run(CycleContext.for_date(runtime, DAY))
    ranker = market.headers("ranker")
    assert len(client.get("/v1/profile-slots/3", headers=ranker).json()["products"]) == 1
    opt_in(client, market, 3, "product_display", False)
    assert client.get("/v1/profile-slots/3", headers=ranker).json()["products"] == []
