"""Creator growth: tier history.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "creator_tier_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("tier", sa.String(length=32), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("quality", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_creator_tier_history_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creator_tier_history")),
        sa.UniqueConstraint("creator_id", "since", name=op.f("uq_creator_tier_history_creator_id")),
    )
    op.create_index(
        op.f("ix_creator_tier_history_creator_id"),
        "creator_tier_history",
        ["creator_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_creator_tier_history_creator_id"), table_name="creator_tier_history")
    op.drop_table("creator_tier_history")
