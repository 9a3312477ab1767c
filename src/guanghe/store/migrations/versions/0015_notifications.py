"""Notifications: the outbox of notices, their deliveries and creators' settings.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
KINDS = (
    "hotspot",
    "task",
    "reward",
    "payout",
    "originality_decision",
    "tier_change",
    "contract_proposal",
    "live_reminder",
)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("in_inbox", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("read_at", UTC, nullable=True),
        sa.CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{k}'" for k in KINDS)),
            name=op.f("ck_notices_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_notices_creator_id_creators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("creator_id", "dedupe_key", name="uq_notices_creator_id_dedupe_key"),
    )
    op.create_index("ix_notices_creator_id_id", "notices", ["creator_id", "id"])
    op.create_table(
        "notice_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("notice_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("next_attempt_at", UTC, nullable=False),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("lease_token", sa.String(length=40), nullable=True),
        sa.Column("digest_key", sa.String(length=40), nullable=True),
        sa.Column("last_error", sa.String(length=400), nullable=False),
        sa.Column("delivered_at", UTC, nullable=True),
        sa.CheckConstraint(
            "channel IN ('webhook', 'email')", name=op.f("ck_notice_deliveries_channel_known")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'delivered', 'dead')",
            name=op.f("ck_notice_deliveries_status_known"),
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_notice_deliveries_attempts_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.id"], name=op.f("fk_notice_deliveries_notice_id_notices")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_notice_deliveries_creator_id_creators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_deliveries")),
        sa.UniqueConstraint("notice_id", "channel", name="uq_notice_deliveries_notice_id_channel"),
    )
    op.create_index(
        "ix_notice_deliveries_status_next_attempt_at",
        "notice_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index("ix_notice_deliveries_digest_key", "notice_deliveries", ["digest_key"])
    op.create_table(
        "notification_settings",
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("quiet_start_minute", sa.Integer(), nullable=False),
        sa.Column("quiet_end_minute", sa.Integer(), nullable=False),
        sa.Column("digest", sa.Boolean(), nullable=False),
        sa.Column("digest_minute", sa.Integer(), nullable=False),
        sa.Column("webhook_url", sa.String(length=400), nullable=True),
        sa.Column("webhook_secret", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint(
            "quiet_start_minute BETWEEN 0 AND 1439",
            name=op.f("ck_notification_settings_quiet_start_in_day"),
        ),
        sa.CheckConstraint(
            "quiet_end_minute BETWEEN 0 AND 1439",
            name=op.f("ck_notification_settings_quiet_end_in_day"),
        ),
        sa.CheckConstraint(
            "digest_minute BETWEEN 0 AND 1439",
            name=op.f("ck_notification_settings_digest_minute_in_day"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_notification_settings_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("creator_id", name=op.f("pk_notification_settings")),
    )


def downgrade() -> None:
    op.drop_table("notification_settings")
    op.drop_index("ix_notice_deliveries_digest_key", table_name="notice_deliveries")
    op.drop_index("ix_notice_deliveries_status_next_attempt_at", table_name="notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_index("ix_notices_creator_id_id", table_name="notices")
    op.drop_table("notices")
