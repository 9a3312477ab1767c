"""Monetization: advertisers and campaigns, merchants and products, creators'
authorisations (with their history), matched product placements and earnings estimates.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advertisers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advertisers")),
        sa.UniqueConstraint("name", name=op.f("uq_advertisers_name")),
    )
    op.create_table(
        "merchants",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_merchants")),
        sa.UniqueConstraint("name", name=op.f("uq_merchants_name")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "advertiser_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("billing", sa.String(length=4), nullable=False),
        sa.Column("bid_fen", sa.BigInteger(), nullable=False),
        sa.Column("budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("reserved_millifen", sa.BigInteger(), nullable=False),
        sa.Column("served_impressions", sa.BigInteger(), nullable=False),
        sa.Column("clicks", sa.BigInteger(), nullable=False),
        sa.Column("pacing", sa.String(length=5), nullable=False),
        sa.Column("target_verticals", sa.JSON(), nullable=False),
        sa.Column("target_stages", sa.JSON(), nullable=False),
        sa.Column("min_followers", sa.BigInteger(), nullable=False),
        sa.Column("max_followers", sa.BigInteger(), nullable=True),
        sa.Column("excluded_verticals", sa.JSON(), nullable=False),
        sa.Column("excluded_keywords", sa.JSON(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("creative_title", sa.String(length=80), nullable=False),
        sa.Column("creative_url", sa.String(length=400), nullable=False),
        sa.Column("creative_image_url", sa.String(length=400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("billing IN ('cpm', 'cpc')", name=op.f("ck_campaigns_billing_known")),
        sa.CheckConstraint("pacing IN ('even', 'asap')", name=op.f("ck_campaigns_pacing_known")),
        sa.CheckConstraint(
            "status IN ('active', 'paused', 'ended')", name=op.f("ck_campaigns_status_known")
        ),
        sa.CheckConstraint(
            "budget_fen > 0 AND bid_fen > 0", name=op.f("ck_campaigns_money_positive")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_campaigns_schedule_ordered")),
        sa.CheckConstraint(
            "reserved_millifen >= 0 AND reserved_millifen <= budget_fen * 1000",
            name=op.f("ck_campaigns_reserved_within_budget"),
        ),
        sa.ForeignKeyConstraint(
            ["advertiser_id"],
            ["advertisers.id"],
            name=op.f("fk_campaigns_advertiser_id_advertisers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaigns_advertiser_id"), ["advertiser_id"], unique=False
        )
        batch_op.create_index("ix_campaigns_status_ends_at", ["status", "ends_at"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "merchant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("commission_bp", sa.Integer(), nullable=False),
        sa.Column("stock", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "commission_bp > 0 AND commission_bp <= 10000",
            name=op.f("ck_products_commission_range"),
        ),
        sa.CheckConstraint("price_fen > 0", name=op.f("ck_products_price_positive")),
        sa.CheckConstraint("stock >= 0", name=op.f("ck_products_stock_non_negative")),
        sa.ForeignKeyConstraint(
            ["merchant_id"], ["merchants.id"], name=op.f("fk_products_merchant_id_merchants")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_merchant_id"), ["merchant_id"], unique=False)

    op.create_table(
        "creator_monetization",
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("profile_ads", sa.Boolean(), nullable=False),
        sa.Column("product_display", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_creator_monetization_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("creator_id", name=op.f("pk_creator_monetization")),
    )
    op.create_table(
        "earnings_estimates",
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("profile_views_28d", sa.BigInteger(), nullable=False),
        sa.Column("profile_ads_fen_28d", sa.BigInteger(), nullable=False),
        sa.Column("product_display_fen_28d", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_earnings_estimates_creator_id_creators")
        ),
        sa.PrimaryKeyConstraint("creator_id", name=op.f("pk_earnings_estimates")),
    )
    op.create_table(
        "monetization_consents",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('profile_ads', 'product_display')",
            name=op.f("ck_monetization_consents_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_monetization_consents_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monetization_consents")),
    )
    with op.batch_alter_table("monetization_consents", schema=None) as batch_op:
        batch_op.create_index(
            "ix_monetization_consents_creator_id_id", ["creator_id", "id"], unique=False
        )

    op.create_table(
        "product_placements",
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column(
            "product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_product_placements_creator_id_creators")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_product_placements_product_id_products")
        ),
        sa.PrimaryKeyConstraint("creator_id", "rank", name=op.f("pk_product_placements")),
    )
    with op.batch_alter_table("product_placements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_placements_product_id"), ["product_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("product_placements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_placements_product_id"))

    op.drop_table("product_placements")
    with op.batch_alter_table("monetization_consents", schema=None) as batch_op:
        batch_op.drop_index("ix_monetization_consents_creator_id_id")

    op.drop_table("monetization_consents")
    op.drop_table("earnings_estimates")
    op.drop_table("creator_monetization")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_merchant_id"))

    op.drop_table("products")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index("ix_campaigns_status_ends_at")
        batch_op.drop_index(batch_op.f("ix_campaigns_advertiser_id"))

    op.drop_table("campaigns")
    op.drop_table("merchants")
    op.drop_table("advertisers")
