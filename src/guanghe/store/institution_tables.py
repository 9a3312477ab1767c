"""Institution tables: the contracts that give an MCN institution a split of a creator's
earnings for a period."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime


class InstitutionContract(Base):
    """``split_bp`` basis points of the creator's earnings go to the institution, on days
    ``valid_from <= day < valid_to`` (open-ended when ``valid_to`` is null)."""

    __tablename__ = "institution_contracts"
    __table_args__ = (
        CheckConstraint("split_bp >= 0 AND split_bp <= 10000", name="split_in_range"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period_ordered"),
        Index("ix_institution_contracts_creator_id_valid_from", "creator_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    institution_id: Mapped[int] = mapped_column(ForeignKey("institutions.id"), index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    split_bp: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, default=None)


class SettledDay(Base):
    """A day whose settlement ran to completion, with what it posted."""

    __tablename__ = "settled_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    transfers_created: Mapped[int] = mapped_column(Integer)
    settled_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
