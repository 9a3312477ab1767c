"""Hotspots and the event calendar: hourly topic counts, hotspots, calendar events and
calendar-feed tokens.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "topic_hourly_counts",
        sa.Column("vertical_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("hour", UTC, nullable=False),
        sa.Column("works", sa.Integer(), nullable=False),
        sa.Column("engagement", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "works >= 0 AND engagement >= 0",
            name=op.f("ck_topic_hourly_counts_counts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["vertical_id"],
            ["verticals.id"],
            name=op.f("fk_topic_hourly_counts_vertical_id_verticals"),
        ),
        sa.PrimaryKeyConstraint(
            "vertical_id", "topic", "hour", name=op.f("pk_topic_hourly_counts")
        ),
    )
    op.create_index("ix_topic_hourly_counts_hour", "topic_hourly_counts", ["hour"])
    op.create_table(
        "hotspots",
        sa.Column("id", ID, nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=80), nullable=False),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("lift", sa.Float(), nullable=False),
        sa.Column("recent_works", sa.Integer(), nullable=False),
        sa.Column("onset_at", UTC, nullable=False),
        sa.Column("peak_at", UTC, nullable=False),
        sa.Column("detected_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("curve_start", UTC, nullable=False),
        sa.Column("curve", sa.JSON(), nullable=False),
        sa.Column("example_work_ids", sa.JSON(), nullable=False),
        sa.Column("vertical_ids", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "state IN ('rising', 'peaking', 'fading')", name=op.f("ck_hotspots_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["vertical_id"], ["verticals.id"], name=op.f("fk_hotspots_vertical_id_verticals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hotspots")),
        sa.UniqueConstraint("vertical_id", "topic", "onset_at", name="uq_hotspots_vertical_id"),
    )
    op.create_index("ix_hotspots_active_vertical_id", "hotspots", ["active", "vertical_id"])
    op.create_table(
        "calendar_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("uid", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("vertical_ids", sa.JSON(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_calendar_events_period_ordered")),
        sa.CheckConstraint(
            "kind IN ('platform_event', 'campaign', 'holiday')",
            name=op.f("ck_calendar_events_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_events")),
        sa.UniqueConstraint("uid", name=op.f("uq_calendar_events_uid")),
    )
    op.create_index("ix_calendar_events_starts_on_id", "calendar_events", ["starts_on", "id"])
    op.create_table(
        "calendar_feed_tokens",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("revoked_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_calendar_feed_tokens_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_calendar_feed_tokens_token_sha256")),
    )
    op.create_index(
        op.f("ix_calendar_feed_tokens_creator_id"), "calendar_feed_tokens", ["creator_id"]
    )


def downgrade() -> None:
    op.drop_table("calendar_feed_tokens")
    op.drop_table("calendar_events")
    op.drop_table("hotspots")
    op.drop_table("topic_hourly_counts")
