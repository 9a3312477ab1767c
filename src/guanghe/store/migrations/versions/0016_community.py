"""Creator community: boards, threads, posts, reactions, reports, suspensions, the moderation
log, the search index over posts (FTS5 on SQLite, a GIN full-text index on PostgreSQL), and
the ``community_mention`` notice kind.

Revision ID: 0016
Revises: 0017
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0017"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = sa.DateTime(timezone=True)
NOTICE_KINDS = (
    "hotspot",
    "task",
    "reward",
    "payout",
    "originality_decision",
    "tier_change",
    "contract_proposal",
    "live_reminder",
)
SEARCH_INDEX = {
    "sqlite": (
        "CREATE VIRTUAL TABLE community_post_search USING fts5(tokens, tokenize = 'unicode61')"
    ),
    "postgresql": (
        "CREATE INDEX ix_community_posts_search ON community_posts "
        "USING gin (to_tsvector('simple', search_tokens))"
    ),
}
SEARCH_INDEX_DROP = {
    "sqlite": "DROP TABLE community_post_search",
    "postgresql": "DROP INDEX ix_community_posts_search",
}


def _notice_kinds(kinds: tuple[str, ...]) -> None:
    with op.batch_alter_table("notices") as batch_op:
        batch_op.drop_constraint(op.f("ck_notices_kind_known"), type_="check")
        batch_op.create_check_constraint(
            "kind_known", "kind IN ({})".format(", ".join(f"'{k}'" for k in kinds))
        )


def upgrade() -> None:
    op.create_table(
        "community_boards",
        sa.Column("id", ID, nullable=False),
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("vertical_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["vertical_id"],
            ["verticals.id"],
            name=op.f("fk_community_boards_vertical_id_verticals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_boards")),
        sa.UniqueConstraint("slug", name=op.f("uq_community_boards_slug")),
    )
    op.create_table(
        "community_suspensions",
        sa.Column("id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_at", UTC, nullable=False),
        sa.Column("ends_at", UTC, nullable=False),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_community_suspensions_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_community_suspensions_creator_id_creators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_suspensions")),
    )
    op.create_index(
        "ix_community_suspensions_creator_id_ends_at",
        "community_suspensions",
        ["creator_id", "ends_at"],
        unique=False,
    )
    op.create_table(
        "community_threads",
        sa.Column("id", ID, nullable=False),
        sa.Column("board_id", ID, nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("creator_id", ID, nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_post_at", UTC, nullable=False),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(creator_id IS NULL) <> (operator_id IS NULL)",
            name=op.f("ck_community_threads_one_author"),
        ),
        sa.CheckConstraint(
            "post_count >= 0", name=op.f("ck_community_threads_post_count_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["board_id"],
            ["community_boards.id"],
            name=op.f("fk_community_threads_board_id_community_boards"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_community_threads_creator_id_creators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_threads")),
    )
    op.create_index(
        "ix_community_threads_board_id_last_post_at",
        "community_threads",
        ["board_id", "last_post_at"],
        unique=False,
    )
    op.create_index(
        "ix_community_threads_creator_id_created_at",
        "community_threads",
        ["creator_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "community_posts",
        sa.Column("id", ID, nullable=False),
        sa.Column("thread_id", ID, nullable=False),
        sa.Column("reply_to_id", ID, nullable=True),
        sa.Column("creator_id", ID, nullable=True),
        sa.Column("operator_id", sa.BigInteger(), nullable=True),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("search_tokens", sa.Text(), nullable=False),
        sa.Column("official", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "(creator_id IS NULL) <> (operator_id IS NULL)",
            name=op.f("ck_community_posts_one_author"),
        ),
        sa.CheckConstraint(
            "NOT official OR operator_id IS NOT NULL",
            name=op.f("ck_community_posts_official_by_operator"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_community_posts_creator_id_creators")
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["community_posts.id"],
            name=op.f("fk_community_posts_reply_to_id_community_posts"),
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["community_threads.id"],
            name=op.f("fk_community_posts_thread_id_community_threads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_posts")),
    )
    op.create_index(
        "ix_community_posts_creator_id_created_at",
        "community_posts",
        ["creator_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_community_posts_thread_id_id", "community_posts", ["thread_id", "id"], unique=False
    )
    op.create_table(
        "community_moderation_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("post_id", ID, nullable=True),
        sa.Column("thread_id", ID, nullable=True),
        sa.Column("creator_id", ID, nullable=True),
        sa.Column("until", UTC, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "action IN ('hide_post', 'restore_post', 'lock_thread', 'unlock_thread', 'suspend', 'dismiss_report')",
            name=op.f("ck_community_moderation_log_action_known"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["creators.id"],
            name=op.f("fk_community_moderation_log_creator_id_creators"),
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_posts.id"],
            name=op.f("fk_community_moderation_log_post_id_community_posts"),
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["community_threads.id"],
            name=op.f("fk_community_moderation_log_thread_id_community_threads"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_moderation_log")),
    )
    op.create_index(
        "ix_community_moderation_log_creator_id",
        "community_moderation_log",
        ["creator_id"],
        unique=False,
    )
    op.create_table(
        "community_reactions",
        sa.Column("post_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint(
            "kind IN ('like', 'thanks', 'helpful')", name=op.f("ck_community_reactions_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_community_reactions_creator_id_creators")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_posts.id"],
            name=op.f("fk_community_reactions_post_id_community_posts"),
        ),
        sa.PrimaryKeyConstraint(
            "post_id", "creator_id", "kind", name=op.f("pk_community_reactions")
        ),
    )
    op.create_table(
        "community_reports",
        sa.Column("id", ID, nullable=False),
        sa.Column("post_id", ID, nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("resolved_at", UTC, nullable=True),
        sa.Column("resolution", sa.String(length=16), nullable=True),
        sa.CheckConstraint(
            "resolution IS NULL OR resolution IN ('hidden', 'dismissed')",
            name=op.f("ck_community_reports_resolution_known"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"], ["creators.id"], name=op.f("fk_community_reports_creator_id_creators")
        ),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["community_posts.id"],
            name=op.f("fk_community_reports_post_id_community_posts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_reports")),
        sa.UniqueConstraint(
            "post_id", "creator_id", name="uq_community_reports_post_id_creator_id"
        ),
    )
    op.create_index(
        "ix_community_reports_resolved_at", "community_reports", ["resolved_at"], unique=False
    )
    op.execute(SEARCH_INDEX[op.get_bind().dialect.name])
    _notice_kinds((*NOTICE_KINDS, "community_mention"))


def downgrade() -> None:
    op.execute("DELETE FROM notices WHERE kind = 'community_mention'")
    _notice_kinds(NOTICE_KINDS)
    op.execute(SEARCH_INDEX_DROP[op.get_bind().dialect.name])
    op.drop_index("ix_community_reports_resolved_at", table_name="community_reports")
    op.drop_table("community_reports")
    op.drop_table("community_reactions")
    op.drop_index("ix_community_moderation_log_creator_id", table_name="community_moderation_log")
    op.drop_table("community_moderation_log")
    op.drop_index("ix_community_posts_thread_id_id", table_name="community_posts")
    op.drop_index("ix_community_posts_creator_id_created_at", table_name="community_posts")
    op.drop_table("community_posts")
    op.drop_index("ix_community_threads_creator_id_created_at", table_name="community_threads")
    op.drop_index("ix_community_threads_board_id_last_post_at", table_name="community_threads")
    op.drop_table("community_threads")
    op.drop_index("ix_community_suspensions_creator_id_ends_at", table_name="community_suspensions")
    op.drop_table("community_suspensions")
    op.drop_table("community_boards")
