"""Incentive plan: programmes and each creator's enrolment per window.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incentive_programs",
        sa.Column("id", _ID, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "origin IN ('file', 'api')", name=op.f("ck_incentive_programs_origin_known")
        ),
        sa.CheckConstraint("revision >= 1", name=op.f("ck_incentive_programs_revision_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incentive_programs")),
        sa.UniqueConstraint("name", name=op.f("uq_incentive_programs_name")),
    )
    op.create_table(
        "incentive_enrolments",
        sa.Column("id", _ID, nullable=False),
        sa.Column("program_id", _ID, nullable=False),
        sa.Column("creator_id", _ID, nullable=False),
        sa.Column("window_starts_on", sa.Date(), nullable=False),
        sa.Column("window_ends_on", sa.Date(), nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("baseline_plays", sa.BigInteger(), nullable=False),
        sa.Column("target_plays", sa.BigInteger(), nullable=False),
        sa.Column("target_works", sa.Integer(), nullable=False),
        sa.Column("plays", sa.BigInteger(), nullable=False),
        sa.Column("original_works", sa.Integer(), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("progress_on", sa.Date(), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("reward_fen", sa.BigInteger(), nullable=False),
        sa.Column("reward_impressions", sa.BigInteger(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("floor_period_starts_on", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "window_ends_on >= window_starts_on",
            name=op.f("ck_incentive_enrolments_window_ordered"),
        ),
        sa.CheckConstraint(
            "baseline_plays >= 0 AND target_plays >= 0 AND target_works >= 0 "
            "AND plays >= 0 AND original_works >= 0",
            name=op.f("ck_incentive_enrolments_counts_non_negative"),
        ),
        sa.CheckConstraint(
            "reward_fen >= 0 AND reward_impressions >= 0",
            name=op.f("ck_incentive_enrolments_rewards_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_incentive_enrolments_creator_id_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["incentive_programs.id"],
            name=op.f("fk_incentive_enrolments_program_id_incentive_programs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incentive_enrolments")),
        sa.UniqueConstraint(
            "program_id",
            "creator_id",
            "window_starts_on",
            name="uq_incentive_enrolments_program_id_creator_id_window_starts_on",
        ),
    )
    op.create_index(
        "ix_incentive_enrolments_creator_id",
        "incentive_enrolments",
        ["creator_id", "window_starts_on"],
    )


def downgrade() -> None:
    op.drop_index("ix_incentive_enrolments_creator_id", table_name="incentive_enrolments")
    op.drop_table("incentive_enrolments")
    op.drop_table("incentive_programs")
