"""Task center: sponsors' tasks, creators' claims on their slots, the cycle's offers.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_HOLDING = "status IN ('accepted', 'submitted', 'checked', 'approved')"


def upgrade() -> None:
    _tasks()
    _claims()
    _offers()


def _tasks() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", _ID, nullable=False),
        sa.Column("sponsor_kind", sa.String(length=16), nullable=False),
        sa.Column("sponsor_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("vertical_ids", sa.JSON(), nullable=False),
        sa.Column("stages", sa.JSON(), nullable=False),
        sa.Column("min_followers", sa.BigInteger(), nullable=False),
        sa.Column("max_followers", sa.BigInteger(), nullable=True),
        sa.Column("hashtag", sa.String(length=60), nullable=True),
        sa.Column("min_plays", sa.BigInteger(), nullable=False),
        sa.Column("plays_within_days", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("priority_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accept_hours", sa.Integer(), nullable=False),
        sa.Column("reward_fen", sa.BigInteger(), nullable=False),
        sa.Column("reward_impressions", sa.BigInteger(), nullable=False),
        sa.Column("slots", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('shooting', 'promotion', 'topic')", name=op.f("ck_tasks_kind_known")
        ),
        sa.CheckConstraint(
            "sponsor_kind IN ('platform', 'advertiser', 'institution')",
            name=op.f("ck_tasks_sponsor_known"),
        ),
        sa.CheckConstraint("status IN ('open', 'ended')", name=op.f("ck_tasks_status_known")),
        sa.CheckConstraint("slots > 0", name=op.f("ck_tasks_slots_positive")),
        sa.CheckConstraint(
            "reward_fen >= 0 AND reward_impressions >= 0 AND reward_fen + reward_impressions > 0",
            name=op.f("ck_tasks_reward_positive"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_tasks_window_ordered")),
        sa.CheckConstraint(
            "max_followers IS NULL OR max_followers >= min_followers",
            name=op.f("ck_tasks_followers_ordered"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index("ix_tasks_status_ends_at", "tasks", ["status", "ends_at"])
    op.create_index("ix_tasks_sponsor", "tasks", ["sponsor_kind", "sponsor_id"])


def _claims() -> None:
    op.create_table(
        "task_claims",
        sa.Column("id", _ID, nullable=False),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("creator_id", _ID, nullable=False),
        sa.Column("slot_no", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("work_id", _ID, nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("check_note", sa.String(length=400), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.CheckConstraint(
            "status IN ('accepted', 'submitted', 'checked', 'approved', 'rejected', 'expired')",
            name=op.f("ck_task_claims_status_known"),
        ),
        sa.CheckConstraint("slot_no >= 1", name=op.f("ck_task_claims_slot_positive")),
        sa.CheckConstraint(
            "status = 'accepted' OR status = 'expired' OR work_id IS NOT NULL",
            name=op.f("ck_task_claims_submission_names_work"),
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_claims_task_id_tasks")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_task_claims_creator_id_creators")
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_task_claims_work_id_works")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_claims")),
    )
    for name, column in (("slot", "slot_no"), ("by_creator", "creator_id")):
        op.create_index(
            f"uq_task_claims_held_{name}",
            "task_claims",
            ["task_id", column],
            unique=True,
            sqlite_where=sa.text(_HOLDING),
            postgresql_where=sa.text(_HOLDING),
        )
    op.create_index("ix_task_claims_creator_id", "task_claims", ["creator_id"])
    op.create_index("ix_task_claims_status", "task_claims", ["status"])


def _offers() -> None:
    op.create_table(
        "task_offers",
        sa.Column("id", _ID, nullable=False),
        sa.Column("offered_on", sa.Date(), nullable=False),
        sa.Column("creator_id", _ID, nullable=False),
        sa.Column("task_id", _ID, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("p_accept", sa.Float(), nullable=False),
        sa.Column("p_complete", sa.Float(), nullable=False),
        sa.Column("value_fen", sa.Float(), nullable=False),
        sa.Column("why", sa.JSON(), nullable=False),
        sa.CheckConstraint("rank >= 1", name=op.f("ck_task_offers_rank_positive")),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_task_offers_creator_id_creators")
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_task_offers_task_id_tasks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_offers")),
        sa.UniqueConstraint("offered_on", "creator_id", "task_id", name="uq_task_offers_day_pair"),
    )
    op.create_index(
        "ix_task_offers_creator_id_offered_on", "task_offers", ["creator_id", "offered_on"]
    )
    op.create_index("ix_task_offers_task_id", "task_offers", ["task_id"])


def downgrade() -> None:
    op.drop_table("task_offers")
    op.drop_table("task_claims")
    op.drop_table("tasks")
