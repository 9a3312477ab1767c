"""What happens to a copy: match records (with room for video and audio segments) and the
original authors' policy choices; the duplicates judged so far become matches in force.

Revision ID: 0021
Revises: 0022
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0022"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "copy_matches",
        sa.Column("id", ID, nullable=False),
        sa.Column("copy_work_id", ID, nullable=False),
        sa.Column("original_work_id", ID, nullable=False),
        sa.Column("original_creator_id", ID, nullable=False),
        sa.Column("media", sa.String(length=10), nullable=False),
        sa.Column("copy_start_ms", sa.Integer(), nullable=True),
        sa.Column("copy_end_ms", sa.Integer(), nullable=True),
        sa.Column("original_start_ms", sa.Integer(), nullable=True),
        sa.Column("original_end_ms", sa.Integer(), nullable=True),
        sa.Column("copy_share_bp", sa.SmallInteger(), nullable=True),
        sa.Column("distance", sa.SmallInteger(), nullable=True),
        sa.Column("evidence", sa.String(length=200), nullable=False),
        sa.Column("effective_at", UTC, nullable=False),
        sa.Column("decision_id", ID, nullable=True),
        sa.Column("ended_at", UTC, nullable=True),
        sa.Column("ended_by_decision_id", ID, nullable=True),
        sa.CheckConstraint(
            "media IN ('picture', 'video', 'audio')", name=op.f("ck_copy_matches_media_known")
        ),
        sa.CheckConstraint(
            "(copy_start_ms IS NULL) = (copy_end_ms IS NULL) "
            "AND (copy_start_ms IS NULL OR 0 <= copy_start_ms AND copy_start_ms < copy_end_ms)",
            name=op.f("ck_copy_matches_copy_segment_ordered"),
        ),
        sa.CheckConstraint(
            "(original_start_ms IS NULL) = (original_end_ms IS NULL) "
            "AND (original_start_ms IS NULL "
            "OR 0 <= original_start_ms AND original_start_ms < original_end_ms)",
            name=op.f("ck_copy_matches_original_segment_ordered"),
        ),
        sa.CheckConstraint(
            "copy_share_bp IS NULL OR copy_share_bp BETWEEN 1 AND 10000",
            name=op.f("ck_copy_matches_share_in_range"),
        ),
        sa.CheckConstraint(
            "ended_at IS NULL OR ended_at >= effective_at",
            name=op.f("ck_copy_matches_ends_after_start"),
        ),
        sa.ForeignKeyConstraint(
            ["copy_work_id"], ["works.id"], name=op.f("fk_copy_matches_copy_work_id_works")
        ),
        sa.ForeignKeyConstraint(
            ["original_work_id"], ["works.id"], name=op.f("fk_copy_matches_original_work_id_works")
        ),
        sa.ForeignKeyConstraint(
            ["original_creator_id"],
            ["creators.id"],
            name=op.f("fk_copy_matches_original_creator_id_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["originality_decisions.id"],
            name=op.f("fk_copy_matches_decision_id_originality_decisions"),
        ),
        sa.ForeignKeyConstraint(
            ["ended_by_decision_id"],
            ["originality_decisions.id"],
            name=op.f("fk_copy_matches_ended_by_decision_id_originality_decisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_matches")),
    )
    op.create_index(
        "ix_copy_matches_copy_work_id_ended_at", "copy_matches", ["copy_work_id", "ended_at"]
    )
    op.create_index(op.f("ix_copy_matches_original_work_id"), "copy_matches", ["original_work_id"])
    op.create_index(
        op.f("ix_copy_matches_original_creator_id"), "copy_matches", ["original_creator_id"]
    )
    op.create_table(
        "copy_policy_choices",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("work_id", ID, nullable=True),
        sa.Column("policy", sa.String(length=10), nullable=False),
        sa.Column("chosen_by_user_id", ID, nullable=True),
        sa.Column("chosen_at", UTC, nullable=False),
        sa.CheckConstraint(
            "policy IN ('track', 'block', 'monetize')",
            name=op.f("ck_copy_policy_choices_policy_known"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_copy_policy_choices_creator_id_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_copy_policy_choices_work_id_works")
        ),
        sa.ForeignKeyConstraint(
            ["chosen_by_user_id"],
            ["users.id"],
            name=op.f("fk_copy_policy_choices_chosen_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_policy_choices")),
    )
    op.create_index(
        "ix_copy_policy_choices_creator_id_work_id",
        "copy_policy_choices",
        ["creator_id", "work_id"],
    )
    # Every copy judged so far is a picture match in force since its verdict.
    op.execute(
        "INSERT INTO copy_matches (copy_work_id, original_work_id, original_creator_id, media, "
        "distance, evidence, effective_at) "
        "SELECT work_id, original_work_id, original_creator_id, 'picture', distance, evidence, "
        "decided_at FROM work_originality WHERE verdict = 'duplicate' ORDER BY work_id"
    )


def downgrade() -> None:
    op.drop_table("copy_policy_choices")
    op.drop_table("copy_matches")
