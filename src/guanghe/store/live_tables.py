"""Live-room and teaching tables: sessions scheduled by operators, creators' RSVPs, the
questions asked and the one vote per creator on each; courses and lessons by stage and
vertical, and the lessons each creator completed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime


class LiveSession(Base):
    """A live-room session: ``topic`` hosted by the creator ``host_creator_id`` over
    ``starts_at..ends_at`` for the verticals ``vertical_ids`` (empty: every vertical), with at
    most ``capacity`` RSVPs (``rsvp_count`` kept with them in one transaction). A cancelled
    session keeps its row; ``recording_url`` is set by operators once it is over."""

    __tablename__ = "live_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("rsvp_count >= 0 AND rsvp_count <= capacity", name="rsvps_within_capacity"),
        Index("ix_live_sessions_starts_at", "starts_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    topic: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    host_creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    vertical_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    rsvp_count: Mapped[int] = mapped_column(Integer, default=0)
    recording_url: Mapped[str | None] = mapped_column(String(500), default=None)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class LiveRsvp(Base):
    """A creator's place in a session."""

    __tablename__ = "live_rsvps"
    __table_args__ = (Index("ix_live_rsvps_creator_id", "creator_id"),)

    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class LiveQuestion(Base):
    """A question a creator asked before or during a session; ``votes`` counts its rows in
    ``live_question_votes`` (kept with them in one transaction); ``answered_at`` is set by the
    host (or an operator), with an optional short ``answer``."""

    __tablename__ = "live_questions"
    __table_args__ = (
        CheckConstraint("votes >= 0", name="votes_non_negative"),
        Index("ix_live_questions_session_id_votes", "session_id", "votes"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    body: Mapped[str] = mapped_column(String(500))
    votes: Mapped[int] = mapped_column(Integer, default=0)
    asked_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    answer: Mapped[str] = mapped_column(Text, default="")


class LiveQuestionVote(Base):
    """One creator's upvote of one question: at most one (the primary key)."""

    __tablename__ = "live_question_votes"

    question_id: Mapped[int] = mapped_column(ForeignKey("live_questions.id"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    voted_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Course(Base):
    """A course for creators in ``stage`` (of the vertical ``vertical_id``; None: any)."""

    __tablename__ = "courses"
    __table_args__ = (
        CheckConstraint("stage IN ('novice', 'growing', 'mature')", name="stage_known"),
        Index("ix_courses_stage", "stage"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(16))
    vertical_id: Mapped[int | None] = mapped_column(ForeignKey("verticals.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class Lesson(Base):
    """A lesson of a course, at ``position``; ``addresses`` names the growth rule it helps
    with (a next-tier requirement such as ``min_works_28d`` or a quality signal such as
    ``play_rate``; None: general)."""

    __tablename__ = "lessons"
    __table_args__ = (
        UniqueConstraint("course_id", "position", name="uq_lessons_course_id_position"),
        CheckConstraint("minutes > 0", name="minutes_positive"),
        Index("ix_lessons_addresses", "addresses"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500), default=None)
    minutes: Mapped[int] = mapped_column(Integer)
    addresses: Mapped[str | None] = mapped_column(String(40), default=None)


class LessonCompletion(Base):
    """A creator completed a lesson (once)."""

    __tablename__ = "lesson_completions"
    __table_args__ = (Index("ix_lesson_completions_creator_id", "creator_id"),)

    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    completed_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
