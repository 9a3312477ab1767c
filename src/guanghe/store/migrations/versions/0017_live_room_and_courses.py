"""The live room and teaching resources: live sessions, RSVPs, questions and their votes;
courses, lessons and lesson completions.

Revision ID: 0017
Revises: 0019
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0019"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "live_sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("host_creator_id", ID, nullable=False),
        sa.Column("vertical_ids", sa.JSON(), nullable=False),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("rsvp_count", sa.Integer(), nullable=False),
        sa.Column("recording_url", sa.String(length=500), nullable=True),
        sa.Column("cancelled_at", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_live_sessions_ends_after_start")),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_live_sessions_capacity_positive")),
        sa.CheckConstraint(
            "rsvp_count >= 0 AND rsvp_count <= capacity",
            name=op.f("ck_live_sessions_rsvps_within_capacity"),
        ),
        _fk("live_sessions", "host_creator_id", "creators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sessions")),
    )
    op.create_index("ix_live_sessions_starts_at", "live_sessions", ["starts_at"])
    op.create_table(
        "live_rsvps",
        sa.Column("session_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        _fk("live_rsvps", "session_id", "live_sessions"),
        _fk("live_rsvps", "creator_id", "creators"),
        sa.PrimaryKeyConstraint("session_id", "creator_id", name=op.f("pk_live_rsvps")),
    )
    op.create_index("ix_live_rsvps_creator_id", "live_rsvps", ["creator_id"])
    op.create_table(
        "live_questions",
        sa.Column("id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("body", sa.String(length=500), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        sa.Column("asked_at", UTC, nullable=False),
        sa.Column("answered_at", UTC, nullable=True),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.CheckConstraint("votes >= 0", name=op.f("ck_live_questions_votes_non_negative")),
        _fk("live_questions", "session_id", "live_sessions"),
        _fk("live_questions", "creator_id", "creators"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_questions")),
    )
    op.create_index("ix_live_questions_session_id_votes", "live_questions", ["session_id", "votes"])
    op.create_table(
        "live_question_votes",
        sa.Column("question_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("voted_at", UTC, nullable=False),
        _fk("live_question_votes", "question_id", "live_questions"),
        _fk("live_question_votes", "creator_id", "creators"),
        sa.PrimaryKeyConstraint("question_id", "creator_id", name=op.f("pk_live_question_votes")),
    )
    op.create_table(
        "courses",
        sa.Column("id", ID, nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "stage IN ('novice', 'growing', 'mature')", name=op.f("ck_courses_stage_known")
        ),
        _fk("courses", "vertical_id", "verticals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("slug", name=op.f("uq_courses_slug")),
    )
    op.create_index("ix_courses_stage", "courses", ["stage"])
    op.create_table(
        "lessons",
        sa.Column("id", ID, nullable=False),
        sa.Column("course_id", ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("addresses", sa.String(length=40), nullable=True),
        sa.CheckConstraint("minutes > 0", name=op.f("ck_lessons_minutes_positive")),
        _fk("lessons", "course_id", "courses"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lessons")),
        sa.UniqueConstraint("course_id", "position", name="uq_lessons_course_id_position"),
    )
    op.create_index("ix_lessons_addresses", "lessons", ["addresses"])
    op.create_table(
        "lesson_completions",
        sa.Column("lesson_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("completed_at", UTC, nullable=False),
        _fk("lesson_completions", "lesson_id", "lessons"),
        _fk("lesson_completions", "creator_id", "creators"),
        sa.PrimaryKeyConstraint("lesson_id", "creator_id", name=op.f("pk_lesson_completions")),
    )
    op.create_index("ix_lesson_completions_creator_id", "lesson_completions", ["creator_id"])


def downgrade() -> None:
    op.drop_index("ix_lesson_completions_creator_id", table_name="lesson_completions")
    op.drop_table("lesson_completions")
    op.drop_index("ix_lessons_addresses", table_name="lessons")
    op.drop_table("lessons")
    op.drop_index("ix_courses_stage", table_name="courses")
    op.drop_table("courses")
    op.drop_table("live_question_votes")
    op.drop_index("ix_live_questions_session_id_votes", table_name="live_questions")
    op.drop_table("live_questions")
    op.drop_index("ix_live_rsvps_creator_id", table_name="live_rsvps")
    op.drop_table("live_rsvps")
    op.drop_index("ix_live_sessions_starts_at", table_name="live_sessions")
    op.drop_table("live_sessions")
