"""Originality: fingerprints, attributions, cases and decisions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "work_fingerprints",
        sa.Column("id", ID, nullable=False),
        sa.Column("work_id", ID, nullable=False),
        sa.Column("tag", sa.SmallInteger(), nullable=False),
        sa.Column("pdq", sa.LargeBinary(length=32), nullable=False),
        sa.Column("quality", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_work_fingerprints_work_id_works")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_fingerprints")),
    )
    op.create_index(op.f("ix_work_fingerprints_work_id"), "work_fingerprints", ["work_id"])
    op.create_table(
        "work_text_signatures",
        sa.Column("work_id", ID, nullable=False),
        sa.Column("minhash", sa.LargeBinary(length=512), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_work_text_signatures_work_id_works")
        ),
        sa.PrimaryKeyConstraint("work_id", name=op.f("pk_work_text_signatures")),
    )
    op.create_table(
        "work_originality",
        sa.Column("work_id", ID, nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("original_work_id", ID, nullable=True),
        sa.Column("original_creator_id", ID, nullable=True),
        sa.Column("distance", sa.SmallInteger(), nullable=True),
        sa.Column("text_similarity", sa.Float(), nullable=True),
        sa.Column("evidence", sa.String(length=200), nullable=False),
        sa.Column("decided_at", UTC, nullable=False),
        sa.CheckConstraint(
            "verdict IN ('original', 'duplicate', 'suspect')",
            name=op.f("ck_work_originality_verdict_known"),
        ),
        sa.CheckConstraint(
            "(verdict = 'original') = (original_work_id IS NULL)",
            name=op.f("ck_work_originality_copies_name_original"),
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_work_originality_work_id_works")
        ),
        sa.ForeignKeyConstraint(
            ["original_work_id"],
            ["works.id"],
            name=op.f("fk_work_originality_original_work_id_works"),
        ),
        sa.ForeignKeyConstraint(
            ["original_creator_id"],
            ["creators.id"],
            name=op.f("fk_work_originality_original_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("work_id", name=op.f("pk_work_originality")),
    )
    op.create_index(
        op.f("ix_work_originality_original_work_id"), "work_originality", ["original_work_id"]
    )
    op.create_index(
        op.f("ix_work_originality_original_creator_id"), "work_originality", ["original_creator_id"]
    )
    op.create_index(
        "ix_work_originality_verdict_work_id", "work_originality", ["verdict", "work_id"]
    )
    op.create_table(
        "originality_cases",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("work_id", ID, nullable=False),
        sa.Column("claimed_original_work_id", ID, nullable=True),
        sa.Column("filed_by_creator_id", ID, nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("opened_at", UTC, nullable=False),
        sa.Column("closed_at", UTC, nullable=True),
        sa.CheckConstraint(
            "kind IN ('review', 'claim', 'dispute')", name=op.f("ck_originality_cases_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('open', 'upheld', 'rejected')",
            name=op.f("ck_originality_cases_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_originality_cases_work_id_works")
        ),
        sa.ForeignKeyConstraint(
            ["claimed_original_work_id"],
            ["works.id"],
            name=op.f("fk_originality_cases_claimed_original_work_id_works"),
        ),
        sa.ForeignKeyConstraint(
            ["filed_by_creator_id"],
            ["creators.id"],
            name=op.f("fk_originality_cases_filed_by_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_originality_cases")),
    )
    op.create_index(op.f("ix_originality_cases_work_id"), "originality_cases", ["work_id"])
    op.create_index(
        op.f("ix_originality_cases_filed_by_creator_id"),
        "originality_cases",
        ["filed_by_creator_id"],
    )
    op.create_index("ix_originality_cases_status_id", "originality_cases", ["status", "id"])
    op.create_table(
        "originality_decisions",
        sa.Column("id", ID, nullable=False),
        sa.Column("work_id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("original_work_id", ID, nullable=True),
        sa.Column("decided_by_user_id", ID, nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("decided_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_originality_decisions_work_id_works")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["originality_cases.id"],
            name=op.f("fk_originality_decisions_case_id_originality_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["original_work_id"],
            ["works.id"],
            name=op.f("fk_originality_decisions_original_work_id_works"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_originality_decisions_decided_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_originality_decisions")),
    )
    op.create_index(op.f("ix_originality_decisions_work_id"), "originality_decisions", ["work_id"])
    op.create_index(op.f("ix_originality_decisions_case_id"), "originality_decisions", ["case_id"])


def downgrade() -> None:
    op.drop_table("originality_decisions")
    op.drop_table("originality_cases")
    op.drop_table("work_originality")
    op.drop_table("work_text_signatures")
    op.drop_table("work_fingerprints")
