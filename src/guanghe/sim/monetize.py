"""The synthetic platform's market: advertisers and their campaigns, merchants and their
products, creators' authorisations, and the hidden purchase propensities orders follow.

Every ad row the audience model writes names a real campaign (chosen among those running,
targeting the creator's vertical and with budget left; a campaign's charges stop at its
budget) and every order a real product (drawn by the creator's vertical's hidden affinity for
the product's category, the product's appeal and its price). The store gets the advertisers,
campaigns (with what they delivered), merchants, products and authorisations; the ledger gets
each advertiser's deposit and each campaign's funded budget; the ground truth gets the hidden
affinities and appeals (``market.parquet``, ``category_affinity.parquet``) for benchmarks.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import insert
from sqlalchemy.orm import Session

from guanghe.monetize import deposit, fund_campaigns
from guanghe.runtime import Runtime
from guanghe.sim.population import Population
from guanghe.sim.vocabulary import VERTICAL_WORDS
from guanghe.store import Base

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

ADVERTISERS: Final = 10
CAMPAIGNS: Final = 50
MERCHANTS: Final = 12
VERTICALS: Final = 16
#: Two product categories per vertical, by the vertical's id.
CATEGORY_KINDS: Final = ("essentials", "gear")
COMMISSION_BP: Final = np.array([500, 1_000, 1_500, 2_000, 3_000], dtype=np.int64)
#: Chance a profile visitor buys a displayed product of perfect affinity and unit appeal.
BASE_CONVERSION: Final = 0.004
MARKET_FILE: Final = "market.parquet"
AFFINITY_FILE: Final = "category_affinity.parquet"


@dataclass(slots=True)
class Market:
    """Campaign arrays have shape (CAMPAIGNS,), product arrays (products,); index ``i`` is id
    ``i + 1``. ``spent_fen``, ``impressions`` and ``clicks`` accumulate over the days."""

    campaign_advertiser: Ints
    campaign_vertical: Ints  # 0: any vertical
    campaign_cpm_fen: Ints
    campaign_budget_fen: Ints
    campaign_first_day: Ints
    campaign_last_day: Ints  # beyond the period for campaigns still running at its end
    spent_fen: Ints
    impressions: Ints
    clicks: Ints
    product_merchant: Ints
    product_category: Ints
    product_price_fen: Ints
    product_commission_bp: Ints
    product_stock: Ints
    product_appeal: Floats
    product_title: list[str]
    affinity: Floats  # (VERTICALS, categories) hidden purchase affinity
    propensity_cdf: Floats  # (VERTICALS, products) cumulative purchase shares
    draws: np.random.Generator  # the market's own stream: it never shifts the audience's

    @property
    def categories(self) -> list[str]:
        return [
            f"{VERTICAL_WORDS[v].slug} {kind}"
            for v in range(1, VERTICALS + 1)
            for kind in CATEGORY_KINDS
        ]


def draw_market(rng: np.random.Generator, population: Population, days: int) -> Market:
    """Draw the market for ``population`` over ``days`` days."""
    products = int(np.clip(population.size // 4, 200, 5_000))
    categories = VERTICALS * len(CATEGORY_KINDS)
    home = np.repeat(np.arange(VERTICALS), len(CATEGORY_KINDS))
    affinity = rng.uniform(0.02, 0.25, size=(VERTICALS, categories))
    affinity[home, np.arange(categories)] = 1.0

    category = rng.integers(0, categories, size=products)
    price = (np.round(np.exp(rng.normal(np.log(6_000.0), 0.8, products)) / 100) * 100).astype(
        np.int64
    )
    price = np.maximum(price, 500)
    appeal = np.exp(rng.normal(0.0, 0.6, products))
    propensity = affinity[:, category] * appeal * np.sqrt(6_000.0 / price)
    cdf = np.cumsum(propensity, axis=1)
    cdf /= cdf[:, -1:]

    plays_scale = max(population.size, 1) * max(days, 1)  # budgets 5 % to 100 % of it, fen
    budget = np.round(np.exp(rng.uniform(np.log(0.05), np.log(1.0), CAMPAIGNS)) * plays_scale)
    first = rng.integers(0, max(days // 2, 1), CAMPAIGNS)
    running = rng.random(CAMPAIGNS) < 0.6
    last = np.where(running, days + 14, np.minimum(first + rng.integers(3, days + 3), days - 1))
    return Market(
        campaign_advertiser=1 + np.arange(CAMPAIGNS, dtype=np.int64) % ADVERTISERS,
        campaign_vertical=np.where(
            rng.random(CAMPAIGNS) < 0.6, rng.integers(1, VERTICALS + 1, CAMPAIGNS), 0
        ).astype(np.int64),
        campaign_cpm_fen=(1_500 + rng.integers(0, 45, CAMPAIGNS) * 100).astype(np.int64),
        campaign_budget_fen=budget.astype(np.int64),
        campaign_first_day=first.astype(np.int64),
        campaign_last_day=last.astype(np.int64),
        spent_fen=np.zeros(CAMPAIGNS, dtype=np.int64),
        impressions=np.zeros(CAMPAIGNS, dtype=np.int64),
        clicks=np.zeros(CAMPAIGNS, dtype=np.int64),
        product_merchant=1 + rng.integers(0, MERCHANTS, products).astype(np.int64),
        product_category=category.astype(np.int64),
        product_price_fen=price,
        product_commission_bp=COMMISSION_BP[rng.integers(0, COMMISSION_BP.size, products)],
        product_stock=rng.integers(0, 500, products).astype(np.int64)
        * (rng.random(products) > 0.05),
        product_appeal=appeal,
        product_title=_titles(rng, category),
        affinity=affinity,
        propensity_cdf=cdf,
        draws=rng,
    )


def _titles(rng: np.random.Generator, category: Ints) -> list[str]:
    picks = rng.integers(0, 1 << 30, size=(category.size, 3))
    titles = []
    for c, (a, s, h) in zip(category.tolist(), picks.tolist(), strict=True):
        words = VERTICAL_WORDS[1 + c // len(CATEGORY_KINDS)]
        kind = CATEGORY_KINDS[c % len(CATEGORY_KINDS)]
        subject = words.subjects[s % len(words.subjects)]
        tag = words.hashtags[h % len(words.hashtags)]
        titles.append(f"{words.adjectives[a % len(words.adjectives)]} {subject} {kind} #{tag}")
    return titles


def sell(market: Market, vertical: Ints) -> tuple[Ints, Ints, Ints]:
    """Products bought by buyers on profiles of creators in ``vertical`` (ids 1..16): their
    ids, order values and commissions (fen)."""
    u: Floats = np.asarray(market.draws.random(size=int(vertical.shape[0])))
    index = np.zeros(vertical.shape[0], dtype=np.int64)
    for v in np.unique(vertical).tolist():
        mine = vertical == v
        index[mine] = np.searchsorted(market.propensity_cdf[int(v) - 1], u[mine], side="right")
    index = np.minimum(index, market.product_price_fen.size - 1)
    price = market.product_price_fen[index]
    return index + 1, price, price * market.product_commission_bp[index] // 10_000


def serve_ads(market: Market, day: int, vertical: Ints, wanted: Ints) -> tuple[Ints, Ints, Ints]:
    """Campaign (0 when none can pay), impressions and charged fen of each creator's
    ``wanted`` profile impressions on ``day``; charges stop at each campaign's budget."""
    n = vertical.shape[0]
    live = (
        (market.campaign_first_day <= day)
        & (market.campaign_last_day >= day)
        & (market.spent_fen < market.campaign_budget_fen)
    )
    eligible = live[None, :] & (
        (market.campaign_vertical[None, :] == 0)
        | (market.campaign_vertical[None, :] == vertical[:, None])
    )
    weights = eligible * market.campaign_cpm_fen[None, :].astype(np.float64)
    total = weights.sum(axis=1)
    cdf = np.cumsum(weights, axis=1) / np.maximum(total, 1.0)[:, None]
    draws: Floats = np.asarray(market.draws.random(size=int(n)))
    choice = (cdf < draws[:, None]).sum(axis=1)
    campaign = np.where(total > 0, np.minimum(choice, CAMPAIGNS - 1) + 1, 0).astype(np.int64)
    impressions = np.where(campaign > 0, wanted, 0)
    cpm = market.campaign_cpm_fen[np.maximum(campaign - 1, 0)]
    requested = np.bincount(campaign, weights=impressions * cpm / 1_000, minlength=CAMPAIGNS + 1)
    left = np.concatenate([[0], market.campaign_budget_fen - market.spent_fen])
    fraction = np.minimum(1.0, left / np.maximum(requested, 1e-9))
    impressions = np.floor(impressions * fraction[campaign]).astype(np.int64)
    charged = impressions * cpm // 1_000
    market.spent_fen += np.bincount(campaign, weights=charged, minlength=CAMPAIGNS + 1)[1:].astype(
        np.int64
    )
    market.impressions += np.bincount(campaign, weights=impressions, minlength=CAMPAIGNS + 1)[
        1:
    ].astype(np.int64)
    return campaign, impressions, charged


def record_clicks(market: Market, campaign: Ints, clicks: Ints) -> None:
    """Add the day's clicks to their campaigns' totals."""
    market.clicks += np.bincount(campaign, weights=clicks, minlength=CAMPAIGNS + 1)[1:].astype(
        np.int64
    )


def market_rows(
    market: Market, population: Population, first_date: dt.date
) -> dict[str, list[dict[str, Any]]]:
    """Store rows by table: advertisers, merchants, campaigns, products, authorisations."""
    start = dt.datetime.combine(first_date, dt.time(), tzinfo=dt.UTC)
    at = [start + dt.timedelta(days=int(d)) for d in range(int(market.campaign_last_day.max()) + 2)]
    consents: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for i, (ads, shop) in enumerate(
        zip(population.ads_authorised.tolist(), population.commerce.tolist(), strict=True)
    ):
        if not (ads or shop):
            continue
        current.append(
            {"creator_id": i + 1, "profile_ads": ads, "product_display": shop, "updated_at": start}
        )
        consents.extend(
            {"creator_id": i + 1, "kind": kind, "granted": True, "changed_at": start}
            for kind, on in (("profile_ads", ads), ("product_display", shop))
            if on
        )
    names = market.categories
    return {
        "advertisers": [
            {"id": a, "name": f"Advertiser {a:02d}", "created_at": start}
            for a in range(1, ADVERTISERS + 1)
        ],
        "merchants": [
            {"id": m, "name": f"Merchant {m:02d}", "created_at": start}
            for m in range(1, MERCHANTS + 1)
        ],
        "campaigns": [
            {
                "id": k + 1,
                "advertiser_id": int(market.campaign_advertiser[k]),
                "name": f"Campaign {k + 1}",
                "status": "active",
                "billing": "cpm",
                "bid_fen": int(market.campaign_cpm_fen[k]),
                "budget_fen": int(market.campaign_budget_fen[k]),
                "reserved_millifen": int(market.spent_fen[k]) * 1_000,
                "served_impressions": int(market.impressions[k]),
                "clicks": int(market.clicks[k]),
                "pacing": "even",
                "target_verticals": [int(market.campaign_vertical[k])]
                if market.campaign_vertical[k]
                else [],
                "target_stages": [],
                "min_followers": 0,
                "max_followers": None,
                "excluded_verticals": [],
                "excluded_keywords": [],
                "starts_at": at[int(market.campaign_first_day[k])],
                "ends_at": at[int(market.campaign_last_day[k]) + 1],
                "creative_title": f"Offer {k + 1} from Advertiser "
                f"{int(market.campaign_advertiser[k]):02d}",
                "creative_url": f"https://ads.example/{k + 1}",
                "creative_image_url": None,
                "created_at": start,
            }
            for k in range(CAMPAIGNS)
        ],
        "products": [
            {
                "id": p + 1,
                "merchant_id": int(market.product_merchant[p]),
                "title": market.product_title[p],
                "description": "",
                "category": names[int(market.product_category[p])],
                "price_fen": int(market.product_price_fen[p]),
                "commission_bp": int(market.product_commission_bp[p]),
                "stock": int(market.product_stock[p]),
                "active": True,
                "created_at": start,
            }
            for p in range(market.product_price_fen.size)
        ],
        "creator_monetization": current,
        "monetization_consents": consents,
    }


def write_market(runtime: Runtime, rows: dict[str, list[dict[str, Any]]], market: Market) -> None:
    """Insert the market's rows, then deposit each advertiser's campaign budgets (plus a fifth)
    and fund every campaign in the ledger, all in one writer transaction."""
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    now = dt.datetime.now(dt.UTC)
    budgets = [
        (int(a), k + 1, int(b))
        for k, (a, b) in enumerate(
            zip(market.campaign_advertiser, market.campaign_budget_fen, strict=True)
        )
    ]

    def work(session: Session) -> None:
        for name, table_rows in rows.items():
            for start in range(0, len(table_rows), 10_000):
                session.execute(insert(tables[name]), table_rows[start : start + 10_000])
        for advertiser in range(1, ADVERTISERS + 1):
            total = sum(b for a, _, b in budgets if a == advertiser)
            if total:
                deposit(session, advertiser, key="sim", amount_fen=total * 6 // 5, now=now)
        fund_campaigns(session, budgets, now=now)

    runtime.write(work)


def write_market_truth(directory: Path, market: Market) -> None:
    """The hidden appeal of each product and affinity of each vertical for each category."""
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "product_id": np.arange(1, market.product_price_fen.size + 1),
                "category": market.product_category,
                "appeal": market.product_appeal,
            }
        ),
        directory / MARKET_FILE,
    )
    pq.write_table(
        pa.table({f"category_{c}": market.affinity[:, c] for c in range(market.affinity.shape[1])}),
        directory / AFFINITY_FILE,
    )


def purchase_probability(
    affinity: Floats, appeal: Floats, category: Ints, price_fen: Ints, vertical: Ints
) -> Floats:
    """Hidden chance (n, m) that a visitor of a profile in ``vertical`` (n,) buys each product
    (m,) shown there: BASE_CONVERSION × affinity × appeal × a price factor."""
    factor = appeal * np.sqrt(6_000.0 / price_fen)
    return np.asarray(
        BASE_CONVERSION * affinity[vertical - 1][:, category] * factor[None, :], dtype=np.float64
    )


def pair_purchase_probability(
    affinity: Floats, appeal: Floats, category: Ints, price_fen: Ints, vertical: Ints
) -> Floats:
    """:func:`purchase_probability` of aligned pairs: the chance (k,) that a visitor of a
    profile in ``vertical[j]`` buys the product ``j`` (``appeal[j]``, ``category[j]``,
    ``price_fen[j]``) shown there."""
    factor = appeal * np.sqrt(6_000.0 / price_fen)
    return np.asarray(BASE_CONVERSION * affinity[vertical - 1, category] * factor, np.float64)
