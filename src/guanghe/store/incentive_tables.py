"""Incentive-plan tables: the programmes operators run, and each creator's enrolment in a
programme's window (the frozen personal target, progress, and the reward once paid)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime


class IncentiveProgram(Base):
    """A programme (``spec``: its validated definition) from the programmes file (``origin``
    ``file``) or put by an operator (``api``); ``revision`` counts its changes."""

    __tablename__ = "incentive_programs"
    __table_args__ = (
        CheckConstraint("origin IN ('file', 'api')", name="origin_known"),
        CheckConstraint("revision >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    origin: Mapped[str] = mapped_column(String(8))
    revision: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(120))
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class IncentiveEnrolment(Base):
    """A creator in one window of a programme: the target set when they were enrolled (from
    their baseline and stage), progress as of ``progress_on``, and the reward, paid once."""

    __tablename__ = "incentive_enrolments"
    __table_args__ = (
        UniqueConstraint(
            "program_id",
            "creator_id",
            "window_starts_on",
            name="uq_incentive_enrolments_program_id_creator_id_window_starts_on",
        ),
        CheckConstraint("window_ends_on >= window_starts_on", name="window_ordered"),
        CheckConstraint(
            "baseline_plays >= 0 AND target_plays >= 0 AND target_works >= 0 "
            "AND plays >= 0 AND original_works >= 0",
            name="counts_non_negative",
        ),
        CheckConstraint("reward_fen >= 0 AND reward_impressions >= 0", name="rewards_non_negative"),
        Index("ix_incentive_enrolments_creator_id", "creator_id", "window_starts_on"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("incentive_programs.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    window_starts_on: Mapped[dt.date] = mapped_column(Date)
    window_ends_on: Mapped[dt.date] = mapped_column(Date)
    vertical_id: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16))
    baseline_plays: Mapped[int] = mapped_column(BigInteger)
    target_plays: Mapped[int] = mapped_column(BigInteger)
    target_works: Mapped[int] = mapped_column(Integer)
    plays: Mapped[int] = mapped_column(BigInteger, default=0)
    original_works: Mapped[int] = mapped_column(Integer, default=0)
    enrolled_on: Mapped[dt.date] = mapped_column(Date)
    progress_on: Mapped[dt.date] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    reward_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_impressions: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    floor_period_starts_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
