"""Advertisers' campaigns and merchants' products that event rows may name, inserted with
fixed ids."""

from __future__ import annotations

import datetime as dt

from guanghe.runtime import Runtime
from guanghe.store import Advertiser, Campaign, Merchant, Product, transaction

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def insert_campaigns_and_products(
    runtime: Runtime, *, campaign_ids: list[int], product_ids: list[int]
) -> None:
    """One advertiser owning ``campaign_ids`` and one merchant owning ``product_ids``."""
    with transaction(runtime.sessions) as session:
        advertiser = Advertiser(name="Acme Noodles", created_at=NOW)
        merchant = Merchant(name="Kitchen Shop", created_at=NOW)
        session.add_all([advertiser, merchant])
        session.flush()
        session.add_all(
            Campaign(
                id=cid,
                advertiser_id=advertiser.id,
                name=f"Campaign {cid}",
                billing="cpm",
                bid_fen=3_000,
                budget_fen=10_000,
                starts_at=NOW,
                ends_at=NOW + dt.timedelta(days=30),
                creative_title="Try Acme noodles",
                creative_url="https://acme.example/noodles",
                created_at=NOW,
            )
            for cid in campaign_ids
        )
        session.add_all(
            Product(
                id=pid,
                merchant_id=merchant.id,
                title=f"Product {pid}",
                category="kitchenware",
                price_fen=12_900,
                commission_bp=1_000,
                stock=10,
                created_at=NOW,
            )
            for pid in product_ids
        )
