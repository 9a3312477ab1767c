"""Creator community tables: boards, threads, posts, reactions, members' reports, suspensions
and the append-only moderation log.

Posts carry their Markdown as written, its sanitised HTML (rendered once, at write time) and
``search_tokens``: the title and body segmented into words (jieba), separated by spaces. The
search index over those tokens lives outside these models because each dialect builds it
differently (see :data:`SEARCH_INDEX_DDL`): an FTS5 virtual table on SQLite, a GIN index over
``to_tsvector('simple', search_tokens)`` on PostgreSQL. Migrations and the models' ``create``
path both run the DDL; :data:`SEARCH_INDEX_NAMES` lists what schema comparisons leave out.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

REACTION_KINDS: Final = ("like", "thanks", "helpful")
MODERATION_ACTIONS: Final = (
    "hide_post",
    "restore_post",
    "lock_thread",
    "unlock_thread",
    "suspend",
    "dismiss_report",
)

#: The dialect-specific search index over ``community_posts.search_tokens``, by dialect.
SEARCH_INDEX_DDL: Final = {
    "sqlite": (
        "CREATE VIRTUAL TABLE community_post_search USING fts5(tokens, tokenize = 'unicode61')"
    ),
    "postgresql": (
        "CREATE INDEX ix_community_posts_search ON community_posts "
        "USING gin (to_tsvector('simple', search_tokens))"
    ),
}
#: Tables and indexes of the search index (an FTS5 table and its shadow tables; the GIN
#: index) that the models do not describe.
SEARCH_INDEX_NAMES: Final = frozenset(
    {
        "community_post_search",
        "community_post_search_data",
        "community_post_search_idx",
        "community_post_search_content",
        "community_post_search_docsize",
        "community_post_search_config",
        "ix_community_posts_search",
    }
)


class CommunityBoard(Base):
    """A board of the community: a vertical's (``vertical_id``) or a topic's (none)."""

    __tablename__ = "community_boards"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    vertical_id: Mapped[int | None] = mapped_column(ForeignKey("verticals.id"), default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CommunityThread(Base):
    """A thread on a board, opened by a creator (``creator_id``) or an operator
    (``operator_id``, a user id). ``hidden`` follows its opening post; a ``locked`` thread
    takes no more posts. ``last_post_at`` and ``post_count`` count visible posts."""

    __tablename__ = "community_threads"
    __table_args__ = (
        CheckConstraint("(creator_id IS NULL) <> (operator_id IS NULL)", name="one_author"),
        CheckConstraint("post_count >= 0", name="post_count_non_negative"),
        Index("ix_community_threads_board_id_last_post_at", "board_id", "last_post_at"),
        Index("ix_community_threads_creator_id_created_at", "creator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("community_boards.id"))
    title: Mapped[str] = mapped_column(String(200))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("creators.id"), default=None)
    operator_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    last_post_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    post_count: Mapped[int] = mapped_column(Integer, default=0)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    answered: Mapped[bool] = mapped_column(Boolean, default=False)


class CommunityPost(Base):
    """A post of a thread (the first opens it), a reply to ``reply_to_id`` when set.
    ``official`` marks an operator's official answer."""

    __tablename__ = "community_posts"
    __table_args__ = (
        CheckConstraint("(creator_id IS NULL) <> (operator_id IS NULL)", name="one_author"),
        CheckConstraint("NOT official OR operator_id IS NOT NULL", name="official_by_operator"),
        Index("ix_community_posts_thread_id_id", "thread_id", "id"),
        Index("ix_community_posts_creator_id_created_at", "creator_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("community_threads.id"))
    reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("community_posts.id"), default=None)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("creators.id"), default=None)
    operator_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    body_markdown: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    search_tokens: Mapped[str] = mapped_column(Text)
    official: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CommunityReaction(Base):
    """One creator's reaction of one kind to one post."""

    __tablename__ = "community_reactions"
    __table_args__ = (CheckConstraint("kind IN ('like', 'thanks', 'helpful')", name="kind_known"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("community_posts.id"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class CommunityReport(Base):
    """A member's report of a post; ``resolution`` (``hidden`` or ``dismissed``) once an
    operator acted on it. One open or closed report per post and member."""

    __tablename__ = "community_reports"
    __table_args__ = (
        UniqueConstraint("post_id", "creator_id", name="uq_community_reports_post_id_creator_id"),
        CheckConstraint(
            "resolution IS NULL OR resolution IN ('hidden', 'dismissed')", name="resolution_known"
        ),
        Index("ix_community_reports_resolved_at", "resolved_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("community_posts.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    resolution: Mapped[str | None] = mapped_column(String(16), default=None)


class CommunitySuspension(Base):
    """A creator may not post from ``starts_at`` until ``ends_at``."""

    __tablename__ = "community_suspensions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_community_suspensions_creator_id_ends_at", "creator_id", "ends_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    operator_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    starts_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ModerationEntry(Base):
    """One moderation action, with the operator and reason; rows are only ever added."""

    __tablename__ = "community_moderation_log"
    __table_args__ = (
        CheckConstraint(
            "action IN ({})".format(", ".join(f"'{a}'" for a in MODERATION_ACTIONS)),
            name="action_known",
        ),
        Index("ix_community_moderation_log_creator_id", "creator_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    action: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("community_posts.id"), default=None)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("community_threads.id"), default=None)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("creators.id"), default=None)
    until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


for _dialect, _statement in SEARCH_INDEX_DDL.items():
    event.listen(
        CommunityPost.__table__,
        "after_create",
        DDL(_statement).execute_if(dialect=_dialect),  # type: ignore[no-untyped-call]
    )
