"""Institution contracts (earnings splits by period) and settled days.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settled_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("transfers_created", sa.Integer(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_settled_days")),
    )
    op.create_table(
        "institution_contracts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "institution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("split_bp", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "split_bp >= 0 AND split_bp <= 10000",
            name=op.f("ck_institution_contracts_split_in_range"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from",
            name=op.f("ck_institution_contracts_period_ordered"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_institution_contracts_creator_id_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_contracts_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institution_contracts")),
    )
    with op.batch_alter_table("institution_contracts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_institution_contracts_creator_id_valid_from",
            ["creator_id", "valid_from"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_institution_contracts_institution_id"), ["institution_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("institution_contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_institution_contracts_institution_id"))
        batch_op.drop_index("ix_institution_contracts_creator_id_valid_from")

    op.drop_table("institution_contracts")
    op.drop_table("settled_days")
