"""What creators earn from monetization, as the ledger records it, and the totals operators see.

Sources: profile-page ad revenue share (``ad_revenue_share``), commission on orders
(``commission_post``; reserved while the return window is open), less the institution's split
and reversals of refunded commission.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.ledger.settlement import earnings
from guanghe.store import (
    Campaign,
    CreatorMonetization,
    EarningsEstimate,
    LedgerAccount,
    LedgerTransfer,
    Product,
)

#: Ledger codes of what flows in and out of a creator's earnings, by the source shown.
CREDIT_SOURCES = {"ad_revenue_share": "profile_ads", "commission_post": "commission"}
DEBIT_SOURCES = {
    "ad_institution_split": "institution_split",
    "commission_institution_split": "institution_split",
    "commission_reversal": "refunds",
}


@dataclass(frozen=True, slots=True)
class CreatorEarnings:
    """A creator's earnings by source (fen, posted), commission still in its return window,
    and the balance of the earnings account."""

    creator_id: int
    account_id: int | None
    by_source: dict[str, int]
    pending_commission_fen: int
    balance_fen: int


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
    key = earnings("creator", creator_id)
    a = LedgerAccount
    account = session.execute(
        select(a).where(
            a.owner_kind == key.owner_kind,
            a.owner_id == key.owner_id,
            a.purpose == key.purpose,
            a.unit == key.unit,
        )
    ).scalar_one_or_none()
    by_source = dict.fromkeys((*CREDIT_SOURCES.values(), *sorted(set(DEBIT_SOURCES.values()))), 0)
    if account is None:
        return CreatorEarnings(creator_id, None, by_source, 0, 0)
    t = LedgerTransfer
    for codes, side, sign in (
        (CREDIT_SOURCES, t.credit_account_id, 1),
        (DEBIT_SOURCES, t.debit_account_id, -1),
    ):
        rows = session.execute(
            select(t.code, func.sum(t.amount))
            .where(side == account.id, t.code.in_(list(codes)))
            .group_by(t.code)
        )
        for code, amount in rows:
            by_source[codes[code]] += sign * int(amount)
    return CreatorEarnings(
        creator_id,
        account.id,
        by_source,
        account.credits_pending,
        account.credits_posted - account.debits_posted,
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
    cm, c, t = CreatorMonetization, Campaign, LedgerTransfer
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
    sums = dict(
        session.execute(
            select(t.code, func.sum(t.amount))
            .where(t.code.in_(["ad_spend", "ad_revenue_share", "commission_post"]))
            .group_by(t.code)
        ).all()
    )
    pending = session.scalar(
        select(func.coalesce(func.sum(LedgerAccount.credits_pending), 0)).where(
            LedgerAccount.owner_kind == "creator", LedgerAccount.purpose == "earnings"
        )
    )
    products = session.scalar(
        select(func.count()).select_from(Product).where(Product.active.is_(True))
    )
    return MonetizationTotals(
        creators_with_ads=int(with_ads),
        creators_with_products=int(with_products),
        active_campaigns=int(active),
        campaign_budget_fen=int(budget),
        committed_fen=-(-int(reserved) // 1_000),
        ad_spend_fen=int(sums.get("ad_spend", 0)),
        creator_ad_share_fen=int(sums.get("ad_revenue_share", 0)),
        active_products=int(products or 0),
        commission_posted_fen=int(sums.get("commission_post", 0)),
        commission_pending_fen=int(pending or 0),
    )


def showcase_subjects(session: Session) -> list[tuple[str, int]]:
    """(role, subject) of the creator who earned most from monetization, the advertiser who
    spent most and the merchant with most products: whose pages a demo shows."""
    t, a = LedgerTransfer, LedgerAccount
    found: list[tuple[str, int]] = []
    for role, side, codes in (
        ("creator", t.credit_account_id, ["ad_revenue_share", "commission_post", "commission"]),
        ("advertiser", t.debit_account_id, ["ad_spend"]),
    ):
        top = session.execute(
            select(a.owner_id)
            .join(t, side == a.id)
            .where(a.owner_kind == role, t.code.in_(codes))
            .group_by(a.owner_id)
            .order_by(func.sum(t.amount).desc(), a.owner_id)
            .limit(1)
        ).scalar_one_or_none()
        if top is not None:
            found.append((role, int(top)))
    merchant = session.execute(
        select(Product.merchant_id)
        .group_by(Product.merchant_id)
        .order_by(func.count().desc(), Product.merchant_id)
        .limit(1)
    ).scalar_one_or_none()
    if merchant is not None:
        found.append(("merchant", int(merchant)))
    return found
