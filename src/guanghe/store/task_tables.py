"""Task-center tables: sponsors' tasks, creators' claims on their slots, and the offers
(recommendations) the cycle makes.

A claim holds slot ``slot_no`` of its task while it is ``accepted``, ``submitted``,
``checked`` or ``approved``; partial unique indexes make a slot held by one claim at a time and
a creator hold at most one live claim per task, even against code that skips the task's row
lock. Each slot's reward is reserved in the ledger as its own pending transfer; approving a
claim posts that reservation and pays the creator, once per claim.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

TASK_KINDS = ("shooting", "promotion", "topic")
SPONSOR_KINDS = ("platform", "advertiser", "institution")
TASK_STATUSES = ("open", "ended")
CLAIM_STATUSES = ("accepted", "submitted", "checked", "approved", "rejected", "expired")
#: Claim states that hold a slot.
HOLDING_STATUSES = ("accepted", "submitted", "checked", "approved")
_HOLDING_SQL = "status IN ('accepted', 'submitted', 'checked', 'approved')"


class Task(Base):
    """A sponsor's task: what creators must publish, when, and what each completed slot pays
    (``reward_fen`` and / or ``reward_impressions``, reserved in the ledger per slot)."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("kind IN ('shooting', 'promotion', 'topic')", name="kind_known"),
        CheckConstraint(
            "sponsor_kind IN ('platform', 'advertiser', 'institution')", name="sponsor_known"
        ),
        CheckConstraint("status IN ('open', 'ended')", name="status_known"),
        CheckConstraint("slots > 0", name="slots_positive"),
        CheckConstraint(
            "reward_fen >= 0 AND reward_impressions >= 0 AND reward_fen + reward_impressions > 0",
            name="reward_positive",
        ),
        CheckConstraint("ends_at > starts_at", name="window_ordered"),
        CheckConstraint(
            "max_followers IS NULL OR max_followers >= min_followers", name="followers_ordered"
        ),
        CheckConstraint(
            "agent_commission_fen >= 0 AND (agent_commission_fen = 0 OR agent_id IS NOT NULL)",
            name="agent_commission",
        ),
        Index("ix_tasks_status_ends_at", "status", "ends_at"),
        Index("ix_tasks_sponsor", "sponsor_kind", "sponsor_id"),
        Index("ix_tasks_agent_id", "agent_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    sponsor_kind: Mapped[str] = mapped_column(String(16))
    sponsor_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    vertical_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    max_followers: Mapped[int | None] = mapped_column(BigInteger, default=None)
    hashtag: Mapped[str | None] = mapped_column(String(60), default=None)
    min_plays: Mapped[int] = mapped_column(BigInteger, default=0)
    plays_within_days: Mapped[int] = mapped_column(Integer, default=7)
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    priority_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    accept_hours: Mapped[int] = mapped_column(Integer, default=72)
    reward_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    slots: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    #: The institution agent who brought the task (a user with the ``agent`` role), paid
    #: ``agent_commission_fen`` per approved slot from the task's escrow.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    agent_commission_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class TaskClaim(Base):
    """A creator's hold on one slot of a task, and what became of it (the submission)."""

    __tablename__ = "task_claims"
    __table_args__ = (
        CheckConstraint(
            "status IN ('accepted', 'submitted', 'checked', 'approved', 'rejected', 'expired')",
            name="status_known",
        ),
        CheckConstraint("slot_no >= 1", name="slot_positive"),
        CheckConstraint(
            "status = 'accepted' OR status = 'expired' OR work_id IS NOT NULL",
            name="submission_names_work",
        ),
        Index(
            "uq_task_claims_held_slot",
            "task_id",
            "slot_no",
            unique=True,
            sqlite_where=text(_HOLDING_SQL),
            postgresql_where=text(_HOLDING_SQL),
        ),
        Index(
            "uq_task_claims_held_by_creator",
            "task_id",
            "creator_id",
            unique=True,
            sqlite_where=text(_HOLDING_SQL),
            postgresql_where=text(_HOLDING_SQL),
        ),
        Index("ix_task_claims_creator_id", "creator_id"),
        Index("ix_task_claims_status", "status"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    slot_no: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    accepted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    deadline_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id"), default=None)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    check_note: Mapped[str] = mapped_column(String(400), default="")
    decided_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(120), default=None)
    reason: Mapped[str] = mapped_column(String(400), default="")


class TaskOffer(Base):
    """A task the cycle recommended to a creator on ``offered_on``, with its predicted value
    and ``why``; the history the acceptance and completion models learn from."""

    __tablename__ = "task_offers"
    __table_args__ = (
        UniqueConstraint("offered_on", "creator_id", "task_id", name="uq_task_offers_day_pair"),
        CheckConstraint("rank >= 1", name="rank_positive"),
        Index("ix_task_offers_creator_id_offered_on", "creator_id", "offered_on"),
        Index("ix_task_offers_task_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    offered_on: Mapped[dt.date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id"))
    rank: Mapped[int] = mapped_column(Integer)
    p_accept: Mapped[float] = mapped_column(Float)
    p_complete: Mapped[float] = mapped_column(Float)
    value_fen: Mapped[float] = mapped_column(Float)
    why: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
