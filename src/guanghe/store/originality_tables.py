"""Originality tables: fingerprints of works, each work's attribution, cases (reviews, claims,
disputes) and the append-only log of every attribution decision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

VERDICTS = ("original", "duplicate", "suspect")
CASE_KINDS = ("review", "claim", "dispute")
CASE_STATUSES = ("open", "upheld", "rejected")


class WorkFingerprint(Base):
    """One 256-bit PDQ hash of one window of one picture of a work (``tag`` encodes which);
    the search index is built from these rows, in ``id`` order."""

    __tablename__ = "work_fingerprints"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    tag: Mapped[int] = mapped_column(SmallInteger)
    pdq: Mapped[bytes] = mapped_column(LargeBinary(32))
    quality: Mapped[int] = mapped_column(SmallInteger)


class WorkTextSignature(Base):
    """MinHash signature of a work's title, caption and hashtags (128 x uint32)."""

    __tablename__ = "work_text_signatures"

    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), primary_key=True)
    minhash: Mapped[bytes] = mapped_column(LargeBinary(512))


class WorkOriginality(Base):
    """A work's current attribution: original, or a duplicate / suspect copy of the original
    ``original_work_id`` by ``original_creator_id``."""

    __tablename__ = "work_originality"
    __table_args__ = (
        CheckConstraint("verdict IN ('original', 'duplicate', 'suspect')", name="verdict_known"),
        CheckConstraint(
            "(verdict = 'original') = (original_work_id IS NULL)", name="copies_name_original"
        ),
        Index("ix_work_originality_verdict_work_id", "verdict", "work_id"),
    )

    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), primary_key=True)
    verdict: Mapped[str] = mapped_column(String(10))
    original_work_id: Mapped[int | None] = mapped_column(
        ForeignKey("works.id"), index=True, default=None
    )
    original_creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("creators.id"), index=True, default=None
    )
    distance: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    text_similarity: Mapped[float | None] = mapped_column(Float, default=None)
    evidence: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class OriginalityCase(Base):
    """Something an operator decides: a ``review`` of a suspect copy (opened by the check), a
    creator's ``claim`` that a work copies theirs, or a ``dispute`` of a duplicate verdict."""

    __tablename__ = "originality_cases"
    __table_args__ = (
        CheckConstraint("kind IN ('review', 'claim', 'dispute')", name="kind_known"),
        CheckConstraint("status IN ('open', 'upheld', 'rejected')", name="status_known"),
        Index("ix_originality_cases_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    claimed_original_work_id: Mapped[int | None] = mapped_column(
        ForeignKey("works.id"), default=None
    )
    filed_by_creator_id: Mapped[int | None] = mapped_column(
        ForeignKey("creators.id"), index=True, default=None
    )
    statement: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")
    opened_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class OriginalityDecision(Base):
    """One attribution decision, never updated: the check's verdict at publication, and each
    operator resolution (with the case and the user who decided)."""

    __tablename__ = "originality_decisions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(
        ForeignKey("originality_cases.id"), index=True, default=None
    )
    verdict: Mapped[str] = mapped_column(String(10))
    original_work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id"), default=None)
    decided_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


__all__ = [
    "CASE_KINDS",
    "CASE_STATUSES",
    "VERDICTS",
    "OriginalityCase",
    "OriginalityDecision",
    "WorkFingerprint",
    "WorkOriginality",
    "WorkTextSignature",
]
