"""Tasks an institution's agent brought: the agent and its commission per approved slot.

Revision ID: 0022
Revises: 0014
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0014"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_id", ID, nullable=True))
        batch_op.add_column(
            sa.Column("agent_commission_fen", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_tasks_agent_id_users"), "users", ["agent_id"], ["id"]
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_tasks_agent_commission"),
            "agent_commission_fen >= 0 AND (agent_commission_fen = 0 OR agent_id IS NOT NULL)",
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.alter_column("agent_commission_fen", server_default=None)
        batch_op.create_index("ix_tasks_agent_id", ["agent_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_agent_id")
        batch_op.drop_constraint(batch_op.f("ck_tasks_agent_commission"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_tasks_agent_id_users"), type_="foreignkey")
        batch_op.drop_column("agent_commission_fen")
        batch_op.drop_column("agent_id")
