"""What creators earn from monetization, as the ledger records it, and the totals operators see.

Sources: profile-page ad revenue share (``ad_revenue_share``), commission on orders
(``commission_post``; reserved while the return window is open), task, incentive and Torch
rewards (the ledger's reward income codes), less the institution's split and the commission
of orders refunded after their return window (taken back from earnings, or recorded as owed
when the earnings had been paid out).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.ledger import code_totals, find_account, purpose_totals, top_owner
from guanghe.ledger.settlement import INCOME_CODES, OWED_CODE, clawback, earnings
from guanghe.store import Campaign, CreatorMonetization, EarningsEstimate, Product

#: Ledger codes of what flows in and out of a creator's earnings, by the source shown.
CREDIT_SOURCES = INCOME_CODES
DEBIT_SOURCES = {
    "ad_institution_split": "institution_split",
    "commission_institution_split": "institution_split",
    "commission_reversal": "refunds",
}
#: Split back to the creator when a refund takes the commission back (into earnings, or off
#: what the creator owes).
SPLIT_RETURNS = ("commission_split_reversal", "commission_split_clawback")


@dataclass(frozen=True, slots=True)
class CreatorEarnings:
    """A creator's earnings by source (fen, posted), commission still in its return window,
    the balance of the earnings account, and what the creator owes back (refunded commission
    the earnings could not cover, repaid from the next payouts)."""

    creator_id: int
    account_id: int | None
    by_source: dict[str, int]
    pending_commission_fen: int
    balance_fen: int
    owed_fen: int


@dataclass(frozen=True, slots=True)
class Estimate:
    """What authorising is worth (fen over 28 days, the creator's share before any split)."""

    creator_id: int
    as_of: dt.date | None
    profile_views_28d: int
    profile_ads_fen_28d: int
    product_display_fen_28d: int
    basis: str


@dataclass(frozen=True, slots=True)
class MonetizationTotals:
    """Platform-wide figures for operators (fen)."""

    creators_with_ads: int
    creators_with_products: int
    active_campaigns: int
    campaign_budget_fen: int
    committed_fen: int
    ad_spend_fen: int
    creator_ad_share_fen: int
    active_products: int
    commission_posted_fen: int
    commission_pending_fen: int


def creator_earnings(session: Session, creator_id: int) -> CreatorEarnings:
    """The creator's earnings by source from the ledger (zeros before any settlement)."""
    account = find_account(session, earnings("creator", creator_id))
    by_source = dict.fromkeys((*CREDIT_SOURCES.values(), *sorted(set(DEBIT_SOURCES.values()))), 0)
    if account is None:
        return CreatorEarnings(creator_id, None, by_source, 0, 0, 0)
    credited = code_totals(session, CREDIT_SOURCES, account_id=account.id, side="credit")
    debited = code_totals(session, DEBIT_SOURCES, account_id=account.id, side="debit")
    for code, amount in credited.items():
        by_source[CREDIT_SOURCES[code]] += amount
    for code, amount in debited.items():
        by_source[DEBIT_SOURCES[code]] -= amount
    owing = find_account(session, clawback("creator", creator_id))
    accounts = [account.id] if owing is None else [account.id, owing.id]
    for account_id in accounts:
        returned = code_totals(session, SPLIT_RETURNS, account_id=account_id, side="credit")
        by_source["institution_split"] += sum(returned.values())
    owed = 0
    if owing is not None:
        taken = code_totals(session, [OWED_CODE], account_id=owing.id, side="debit")
        by_source["refunds"] -= sum(taken.values())
        owed = -owing.balance
    return CreatorEarnings(
        creator_id, account.id, by_source, account.credits_pending, account.balance, owed
    )


def earnings_estimate(session: Session, creator_id: int) -> Estimate:
    """The cycle's latest estimate for the creator (zeros before the first matching step)."""
    row = session.get(EarningsEstimate, creator_id)
    if row is None:
        return Estimate(creator_id, None, 0, 0, 0, "no estimate yet: the daily cycle makes one")
    return Estimate(
        creator_id,
        row.as_of,
        row.profile_views_28d,
        row.profile_ads_fen_28d,
        row.product_display_fen_28d,
        row.basis,
    )


def monetization_totals(session: Session) -> MonetizationTotals:
    """Totals across the platform for the operators' view."""
    cm, c = CreatorMonetization, Campaign
    with_ads, with_products = session.execute(
        select(
            func.count().filter(cm.profile_ads.is_(True)),
            func.count().filter(cm.product_display.is_(True)),
        )
    ).one()
    active, budget, reserved = session.execute(
        select(
            func.count().filter(c.status == "active"),
            func.coalesce(func.sum(c.budget_fen), 0),
            func.coalesce(func.sum(c.reserved_millifen), 0),
        )
    ).one()
    sums = code_totals(session, ["ad_spend", "ad_revenue_share", "commission_post"])
    pending = purpose_totals(session, owner_kind="creator", purpose="earnings").credits_pending
    products = session.scalar(
        select(func.count()).select_from(Product).where(Product.active.is_(True))
    )
    return MonetizationTotals(
        creators_with_ads=int(with_ads),
        creators_with_products=int(with_products),
        active_campaigns=int(active),
        campaign_budget_fen=int(budget),
        committed_fen=-(-int(reserved) // 1_000),
        ad_spend_fen=sums.get("ad_spend", 0),
        creator_ad_share_fen=sums.get("ad_revenue_share", 0),
        active_products=int(products or 0),
        commission_posted_fen=sums.get("commission_post", 0),
        commission_pending_fen=pending,
    )


def showcase_subjects(session: Session) -> list[tuple[str, int]]:
    """(role, subject) of the creator who earned most from monetization, the advertiser who
    spent most and the merchant with most products: whose pages a demo shows."""
    found: list[tuple[str, int]] = []
    creator = top_owner(
        session, "creator", ["ad_revenue_share", "commission_post", "commission"], side="credit"
    )
    advertiser = top_owner(session, "advertiser", ["ad_spend"], side="debit")
    found += [
        (role, top) for role, top in (("creator", creator), ("advertiser", advertiser)) if top
    ]
    merchant = session.execute(
        select(Product.merchant_id)
        .group_by(Product.merchant_id)
        .order_by(func.count().desc(), Product.merchant_id)
        .limit(1)
    ).scalar_one_or_none()
    if merchant is not None:
        found.append(("merchant", int(merchant)))
    return found
