"""The Torch programme: contracts with per-source splits and a kept history, institution
levels, Torch budgets, institutions' traffic preferences, author nominations, the ``agent``
role and agents' ledger accounts.

Each existing contract becomes an ``active``, non-exclusive contract whose single ``split_bp``
is its split of every income source.

Revision ID: 0013
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
SOURCES = ("ads", "commerce", "tasks", "incentives")
OLD_ROLES = "'operator', 'creator', 'institution', 'advertiser', 'merchant', 'ranker'"
OLD_OWNERS = (
    "'platform', 'advertiser', 'merchant', 'creator', 'institution', 'program', 'traffic_pool'"
)


def upgrade() -> None:
    # The single splits wait in a scratch table while the contracts table is rebuilt (on
    # SQLite a rebuild drops the table, which nothing may reference at that moment).
    op.execute(
        "CREATE TABLE contract_split_seed AS SELECT id AS contract_id, split_bp "
        "FROM institution_contracts"
    )
    with op.batch_alter_table("institution_contracts") as batch:
        batch.add_column(
            sa.Column("exclusive", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("notice_days", sa.Integer(), nullable=False, server_default="30")
        )
        batch.add_column(
            sa.Column("status", sa.String(12), nullable=False, server_default="active")
        )
    with op.batch_alter_table("institution_contracts") as batch:
        batch.drop_constraint(op.f("ck_institution_contracts_split_in_range"), type_="check")
        batch.drop_column("split_bp")
        batch.alter_column("exclusive", server_default=None)
        batch.alter_column("notice_days", server_default=None)
        batch.alter_column("status", server_default=None)
        batch.create_check_constraint(
            "status_known", "status IN ('proposed', 'active', 'declined', 'ended')"
        )
        batch.create_check_constraint("notice_in_range", "notice_days >= 0 AND notice_days <= 365")
    _contract_tables()
    _programme_tables()
    for source in SOURCES:
        op.execute(
            "INSERT INTO contract_splits (contract_id, source, split_bp) "
            f"SELECT contract_id, '{source}', split_bp FROM contract_split_seed"
        )
    op.drop_table("contract_split_seed")
    _swap_check("users", "role_known", f"role IN ({OLD_ROLES}, 'agent')")
    _swap_check("ledger_accounts", "owner_kind_known", f"owner_kind IN ({OLD_OWNERS}, 'agent')")


def _swap_check(table: str, name: str, condition: str) -> None:
    with op.batch_alter_table(table) as batch:
        batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
        batch.create_check_constraint(name, condition)


def _contract_tables() -> None:
    op.create_table(
        "contract_splits",
        sa.Column("contract_id", ID, nullable=False),
        sa.Column("source", sa.String(12), nullable=False),
        sa.Column("split_bp", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "source IN ('ads', 'commerce', 'tasks', 'incentives')",
            name=op.f("ck_contract_splits_source_known"),
        ),
        sa.CheckConstraint(
            "split_bp >= 0 AND split_bp <= 10000", name=op.f("ck_contract_splits_split_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["institution_contracts.id"],
            name=op.f("fk_contract_splits_contract_id_institution_contracts"),
        ),
        sa.PrimaryKeyConstraint("contract_id", "source", name=op.f("pk_contract_splits")),
    )
    op.create_table(
        "contract_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("contract_id", ID, nullable=False),
        sa.Column("action", sa.String(12), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=False),
        sa.Column("actor_user_id", sa.BigInteger(), nullable=True),
        sa.Column("effective_on", sa.Date(), nullable=True),
        sa.Column("at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["institution_contracts.id"],
            name=op.f("fk_contract_events_contract_id_institution_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_events")),
    )
    op.create_index(op.f("ix_contract_events_contract_id"), "contract_events", ["contract_id"])


def _programme_tables() -> None:
    op.create_table(
        "institution_levels",
        sa.Column("institution_id", ID, nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("level", sa.String(1), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("computed_at", UTC, nullable=False),
        sa.CheckConstraint(
            "level IN ('S', 'A', 'B', 'C')", name=op.f("ck_institution_levels_level_known")
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_levels_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("institution_id", "month", name=op.f("pk_institution_levels")),
    )
    op.create_table(
        "torch_budgets",
        sa.Column("id", ID, nullable=False),
        sa.Column("target", sa.String(40), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("traffic_impressions", sa.BigInteger(), nullable=False),
        sa.Column("min_new_share_bp", sa.Integer(), nullable=False),
        sa.Column("max_creator_share_bp", sa.Integer(), nullable=False),
        sa.Column("nomination_slots", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "cash_fen >= 0 AND traffic_impressions >= 0",
            name=op.f("ck_torch_budgets_amounts_non_negative"),
        ),
        sa.CheckConstraint("ends_on >= starts_on", name=op.f("ck_torch_budgets_period_ordered")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_torch_budgets")),
        sa.UniqueConstraint("target", "starts_on", name="uq_torch_budgets_target_starts_on"),
    )
    op.create_table(
        "institution_traffic_preferences",
        sa.Column("institution_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("guarantee_impressions", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint(
            "guarantee_impressions >= 0",
            name=op.f("ck_institution_traffic_preferences_guarantee_non_negative"),
        ),
        sa.CheckConstraint(
            "weight >= 0", name=op.f("ck_institution_traffic_preferences_weight_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_institution_traffic_preferences_creator_id_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_institution_traffic_preferences_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint(
            "institution_id", "creator_id", name=op.f("pk_institution_traffic_preferences")
        ),
    )
    op.create_table(
        "author_nominations",
        sa.Column("id", ID, nullable=False),
        sa.Column("institution_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("nominated_at", UTC, nullable=False),
        sa.Column("decided_at", UTC, nullable=True),
        sa.CheckConstraint(
            "status IN ('nominated', 'approved', 'rejected')",
            name=op.f("ck_author_nominations_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_author_nominations_creator_id_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["institution_id"],
            ["institutions.id"],
            name=op.f("fk_author_nominations_institution_id_institutions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author_nominations")),
        sa.UniqueConstraint("creator_id", "starts_on", name="uq_author_nominations_creator_id"),
    )
    op.create_index(
        op.f("ix_author_nominations_institution_id"), "author_nominations", ["institution_id"]
    )


def downgrade() -> None:
    _swap_check("ledger_accounts", "owner_kind_known", f"owner_kind IN ({OLD_OWNERS})")
    _swap_check("users", "role_known", f"role IN ({OLD_ROLES})")
    op.execute(
        "CREATE TABLE contract_split_seed AS SELECT contract_id, MAX(split_bp) AS split_bp "
        "FROM contract_splits GROUP BY contract_id"
    )
    for table in (
        "author_nominations",
        "institution_traffic_preferences",
        "torch_budgets",
        "institution_levels",
        "contract_events",
        "contract_splits",
    ):
        op.drop_table(table)
    with op.batch_alter_table("institution_contracts") as batch:
        batch.add_column(sa.Column("split_bp", sa.Integer(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE institution_contracts SET split_bp = COALESCE((SELECT s.split_bp FROM "
        "contract_split_seed s WHERE s.contract_id = institution_contracts.id), 0)"
    )
    op.drop_table("contract_split_seed")
    with op.batch_alter_table("institution_contracts") as batch:
        batch.alter_column("split_bp", server_default=None)
        batch.drop_constraint(op.f("ck_institution_contracts_status_known"), type_="check")
        batch.drop_constraint(op.f("ck_institution_contracts_notice_in_range"), type_="check")
        batch.drop_column("status")
        batch.drop_column("notice_days")
        batch.drop_column("exclusive")
        batch.create_check_constraint("split_in_range", "split_bp >= 0 AND split_bp <= 10000")
