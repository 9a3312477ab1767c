"""Traffic planning: impression budgets per pool and period, boosted-impression deliveries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "traffic_budgets",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("pool", sa.String(length=40), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_traffic_budgets_period_ordered")),
        sa.CheckConstraint(
            "impressions >= 0", name=op.f("ck_traffic_budgets_impressions_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_budgets")),
        sa.UniqueConstraint("pool", "starts_on", name="uq_traffic_budgets_pool_starts_on"),
    )
    op.create_table(
        "boost_deliveries",
        sa.Column("delivery_id", sa.String(length=120), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("work_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("impressions", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "impressions > 0", name=op.f("ck_boost_deliveries_impressions_positive")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_boost_deliveries_creator_id_creators")
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_boost_deliveries_work_id_works")
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_boost_deliveries")),
    )
    op.create_index("ix_boost_deliveries_day_creator_id", "boost_deliveries", ["day", "creator_id"])


def downgrade() -> None:
    op.drop_index("ix_boost_deliveries_day_creator_id", table_name="boost_deliveries")
    op.drop_table("boost_deliveries")
    op.drop_table("traffic_budgets")
