"""SQLAlchemy 2 typed tables of the core domain. ORM classes never leave ``store/`` callers'
edges: capabilities map them to frozen dataclasses before returning."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import ColumnElement

#: 64-bit ids everywhere; SQLite only auto-increments an ``INTEGER PRIMARY KEY``.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; Guanghe stores timezone-aware UTC timestamps")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def as_stored(column: Any) -> ColumnElement[dt.datetime]:
    """A :class:`UtcDateTime` ``column`` as the driver gives it, for bulk reads handed to Arrow
    (which takes both as UTC): naive UTC on SQLite, aware on PostgreSQL. Skips the per-row
    conversion to aware UTC, which costs more than the read."""
    return type_coerce(column, DateTime(timezone=True))


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Vertical(Base):
    """A content vertical of the taxonomy (food, gaming, …)."""

    __tablename__ = "verticals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80))


class Institution(Base):
    """An MCN institution that signs creators."""

    __tablename__ = "institutions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    founded_on: Mapped[dt.date] = mapped_column(Date)


class Creator(Base):
    """A creator account. ``stage`` is the lifecycle stage last assigned by the daily cycle."""

    __tablename__ = "creators"
    __table_args__ = (
        CheckConstraint("follower_count >= 0", name="followers_non_negative"),
        CheckConstraint("stage IN ('novice', 'growing', 'mature')", name="stage_known"),
        Index("ix_creators_vertical_id_id", "vertical_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    handle: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"))
    joined_on: Mapped[dt.date] = mapped_column(Date)
    follower_count: Mapped[int] = mapped_column(BigInteger, default=0)
    stage: Mapped[str] = mapped_column(String(16), default="novice")
    institution_id: Mapped[int | None] = mapped_column(
        ForeignKey("institutions.id"), index=True, default=None
    )


class Work(Base):
    """A published short video."""

    __tablename__ = "works"
    __table_args__ = (
        CheckConstraint("duration_s > 0", name="duration_positive"),
        Index("ix_works_creator_id_published_at", "creator_id", "published_at"),
        Index("ix_works_published_at", "published_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    published_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    title: Mapped[str] = mapped_column(String(200))
    caption: Mapped[str] = mapped_column(Text, default="")
    hashtags: Mapped[list[str]] = mapped_column(JSON, default=list)
    vertical_id: Mapped[int] = mapped_column(ForeignKey("verticals.id"), index=True)
    duration_s: Mapped[int] = mapped_column(Integer)
    cover_path: Mapped[str | None] = mapped_column(String(400), default=None)


class User(Base):
    """Someone who calls Guanghe, with one role; ``subject_id`` is what the role acts for
    (the creator id for a creator, the institution id for an institution, and so on)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('operator', 'creator', 'institution', 'advertiser', 'merchant', 'ranker', "
            "'agent')",
            name="role_known",
        ),
        Index("ix_users_role_subject_id", "role", "subject_id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token of a user; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
