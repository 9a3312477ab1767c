"""Originality tables: fingerprints of works, each work's attribution, cases (reviews, claims,
disputes) and the append-only log of every attribution decision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

VERDICTS = ("original", "duplicate", "suspect")
MATCH_MEDIA = ("picture", "video", "audio")
COPY_POLICIES = ("track", "block", "monetize")
CASE_KINDS = ("review", "claim", "dispute")
CASE_STATUSES = ("open", "upheld", "rejected")


class WorkFingerprint(Base):
    """One 256-bit PDQ hash of one window of one picture of a work (``tag`` encodes which),
    or, with a negative ``tag`` (which keeps its position), the 256-bit ORB descriptor of one
    keypoint of the cover; the search indexes are built from these rows, in ``id`` order."""

    __tablename__ = "work_fingerprints"
    #: (work, tag): a work's rows, and whether it has keypoint rows, read from the index alone
    __table_args__ = (Index("ix_work_fingerprints_work_id_tag", "work_id", "tag"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"))
    tag: Mapped[int] = mapped_column(SmallInteger)
    pdq: Mapped[bytes] = mapped_column(LargeBinary(32))
    quality: Mapped[int] = mapped_column(SmallInteger)


class CoverKeypointScan(Base):
    """An indexed work whose cover the keypoint backfill read and found no keypoint in: it is
    not read again by later backfills."""

    __tablename__ = "cover_keypoint_scans"

    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), primary_key=True)
    scanned_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


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


class CopyMatch(Base):
    """One match of a copy against an original, in force from ``effective_at`` until it is
    ended (``ended_at``: a won dispute, or the copy re-attributed to another original).

    A picture match covers the whole copy (no segment). A video or audio match names the
    segment of each work that matches (milliseconds) and ``copy_share_bp``, the share of the
    copy it covers (basis points): what of the copy's earnings a ``monetize`` policy takes.
    """

    __tablename__ = "copy_matches"
    __table_args__ = (
        CheckConstraint("media IN ('picture', 'video', 'audio')", name="media_known"),
        CheckConstraint(
            "(copy_start_ms IS NULL) = (copy_end_ms IS NULL) "
            "AND (copy_start_ms IS NULL OR 0 <= copy_start_ms AND copy_start_ms < copy_end_ms)",
            name="copy_segment_ordered",
        ),
        CheckConstraint(
            "(original_start_ms IS NULL) = (original_end_ms IS NULL) "
            "AND (original_start_ms IS NULL "
            "OR 0 <= original_start_ms AND original_start_ms < original_end_ms)",
            name="original_segment_ordered",
        ),
        CheckConstraint(
            "copy_share_bp IS NULL OR copy_share_bp BETWEEN 1 AND 10000", name="share_in_range"
        ),
        CheckConstraint("ended_at IS NULL OR ended_at >= effective_at", name="ends_after_start"),
        Index("ix_copy_matches_copy_work_id_ended_at", "copy_work_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    copy_work_id: Mapped[int] = mapped_column(ForeignKey("works.id"))
    original_work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    original_creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), index=True)
    media: Mapped[str] = mapped_column(String(10), default="picture")
    copy_start_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    copy_end_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    original_start_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    original_end_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    copy_share_bp: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    distance: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    evidence: Mapped[str] = mapped_column(String(200), default="")
    effective_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("originality_decisions.id"), default=None
    )
    ended_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    ended_by_decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("originality_decisions.id"), default=None
    )


class CopyPolicyChoice(Base):
    """An original author's choice of what happens to copies of one of their works
    (``work_id``) or of all of them (``work_id`` null). Never updated: the newest choice
    for a work, else the newest for all works, is in force."""

    __tablename__ = "copy_policy_choices"
    __table_args__ = (
        CheckConstraint("policy IN ('track', 'block', 'monetize')", name="policy_known"),
        Index("ix_copy_policy_choices_creator_id_work_id", "creator_id", "work_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    work_id: Mapped[int | None] = mapped_column(ForeignKey("works.id"), default=None)
    policy: Mapped[str] = mapped_column(String(10))
    chosen_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    chosen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


__all__ = [
    "CASE_KINDS",
    "CASE_STATUSES",
    "COPY_POLICIES",
    "MATCH_MEDIA",
    "VERDICTS",
    "CopyMatch",
    "CopyPolicyChoice",
    "OriginalityCase",
    "OriginalityDecision",
    "WorkFingerprint",
    "WorkOriginality",
    "WorkTextSignature",
]
