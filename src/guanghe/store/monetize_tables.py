"""Monetization tables: advertisers and their campaigns, merchants and their products, the
creators' authorisations (current state and history), the matched products per creator and
the earnings estimates shown before a creator opts in.

A campaign's ``reserved_millifen`` is what its served impressions have committed, in
thousandths of a fen (a CPM bid in fen per thousand impressions is a price per impression in
milli-fen). The ``CHECK`` keeps it within the budget even against code that bypasses the
conditional update the profile slot uses.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

CONSENT_KINDS = ("profile_ads", "product_display")
CAMPAIGN_STATUSES = ("active", "paused", "ended")
BILLING_MODELS = ("cpm", "cpc")
PACING_MODES = ("even", "asap")


class Advertiser(Base):
    """A company that buys profile-page ad slots; the ``advertiser`` role acts for one."""

    __tablename__ = "advertisers"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Merchant(Base):
    """A shop whose products creators display; the ``merchant`` role acts for one."""

    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CreatorMonetization(Base):
    """A creator's current authorisations (the last row of their history, kept for serving)."""

    __tablename__ = "creator_monetization"

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    profile_ads: Mapped[bool] = mapped_column(Boolean, default=False)
    product_display: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class MonetizationConsent(Base):
    """One change of one authorisation: granted or withdrawn, when and by whom."""

    __tablename__ = "monetization_consents"
    __table_args__ = (
        CheckConstraint("kind IN ('profile_ads', 'product_display')", name="kind_known"),
        Index("ix_monetization_consents_creator_id_id", "creator_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    kind: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    changed_by: Mapped[int | None] = mapped_column(BigInteger, default=None)


class Campaign(Base):
    """A profile-page ad campaign: budget, bid, targeting, exclusions, schedule, creative."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'paused', 'ended')", name="status_known"),
        CheckConstraint("billing IN ('cpm', 'cpc')", name="billing_known"),
        CheckConstraint("pacing IN ('even', 'asap')", name="pacing_known"),
        CheckConstraint("budget_fen > 0 AND bid_fen > 0", name="money_positive"),
        CheckConstraint(
            "reserved_millifen >= 0 AND reserved_millifen <= budget_fen * 1000",
            name="reserved_within_budget",
        ),
        CheckConstraint("ends_at > starts_at", name="schedule_ordered"),
        Index("ix_campaigns_status_ends_at", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    advertiser_id: Mapped[int] = mapped_column(ForeignKey("advertisers.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(8), default="active")
    billing: Mapped[str] = mapped_column(String(4))
    bid_fen: Mapped[int] = mapped_column(BigInteger)
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    reserved_millifen: Mapped[int] = mapped_column(BigInteger, default=0)
    served_impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    pacing: Mapped[str] = mapped_column(String(5), default="even")
    target_verticals: Mapped[list[int]] = mapped_column(JSON, default=list)
    target_stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    max_followers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    excluded_verticals: Mapped[list[int]] = mapped_column(JSON, default=list)
    excluded_keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    creative_title: Mapped[str] = mapped_column(String(80))
    creative_url: Mapped[str] = mapped_column(String(400))
    creative_image_url: Mapped[str | None] = mapped_column(String(400), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Product(Base):
    """A merchant's product offered for commodity distribution."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("price_fen > 0", name="price_positive"),
        CheckConstraint("commission_bp > 0 AND commission_bp <= 10000", name="commission_range"),
        CheckConstraint("stock >= 0", name="stock_non_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(60))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    commission_bp: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ProductPlacement(Base):
    """The cycle's matched products of a creator, best first, as of ``as_of``."""

    __tablename__ = "product_placements"

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    score: Mapped[float] = mapped_column(Float)
    as_of: Mapped[dt.date] = mapped_column(Date)


class EarningsEstimate(Base):
    """What authorising is worth to a creator: the last 28 days' profile views priced at the
    market's ad revenue and commission per view (fen, the creator's share)."""

    __tablename__ = "earnings_estimates"

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    profile_views_28d: Mapped[int] = mapped_column(BigInteger)
    profile_ads_fen_28d: Mapped[int] = mapped_column(BigInteger)
    product_display_fen_28d: Mapped[int] = mapped_column(BigInteger)
    basis: Mapped[str] = mapped_column(Text, default="")
