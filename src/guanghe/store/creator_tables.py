"""Creator growth tables: the history of each creator's growth-rights tier."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id


class CreatorTierHistory(Base):
    """A creator's tier from ``since`` until the next row's ``since``; a row is added only when
    the tier changes. ``quality`` and ``stage`` are as assessed that day."""

    __tablename__ = "creator_tier_history"
    __table_args__ = (UniqueConstraint("creator_id", "since"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), index=True)
    since: Mapped[dt.date] = mapped_column(Date)
    tier: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(16))
    quality: Mapped[float] = mapped_column(Float)
