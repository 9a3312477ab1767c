"""Video and sound fingerprints of works, shared music, and segment matches.

Revision ID: 0020
Revises: 0021
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0021"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "video_fingerprints",
        sa.Column("id", ID, nullable=False),
        sa.Column("work_id", ID, nullable=False),
        sa.Column("codes", sa.LargeBinary(), nullable=False),
        sa.Column("tags", sa.LargeBinary(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("interval_ms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_video_fingerprints_work_id_works")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_video_fingerprints")),
        sa.UniqueConstraint("work_id", name=op.f("uq_video_fingerprints_work_id")),
    )
    op.create_table(
        "audio_fingerprints",
        sa.Column("id", ID, nullable=False),
        sa.Column("work_id", ID, nullable=False),
        sa.Column("items", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_audio_fingerprints_work_id_works")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audio_fingerprints")),
        sa.UniqueConstraint("work_id", name=op.f("uq_audio_fingerprints_work_id")),
    )
    op.create_table(
        "shared_music",
        sa.Column("work_id", ID, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("marked_by_user_id", ID, nullable=True),
        sa.Column("marked_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_shared_music_work_id_works")
        ),
        sa.ForeignKeyConstraint(
            ["marked_by_user_id"],
            ["users.id"],
            name=op.f("fk_shared_music_marked_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("work_id", name=op.f("pk_shared_music")),
    )
    op.create_table(
        "media_matches",
        sa.Column("id", ID, nullable=False),
        sa.Column("work_id", ID, nullable=False),
        sa.Column("matched_work_id", ID, nullable=False),
        sa.Column("original_work_id", ID, nullable=False),
        sa.Column("original_creator_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=5), nullable=False),
        sa.Column("upload_start_ms", sa.Integer(), nullable=False),
        sa.Column("upload_end_ms", sa.Integer(), nullable=False),
        sa.Column("original_start_ms", sa.Integer(), nullable=False),
        sa.Column("original_end_ms", sa.Integer(), nullable=False),
        sa.Column("upload_share", sa.Float(), nullable=False),
        sa.Column("speed", sa.Float(), nullable=False),
        sa.Column("mirrored", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("evidence", sa.String(length=300), nullable=False),
        sa.Column("matched_at", UTC, nullable=False),
        sa.CheckConstraint("kind IN ('video', 'audio')", name=op.f("ck_media_matches_kind_known")),
        sa.CheckConstraint(
            "upload_start_ms <= upload_end_ms AND original_start_ms <= original_end_ms",
            name=op.f("ck_media_matches_segments_ordered"),
        ),
        sa.CheckConstraint(
            "upload_share >= 0 AND upload_share <= 1",
            name=op.f("ck_media_matches_share_is_fraction"),
        ),
        sa.ForeignKeyConstraint(
            ["work_id"], ["works.id"], name=op.f("fk_media_matches_work_id_works")
        ),
        sa.ForeignKeyConstraint(
            ["matched_work_id"],
            ["works.id"],
            name=op.f("fk_media_matches_matched_work_id_works"),
        ),
        sa.ForeignKeyConstraint(
            ["original_work_id"],
            ["works.id"],
            name=op.f("fk_media_matches_original_work_id_works"),
        ),
        sa.ForeignKeyConstraint(
            ["original_creator_id"],
            ["creators.id"],
            name=op.f("fk_media_matches_original_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_matches")),
    )
    op.create_index("ix_media_matches_work_id", "media_matches", ["work_id"])
    op.create_index("ix_media_matches_original_work_id", "media_matches", ["original_work_id"])
    op.create_index(
        "ix_media_matches_original_creator_id", "media_matches", ["original_creator_id"]
    )


def downgrade() -> None:
    op.drop_table("media_matches")
    op.drop_table("shared_music")
    op.drop_table("audio_fingerprints")
    op.drop_table("video_fingerprints")
