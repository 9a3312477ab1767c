"""Institution tables: contracts (with per-source splits and their history), institution
levels, the Torch programme's budgets, institutions' traffic preferences and rewards,
influential-author nominations, and settled days."""

from __future__ import annotations

import datetime as dt
from typing import Any

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

#: Income sources a contract splits.
INCOME_SOURCES = ("ads", "commerce", "tasks", "incentives")
CONTRACT_STATUSES = ("proposed", "active", "declined", "ended")
INSTITUTION_LEVELS = ("S", "A", "B", "C")


class InstitutionContract(Base):
    """A contract between an institution and a creator for days ``valid_from <= day <
    valid_to`` (open-ended when ``valid_to`` is null); its splits are in
    :class:`ContractSplit`. Only ``active`` and ``ended`` contracts were ever in force."""

    __tablename__ = "institution_contracts"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period_ordered"),
        CheckConstraint(
            "status IN ('proposed', 'active', 'declined', 'ended')", name="status_known"
        ),
        CheckConstraint("notice_days >= 0 AND notice_days <= 365", name="notice_in_range"),
        Index("ix_institution_contracts_creator_id_valid_from", "creator_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, default=None)
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    notice_days: Mapped[int] = mapped_column(Integer, default=30)
    status: Mapped[str] = mapped_column(String(12), default="active")


class ContractSplit(Base):
    """``split_bp`` basis points of the creator's income from ``source`` go to the
    institution."""

    __tablename__ = "contract_splits"
    __table_args__ = (
        CheckConstraint("split_bp >= 0 AND split_bp <= 10000", name="split_in_range"),
        CheckConstraint(
            "source IN ('ads', 'commerce', 'tasks', 'incentives')", name="source_known"
        ),
    )

    contract_id: Mapped[int] = mapped_column(
        ForeignKey("institution_contracts.id"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(12), primary_key=True)
    split_bp: Mapped[int] = mapped_column(Integer)


class ContractEvent(Base):
    """One step of a contract's history: proposed, accepted, declined, ended (never edited)."""

    __tablename__ = "contract_events"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("institution_contracts.id"), index=True)
    action: Mapped[str] = mapped_column(String(12))
    actor_role: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    effective_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class InstitutionLevel(Base):
    """An institution's level for the month starting ``month``, with the metrics behind it."""

    __tablename__ = "institution_levels"
    __table_args__ = (CheckConstraint("level IN ('S', 'A', 'B', 'C')", name="level_known"),)

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    level: Mapped[str] = mapped_column(String(1))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class TorchBudget(Base):
    """The Torch programme's budget over ``starts_on..ends_on`` for one level (``level:S``)
    or one institution (``institution:12``): cash in fen and traffic in impressions."""

    __tablename__ = "torch_budgets"
    __table_args__ = (
        UniqueConstraint("target", "starts_on", name="uq_torch_budgets_target_starts_on"),
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint("cash_fen >= 0 AND traffic_impressions >= 0", name="amounts_non_negative"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    target: Mapped[str] = mapped_column(String(40))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    cash_fen: Mapped[int] = mapped_column(BigInteger)
    traffic_impressions: Mapped[int] = mapped_column(BigInteger)
    min_new_share_bp: Mapped[int] = mapped_column(Integer, default=0)
    max_creator_share_bp: Mapped[int] = mapped_column(Integer, default=10_000)
    nomination_slots: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class TrafficPreference(Base):
    """How an institution directs its pool to one of its creators: a weight and a guaranteed
    number of impressions per period."""

    __tablename__ = "institution_traffic_preferences"
    __table_args__ = (
        CheckConstraint("weight >= 0", name="weight_non_negative"),
        CheckConstraint("guarantee_impressions >= 0", name="guarantee_non_negative"),
    )

    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    guarantee_impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class AuthorNomination(Base):
    """An institution's nomination of a creator as an influential author for the period
    starting ``starts_on``; operators approve a limited number."""

    __tablename__ = "author_nominations"
    __table_args__ = (
        UniqueConstraint("creator_id", "starts_on", name="uq_author_nominations_creator_id"),
        CheckConstraint("status IN ('nominated', 'approved', 'rejected')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="nominated")
    nominated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class SettledDay(Base):
    """A day whose settlement ran to completion, with what it posted."""

    __tablename__ = "settled_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    transfers_created: Mapped[int] = mapped_column(Integer)
    settled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
