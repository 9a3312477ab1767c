"""Media tables: the video and sound fingerprints of works, the tracks operators mark as shared
music, and the segment matches found between works."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

MATCH_KINDS = ("video", "audio")


class VideoFingerprintRow(Base):
    """A work's frame hashes: ``codes`` (packed 32-byte PDQ hashes) and ``tags`` (little-endian
    int16 each: frame time in deciseconds and window); the video index is built from these
    rows, in ``id`` order."""

    __tablename__ = "video_fingerprints"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), unique=True)
    codes: Mapped[bytes] = mapped_column(LargeBinary)
    tags: Mapped[bytes] = mapped_column(LargeBinary)
    duration_ms: Mapped[int] = mapped_column(Integer)
    interval_ms: Mapped[int] = mapped_column(Integer)


class AudioFingerprintRow(Base):
    """A work's Chromaprint items (little-endian uint32 each), indexed in ``id`` order."""

    __tablename__ = "audio_fingerprints"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), unique=True)
    items: Mapped[bytes] = mapped_column(LargeBinary)


class SharedMusic(Base):
    """A work whose sound operators marked as shared music: using it is no copy."""

    __tablename__ = "shared_music"

    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), primary_key=True)
    note: Mapped[str] = mapped_column(Text, default="")
    marked_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    marked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class MediaMatch(Base):
    """A stretch of ``work_id`` (the upload) repeating a stretch of ``matched_work_id`` (whose
    root original is ``original_work_id``: the same work, or the original it copies), in
    picture (``video``) or sound (``audio``), found when ``work_id`` was published."""

    __tablename__ = "media_matches"
    __table_args__ = (
        CheckConstraint("kind IN ('video', 'audio')", name="kind_known"),
        CheckConstraint(
            "upload_start_ms <= upload_end_ms AND original_start_ms <= original_end_ms",
            name="segments_ordered",
        ),
        CheckConstraint("upload_share >= 0 AND upload_share <= 1", name="share_is_fraction"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    matched_work_id: Mapped[int] = mapped_column(ForeignKey("works.id"))
    original_work_id: Mapped[int] = mapped_column(ForeignKey("works.id"), index=True)
    original_creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), index=True)
    kind: Mapped[str] = mapped_column(String(5))
    upload_start_ms: Mapped[int] = mapped_column(Integer)
    upload_end_ms: Mapped[int] = mapped_column(Integer)
    original_start_ms: Mapped[int] = mapped_column(Integer)
    original_end_ms: Mapped[int] = mapped_column(Integer)
    upload_share: Mapped[float] = mapped_column(Float)
    speed: Mapped[float] = mapped_column(Float)
    mirrored: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[str] = mapped_column(String(300))
    matched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


__all__ = ["MATCH_KINDS", "AudioFingerprintRow", "MediaMatch", "SharedMusic", "VideoFingerprintRow"]
