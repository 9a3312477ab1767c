"""Core domain: verticals (seeded with the taxonomy), institutions, creators, works, users and
API tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

#: The vertical taxonomy as first shipped; later changes come as new migrations.
VERTICALS = [
    (1, "food", "Food"),
    (2, "gaming", "Gaming"),
    (3, "comedy", "Comedy"),
    (4, "education", "Education"),
    (5, "beauty", "Beauty"),
    (6, "rural-life", "Rural life"),
    (7, "sports", "Sports"),
    (8, "music", "Music"),
    (9, "tech", "Tech"),
    (10, "parenting", "Parenting"),
    (11, "travel", "Travel"),
    (12, "virtual-3d", "Virtual / 3D"),
    (13, "fashion", "Fashion"),
    (14, "pets", "Pets"),
    (15, "automotive", "Automotive"),
    (16, "dance", "Dance"),
]

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "institutions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("founded_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_institutions")),
        sa.UniqueConstraint("name", name=op.f("uq_institutions_name")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('operator', 'creator', 'institution', 'advertiser', 'merchant', 'ranker')",
            name=op.f("ck_users_role_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index("ix_users_role_subject_id", ["role", "subject_id"], unique=False)

    op.create_table(
        "verticals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verticals")),
        sa.UniqueConstraint("slug", name=op.f("uq_verticals_slug")),
    )
    op.bulk_insert(
        sa.table("verticals", sa.column("id"), sa.column("slug"), sa.column("name")),
        [{"id": i, "slug": slug, "name": name} for i, slug, name in VERTICALS],
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_api_tokens_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_api_tokens_token_sha256")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "creators",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("handle", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("follower_count", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column(
            "institution_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.CheckConstraint(
            "stage IN ('novice', 'growing', 'mature')", name=op.f("ck_creators_stage_known")
        ),
        sa.CheckConstraint("follower_count >= 0", name=op.f("ck_creators_followers_non_negative")),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_creators_institution_id_institutions"),
        ),
        sa.ForeignKeyConstraint(
            ["vertical_id"], ["verticals.id"], name=op.f("fk_creators_vertical_id_verticals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_creators")),
        sa.UniqueConstraint("handle", name=op.f("uq_creators_handle")),
    )
    with op.batch_alter_table("creators", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_creators_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index("ix_creators_vertical_id_id", ["vertical_id", "id"], unique=False)

    op.create_table(
        "works",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("caption", sa.Text(), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=False),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("cover_path", sa.String(length=400), nullable=True),
        sa.CheckConstraint("duration_s > 0", name=op.f("ck_works_duration_positive")),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_works_creator_id_creators")
        ),
        sa.ForeignKeyConstraint(
            ["vertical_id"], ["verticals.id"], name=op.f("fk_works_vertical_id_verticals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_works")),
    )
    with op.batch_alter_table("works", schema=None) as batch_op:
        batch_op.create_index(
            "ix_works_creator_id_published_at", ["creator_id", "published_at"], unique=False
        )
        batch_op.create_index("ix_works_published_at", ["published_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_works_vertical_id"), ["vertical_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("works", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_works_vertical_id"))
        batch_op.drop_index("ix_works_published_at")
        batch_op.drop_index("ix_works_creator_id_published_at")

    op.drop_table("works")
    with op.batch_alter_table("creators", schema=None) as batch_op:
        batch_op.drop_index("ix_creators_vertical_id_id")
        batch_op.drop_index(batch_op.f("ix_creators_institution_id"))

    op.drop_table("creators")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_tokens_user_id"))

    op.drop_table("api_tokens")
    op.drop_table("verticals")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index("ix_users_role_subject_id")

    op.drop_table("users")
    op.drop_table("institutions")
