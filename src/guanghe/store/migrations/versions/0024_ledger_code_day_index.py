"""Ledger transfers indexed by (code, business day), so that the totals of one code over a few
days (deliveries paid from directed pools, a period's floor claims) read those rows instead of
the whole table, which grows by every day's settlement.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ledger_transfers_code_business_day", "ledger_transfers", ["code", "business_day"]
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_transfers_code_business_day", table_name="ledger_transfers")
