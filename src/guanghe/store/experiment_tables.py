"""Experiment tables: operators' experiments (a policy applied to a random share of creators)
and the arm each creator was assigned to."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

#: The arms of an experiment.
ARMS = ("control", "treatment")


class Experiment(Base):
    """A policy applied to ``treatment_share`` of the creators from ``starts_on`` to
    ``ends_on`` (inclusive); the rest are its control. ``key`` salts the assignment hash."""

    __tablename__ = "experiments"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint(
            "treatment_share > 0 AND treatment_share < 1", name="treatment_share_open_unit"
        ),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    hypothesis: Mapped[str] = mapped_column(Text, default="")
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    treatment_share: Mapped[float] = mapped_column(Float)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ExperimentAssignment(Base):
    """The arm ``creator_id`` is in for ``experiment_id``, recorded once, first on
    ``assigned_on``."""

    __tablename__ = "experiment_assignments"
    __table_args__ = (CheckConstraint("arm IN ('control', 'treatment')", name="arm_known"),)

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    arm: Mapped[str] = mapped_column(String(9))
    assigned_on: Mapped[dt.date] = mapped_column(Date)
