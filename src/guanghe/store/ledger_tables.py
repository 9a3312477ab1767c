"""Ledger tables: accounts with cached balances, and immutable transfers.

Modelled on TigerBeetle: an account keeps debits/credits pending and posted; balance limits are
account flags, enforced by ``CHECK`` constraints as well as by the ledger code; transfers are
never updated (posting or voiding a pending transfer, or reversing a posted one, is a new
transfer), and the unique constraints make a pending transfer resolvable once, a transfer
reversible once, an idempotency key usable once and a source event payable once per purpose.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

OWNER_KINDS = (
    "platform",
    "advertiser",
    "merchant",
    "creator",
    "institution",
    "program",
    "traffic_pool",
    "agent",
)
UNITS = ("CNY", "IMPRESSION")
TRANSFER_KINDS = ("posted", "pending", "post_pending", "void_pending")


class LedgerAccount(Base):
    """An account of one owner, purpose and unit (CNY in fen, or boosted impressions)."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        UniqueConstraint("owner_kind", "owner_id", "purpose", "unit", name="owner_purpose_unit"),
        CheckConstraint(
            "owner_kind IN ('platform', 'advertiser', 'merchant', 'creator', 'institution', "
            "'program', 'traffic_pool', 'agent')",
            name="owner_kind_known",
        ),
        CheckConstraint("unit IN ('CNY', 'IMPRESSION')", name="unit_known"),
        CheckConstraint(
            "debits_pending >= 0 AND debits_posted >= 0 AND credits_pending >= 0 "
            "AND credits_posted >= 0",
            name="totals_non_negative",
        ),
        CheckConstraint(
            "NOT debits_within_credits OR debits_pending + debits_posted <= credits_posted",
            name="debits_within_credits",
        ),
        CheckConstraint(
            "NOT credits_within_debits OR credits_pending + credits_posted <= debits_posted",
            name="credits_within_debits",
        ),
        CheckConstraint("NOT (debits_within_credits AND credits_within_debits)", name="one_limit"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[int] = mapped_column(BigInteger)
    purpose: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(12))
    debits_within_credits: Mapped[bool] = mapped_column(Boolean, default=False)
    credits_within_debits: Mapped[bool] = mapped_column(Boolean, default=False)
    debits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_pending: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class LedgerTransfer(Base):
    """One immutable movement of ``amount`` from ``debit_account_id`` to ``credit_account_id``."""

    __tablename__ = "ledger_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        CheckConstraint(
            "kind IN ('posted', 'pending', 'post_pending', 'void_pending')", name="kind_known"
        ),
        CheckConstraint(
            "(kind IN ('post_pending', 'void_pending')) = (pending_id IS NOT NULL)",
            name="resolution_names_pending",
        ),
        CheckConstraint("(source_kind IS NULL) = (source_id IS NULL)", name="source_kind_and_id"),
        CheckConstraint(
            "code <> 'adjustment' OR (actor IS NOT NULL AND memo <> '')",
            name="adjustment_names_actor_and_reason",
        ),
        UniqueConstraint("source_kind", "source_id", "code", name="one_per_source_and_code"),
        Index("ix_ledger_transfers_debit_account_id_id", "debit_account_id", "id"),
        Index("ix_ledger_transfers_credit_account_id_id", "credit_account_id", "id"),
        Index("ix_ledger_transfers_code_business_day", "code", "business_day"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    debit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    credit_account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    unit: Mapped[str] = mapped_column(String(12))
    code: Mapped[str] = mapped_column(String(40))
    pending_id: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transfers.id"), unique=True, default=None
    )
    reversal_of: Mapped[int | None] = mapped_column(
        ForeignKey("ledger_transfers.id"), unique=True, default=None
    )
    batch: Mapped[str | None] = mapped_column(String(64), default=None)
    source_kind: Mapped[str | None] = mapped_column(String(32), default=None)
    source_id: Mapped[str | None] = mapped_column(String(128), default=None)
    actor: Mapped[str | None] = mapped_column(String(120), default=None)
    memo: Mapped[str] = mapped_column(Text, default="")
    #: The day the transfer is for (the settled or charged day; else the posting day, UTC),
    #: which statements group by; ``created_at`` is when it was posted.
    business_day: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
