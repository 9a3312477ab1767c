"""Traffic-support tables: the impression budgets of each pool per period, and the boosted
impressions the feed ranker reports as delivered."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime


class TrafficBudget(Base):
    """``impressions`` boosted impressions for ``pool`` over the days ``starts_on..ends_on``
    (inclusive), set by ``created_by``."""

    __tablename__ = "traffic_budgets"
    __table_args__ = (
        UniqueConstraint("pool", "starts_on", name="uq_traffic_budgets_pool_starts_on"),
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint("impressions >= 0", name="impressions_non_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    pool: Mapped[str] = mapped_column(String(40))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    impressions: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class BoostDelivery(Base):
    """Boosted impressions of a work delivered by the feed ranker, once per ``delivery_id``."""

    __tablename__ = "boost_deliveries"
    __table_args__ = (
        CheckConstraint("impressions > 0", name="impressions_positive"),
        Index("ix_boost_deliveries_day_creator_id", "day", "creator_id"),
    )

    delivery_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"))
    impressions: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
