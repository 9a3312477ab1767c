"""Covers the keypoint backfill found no keypoint in, kept so that no backfill reads them again;
fingerprint rows indexed by (work, tag) so that "has keypoint rows" is read from the index.

Revision ID: 0023
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "cover_keypoint_scans",
        sa.Column("work_id", ID, nullable=False),
        sa.Column("scanned_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_cover_keypoint_scans_work_id_works")
        ),
        sa.PrimaryKeyConstraint("work_id", name=op.f("pk_cover_keypoint_scans")),
    )
    op.create_index("ix_work_fingerprints_work_id_tag", "work_fingerprints", ["work_id", "tag"])
    op.drop_index(op.f("ix_work_fingerprints_work_id"), table_name="work_fingerprints")


def downgrade() -> None:
    op.create_index(op.f("ix_work_fingerprints_work_id"), "work_fingerprints", ["work_id"])
    op.drop_index("ix_work_fingerprints_work_id_tag", table_name="work_fingerprints")
    op.drop_table("cover_keypoint_scans")
