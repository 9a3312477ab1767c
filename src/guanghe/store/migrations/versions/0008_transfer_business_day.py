"""Ledger transfers carry the business day they are for.

Existing transfers get the day their batch or source names (``settle:D``, ``ad-spend:D``,
``payout:D``, boost deliveries ``D:creator``), else the UTC day they were posted.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_DAYS_SQLITE = """
UPDATE ledger_transfers SET business_day = CASE
    WHEN batch LIKE 'settle:____-__-__' OR batch LIKE 'ad-spend:____-__-__'
        OR batch LIKE 'payout:____-__-__' THEN substr(batch, -10)
    WHEN source_kind = 'boost_delivery' AND source_id LIKE '____-__-__:%'
        THEN substr(source_id, 1, 10)
    ELSE date(created_at)
END
"""

_DAYS_POSTGRES = """
UPDATE ledger_transfers SET business_day = CASE
    WHEN batch ~ '^(settle|ad-spend|payout):\\d{4}-\\d{2}-\\d{2}$'
        THEN CAST(right(batch, 10) AS date)
    WHEN source_kind = 'boost_delivery' AND source_id ~ '^\\d{4}-\\d{2}-\\d{2}:'
        THEN CAST(left(source_id, 10) AS date)
    ELSE CAST(created_at AT TIME ZONE 'UTC' AS date)
END
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a NOT NULL column only with a default; every row is then set below.
        op.add_column(
            "ledger_transfers",
            sa.Column(
                "business_day", sa.Date(), nullable=False, server_default=sa.text("'1970-01-01'")
            ),
        )
        op.execute(_DAYS_SQLITE)
        return
    op.add_column("ledger_transfers", sa.Column("business_day", sa.Date(), nullable=True))
    op.execute(_DAYS_POSTGRES)
    op.alter_column("ledger_transfers", "business_day", nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("ledger_transfers") as batch:
        batch.drop_column("business_day")
