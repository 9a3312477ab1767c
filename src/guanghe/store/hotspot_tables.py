"""Hotspot and calendar tables: hourly topic counts per vertical, the hotspots found in them,
the operators' event calendar and the creators' calendar-feed tokens."""

from __future__ import annotations

import datetime as dt

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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

HOTSPOT_STATES = ("rising", "peaking", "fading")
CALENDAR_KINDS = ("platform_event", "campaign", "holiday")


class TopicHourlyCount(Base):
    """Works published with ``topic`` in ``vertical_id`` during the UTC ``hour``, and the
    engagement (likes, comments, shares) logged in that hour on works carrying it. The row
    with the empty topic ``""`` holds the vertical's totals (every work once)."""

    __tablename__ = "topic_hourly_counts"
    __table_args__ = (
        CheckConstraint("works >= 0 AND engagement >= 0", name="counts_non_negative"),
        Index("ix_topic_hourly_counts_hour", "hour"),
    )

    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), primary_key=True)
    topic: Mapped[str] = mapped_column(String(80), primary_key=True)
    hour: Mapped[dt.datetime] = mapped_column(UtcDateTime, primary_key=True)
    works: Mapped[int] = mapped_column(Integer)
    engagement: Mapped[int] = mapped_column(BigInteger)


class Hotspot(Base):
    """One burst of one topic in one vertical, from its ``onset_at``; refreshed by each
    detection while it lasts (``active``), kept afterwards."""

    __tablename__ = "hotspots"
    __table_args__ = (
        UniqueConstraint("vertical_id", "topic", "onset_at", name="uq_hotspots_vertical_id"),
        CheckConstraint("state IN ('rising', 'peaking', 'fading')", name="state_known"),
        Index("ix_hotspots_active_vertical_id", "active", "vertical_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    topic: Mapped[str] = mapped_column(String(80))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float] = mapped_column(Float)
    lift: Mapped[float] = mapped_column(Float)
    recent_works: Mapped[int] = mapped_column(Integer)
    onset_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    peak_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    detected_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    curve_start: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    curve: Mapped[list[float]] = mapped_column(JSON, default=list)
    example_work_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    vertical_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class CalendarEvent(Base):
    """A platform event, campaign or holiday over the days ``starts_on..ends_on`` (inclusive),
    for the verticals ``vertical_ids`` (empty: every vertical). ``uid`` is its iCalendar UID."""

    __tablename__ = "calendar_events"
    __table_args__ = (
        CheckConstraint("ends_on >= starts_on", name="period_ordered"),
        CheckConstraint("kind IN ('platform_event', 'campaign', 'holiday')", name="kind_known"),
        Index("ix_calendar_events_starts_on_id", "starts_on", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    ends_on: Mapped[dt.date] = mapped_column(Date)
    vertical_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CalendarFeedToken(Base):
    """A token in the URL of a creator's calendar feed (calendar apps send no bearer header);
    only its SHA-256 is stored, and a revoked one stops working."""

    __tablename__ = "calendar_feed_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
