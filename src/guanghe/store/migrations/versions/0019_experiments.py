"""Experiments: operators' experiments and each creator's recorded arm.

Revision ID: 0019
Revises: 0020
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0020"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", ID, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("hypothesis", sa.Text(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("treatment_share", sa.Float(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_experiments_period_ordered")),
        sa.CheckConstraint(
            "treatment_share > 0 AND treatment_share < 1",
            name=op.f("ck_experiments_treatment_share_open_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_experiments")),
        sa.UniqueConstraint("key", name=op.f("uq_experiments_key")),
    )
    op.create_table(
        "experiment_assignments",
        sa.Column("experiment_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("arm", sa.String(length=9), nullable=False),
        sa.Column("assigned_on", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "arm IN ('control', 'treatment')", name=op.f("ck_experiment_assignments_arm_known")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_experiment_assignments_creator_id_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["experiments.id"],
            name=op.f("fk_experiment_assignments_experiment_id_experiments"),
        ),
        sa.PrimaryKeyConstraint(
            "experiment_id", "creator_id", name=op.f("pk_experiment_assignments")
        ),
    )


def downgrade() -> None:
    op.drop_table("experiment_assignments")
    op.drop_table("experiments")
