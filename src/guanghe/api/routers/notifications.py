"""Notifications: a creator's inbox and settings, and the operators' dead-letter list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from guanghe import notifications
from guanghe.api.fields import Cursor, IdPath, StorableText, StrictBool, StrictInt
from guanghe.http.deps import PrincipalDep, SessionDep
from guanghe.pagination import MAX_PAGE
from guanghe.store import NOTICE_KINDS

router = APIRouter(tags=["notifications"])

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
MinuteOfDay = Annotated[StrictInt, Field(ge=0, le=1439)]
Channel = Annotated[str, Field(pattern="^(inbox|webhook|email)$")]


class NoticeOut(BaseModel):
    id: int
    creator_id: int
    kind: str
    subject: str
    body: str
    data: dict[str, Any]
    created_at: dt.datetime
    read_at: dt.datetime | None


class InboxPage(BaseModel):
    items: list[NoticeOut]
    next_cursor: str | None
    unread: int


class SettingsOut(BaseModel):
    creator_id: int
    channels: dict[str, list[str]]
    timezone: str
    quiet_start_minute: int
    quiet_end_minute: int
    digest: bool
    digest_minute: int
    webhook_url: str | None
    webhook_secret_set: bool
    email: str | None


class SettingsIn(BaseModel):
    """The whole settings (PUT replaces them). ``webhook_secret`` is write-only: omitted, the
    stored one is kept. Quiet hours run from ``quiet_start_minute`` to ``quiet_end_minute``
    of the local day (equal: none)."""

    channels: dict[str, list[Channel]] = Field(
        default_factory=dict, description=f"Kinds ({', '.join(NOTICE_KINDS)}) to channels"
    )
    timezone: Annotated[StorableText, Field(max_length=64)] = "Asia/Shanghai"
    quiet_start_minute: MinuteOfDay = 0
    quiet_end_minute: MinuteOfDay = 0
    digest: StrictBool = False
    digest_minute: MinuteOfDay = 9 * 60
    webhook_url: Annotated[StorableText, Field(max_length=400)] | None = None
    webhook_secret: Annotated[StorableText, Field(min_length=16, max_length=200)] | None = None
    email: Annotated[StorableText, Field(max_length=254)] | None = None


class DeadLetterOut(BaseModel):
    delivery_id: int
    notice_id: int
    creator_id: int
    channel: str
    kind: str
    subject: str
    attempts: int
    last_error: str
    created_at: dt.datetime


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None


class ReplayOut(BaseModel):
    notice_id: int
    delivery_ids: list[int]


def _settings(prefs: notifications.Preferences) -> SettingsOut:
    return SettingsOut(
        creator_id=prefs.creator_id,
        channels={k: list(v) for k, v in prefs.channels.items()},
        timezone=prefs.timezone,
        quiet_start_minute=prefs.quiet_start_minute,
        quiet_end_minute=prefs.quiet_end_minute,
        digest=prefs.digest,
        digest_minute=prefs.digest_minute,
        webhook_url=prefs.webhook_url,
        webhook_secret_set=prefs.webhook_secret_set,
        email=prefs.email,
    )


@router.get("/v1/creators/{creator_id}/inbox")
def get_inbox(
    session: SessionDep,
    principal: PrincipalDep,
    creator_id: IdPath,
    cursor: Cursor = None,
    limit: Limit = 50,
    unread_only: bool = False,
) -> InboxPage:
    """The creator's notices, newest first (the creator and operators)."""
    page = notifications.list_inbox(
        session, principal, creator_id, unread_only=unread_only, cursor=cursor, limit=limit
    )
    return InboxPage(
        items=[NoticeOut.model_validate(v, from_attributes=True) for v in page.items],
        next_cursor=page.next_cursor,
        unread=notifications.unread_count(session, principal, creator_id),
    )


@router.post("/v1/creators/{creator_id}/inbox/{notice_id}/read")
def read_notice(
    session: SessionDep, principal: PrincipalDep, creator_id: IdPath, notice_id: IdPath
) -> NoticeOut:
    """Mark a notice read (again: no change)."""
    view = notifications.mark_read(
        session, principal, creator_id, notice_id, now=dt.datetime.now(dt.UTC)
    )
    return NoticeOut.model_validate(view, from_attributes=True)


@router.get("/v1/creators/{creator_id}/notification-settings")
def get_settings(session: SessionDep, principal: PrincipalDep, creator_id: IdPath) -> SettingsOut:
    """The creator's channels per kind, quiet hours, digest and addresses; never the secret."""
    return _settings(notifications.get_preferences(session, principal, creator_id))


@router.put("/v1/creators/{creator_id}/notification-settings")
def put_settings(
    session: SessionDep, principal: PrincipalDep, creator_id: IdPath, body: SettingsIn
) -> SettingsOut:
    """Replace the creator's settings; webhook URLs are http(s) without credentials, and a
    webhook needs a secret (at least 16 characters) to sign its messages with."""
    change = notifications.PreferencesChange(
        channels={k: list(v) for k, v in body.channels.items()},
        timezone=body.timezone,
        quiet_start_minute=body.quiet_start_minute,
        quiet_end_minute=body.quiet_end_minute,
        digest=body.digest,
        digest_minute=body.digest_minute,
        webhook_url=body.webhook_url,
        webhook_secret=body.webhook_secret,
        email=body.email,
    )
    prefs = notifications.put_preferences(
        session, principal, creator_id, change, now=dt.datetime.now(dt.UTC)
    )
    return _settings(prefs)


@router.get("/v1/notifications/dead-letters")
def get_dead_letters(
    session: SessionDep, principal: PrincipalDep, cursor: Cursor = None, limit: Limit = 50
) -> DeadLetterPage:
    """Deliveries that gave up after their last attempt, newest first (operators)."""
    page = notifications.list_dead_letters(session, principal, cursor=cursor, limit=limit)
    return DeadLetterPage(
        items=[DeadLetterOut.model_validate(v, from_attributes=True) for v in page.items],
        next_cursor=page.next_cursor,
    )


@router.post("/v1/notifications/dead-letters/{notice_id}/replay")
def replay_dead_letter(
    session: SessionDep, principal: PrincipalDep, notice_id: IdPath
) -> ReplayOut:
    """Send the notice's dead deliveries again with a fresh count of attempts (operators)."""
    ids = notifications.replay_dead_letter(
        session, principal, notice_id, now=dt.datetime.now(dt.UTC)
    )
    return ReplayOut(notice_id=notice_id, delivery_ids=ids)
