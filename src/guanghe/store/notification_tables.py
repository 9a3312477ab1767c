"""Notification tables: the outbox of notices, one delivery per notice and outbound channel,
and each creator's notification settings."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from guanghe.store.models import Base, Id, UtcDateTime

#: The kinds of notice a capability may send.
NOTICE_KINDS = (
    "hotspot",
    "task",
    "reward",
    "payout",
    "originality_decision",
    "tier_change",
    "contract_proposal",
    "live_reminder",
    "community_mention",
)
#: Channels a notice leaves by (the in-app inbox is the notice row itself).
OUTBOUND_CHANNELS = ("webhook", "email")
DELIVERY_STATUSES = ("pending", "sending", "delivered", "dead")


class Notice(Base):
    """One notice to one creator, written in the transaction of the change that causes it;
    ``dedupe_key`` makes writing it again (a re-run step, a retried request) a no-op."""

    __tablename__ = "notices"
    __table_args__ = (
        CheckConstraint(
            "kind IN ({})".format(", ".join(f"'{k}'" for k in NOTICE_KINDS)), name="kind_known"
        ),
        UniqueConstraint("creator_id", "dedupe_key", name="uq_notices_creator_id_dedupe_key"),
        Index("ix_notices_creator_id_id", "creator_id", "id"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    in_inbox: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class NoticeDelivery(Base):
    """Sending one notice by one channel: ``pending`` until ``next_attempt_at``, ``sending``
    while a worker holds its lease (back to claimable when ``lease_until`` passes),
    ``delivered``, or ``dead`` after the last attempt failed. ``digest_key`` groups e-mails
    held for one daily digest. Its id is the stable id receivers de-duplicate on."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        CheckConstraint(
            "channel IN ({})".format(", ".join(f"'{c}'" for c in OUTBOUND_CHANNELS)),
            name="channel_known",
        ),
        CheckConstraint(
            "status IN ({})".format(", ".join(f"'{s}'" for s in DELIVERY_STATUSES)),
            name="status_known",
        ),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        UniqueConstraint("notice_id", "channel", name="uq_notice_deliveries_notice_id_channel"),
        Index("ix_notice_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notice_deliveries_digest_key", "digest_key"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"))
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    lease_token: Mapped[str | None] = mapped_column(String(40), default=None)
    digest_key: Mapped[str | None] = mapped_column(String(40), default=None)
    last_error: Mapped[str] = mapped_column(String(400), default="")
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)


class NotificationSettings(Base):
    """A creator's choices: ``channels`` maps each notice kind to the channels it goes by
    (``inbox``, ``webhook``, ``email``); quiet hours are minutes of the local day in
    ``timezone`` (start == end: none); with ``digest`` e-mails wait for one daily digest sent
    at ``digest_minute``. The webhook secret is write-only."""

    __tablename__ = "notification_settings"
    __table_args__ = (
        CheckConstraint("quiet_start_minute BETWEEN 0 AND 1439", name="quiet_start_in_day"),
        CheckConstraint("quiet_end_minute BETWEEN 0 AND 1439", name="quiet_end_in_day"),
        CheckConstraint("digest_minute BETWEEN 0 AND 1439", name="digest_minute_in_day"),
    )

    creator_id: Mapped[int] = mapped_column(ForeignKey("creators.id"), primary_key=True)
    channels: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    quiet_start_minute: Mapped[int] = mapped_column(Integer, default=0)
    quiet_end_minute: Mapped[int] = mapped_column(Integer, default=0)
    digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)
    webhook_url: Mapped[str | None] = mapped_column(String(400), default=None)
    webhook_secret: Mapped[str | None] = mapped_column(String(200), default=None)
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
