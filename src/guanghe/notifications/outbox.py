"""The transactional outbox: :func:`notify` writes a notice, and one delivery per outbound
channel the creator chose for its kind, in the caller's transaction; nothing is sent here.

Rules:

- A notice is written with the change that causes it, by the domain function making that
  change, with its session: committed together or not at all. The delivery worker sends only
  what is committed (:mod:`guanghe.notifications.delivery`).
- ``(creator_id, dedupe_key)`` is unique (a database constraint): writing the same notice
  again, from a re-run cycle step or a retried request, returns the first one and adds nothing.
- Delivery times are fixed when the notice is written: webhooks and e-mails falling in the
  creator's quiet hours wait for their end (in the creator's time zone); with the daily digest
  on, e-mails wait for the next digest time and are sent together, one message per digest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from guanghe.errors import InvalidInput
from guanghe.notifications.preferences import Preferences, preferences_of
from guanghe.store import NOTICE_KINDS, Notice, NoticeDelivery

MAX_SUBJECT_CHARS: Final = 200
MAX_BODY_CHARS: Final = 4000


@dataclass(frozen=True, slots=True)
class NoticeDraft:
    """A notice to write: ``data`` is JSON-able facts a receiver's program may act on."""

    creator_id: int
    kind: str
    subject: str
    body: str
    dedupe_key: str
    data: dict[str, Any] = field(default_factory=dict)


def notify(
    session: Session,
    creator_id: int,
    kind: str,
    subject: str,
    body: str,
    data: dict[str, Any],
    dedupe_key: str,
    *,
    now: dt.datetime,
) -> int:
    """Write one notice to ``creator_id`` in ``session``'s transaction; its id (the first
    notice's id when ``dedupe_key`` was used before for this creator)."""
    return notify_many(
        session, [NoticeDraft(creator_id, kind, subject, body, dedupe_key, data)], now=now
    )[0]


def notify_many(session: Session, drafts: Sequence[NoticeDraft], *, now: dt.datetime) -> list[int]:
    """Write many notices at once (a cycle step's); their ids in the order of ``drafts``."""
    for draft in drafts:
        _check(draft)
    if not drafts:
        return []
    keys = [(d.creator_id, d.dedupe_key) for d in drafts]
    known = _existing(session, keys)
    preferences = preferences_of(session, [d.creator_id for d in drafts])
    fresh = {key: draft for key, draft in zip(keys, drafts, strict=True) if key not in known}
    if fresh:
        session.execute(
            insert(Notice),
            [
                {
                    "creator_id": d.creator_id,
                    "kind": d.kind,
                    "subject": d.subject,
                    "body": d.body,
                    "data": d.data,
                    "dedupe_key": d.dedupe_key,
                    "in_inbox": "inbox" in preferences[d.creator_id].channels_for(d.kind),
                    "created_at": now,
                }
                for d in fresh.values()
            ],
        )
        written = _existing(session, list(fresh))
        deliveries = [
            _delivery(written[key], draft, channel, preferences[draft.creator_id], now)
            for key, draft in fresh.items()
            for channel in preferences[draft.creator_id].channels_for(draft.kind)
            if channel != "inbox"
        ]
        if deliveries:
            session.execute(insert(NoticeDelivery), deliveries)
        known.update(written)
    return [known[key] for key in keys]


def _check(draft: NoticeDraft) -> None:
    if draft.kind not in NOTICE_KINDS:
        raise InvalidInput(f"unknown notice kind {draft.kind!r}; expected one of {NOTICE_KINDS}")
    if not 1 <= len(draft.dedupe_key) <= 200:
        raise InvalidInput("a notice's dedupe_key is 1 to 200 characters")
    if not 1 <= len(draft.subject) <= MAX_SUBJECT_CHARS:
        raise InvalidInput(f"a notice's subject is 1 to {MAX_SUBJECT_CHARS} characters")
    if len(draft.body) > MAX_BODY_CHARS:
        raise InvalidInput(f"a notice's body is at most {MAX_BODY_CHARS} characters")


def _existing(session: Session, keys: list[tuple[int, str]]) -> dict[tuple[int, str], int]:
    found: dict[tuple[int, str], int] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        rows = session.execute(
            select(Notice.creator_id, Notice.dedupe_key, Notice.id).where(
                tuple_(Notice.creator_id, Notice.dedupe_key).in_(chunk)
            )
        )
        found.update(((int(c), str(k)), int(i)) for c, k, i in rows)
    return found


def _delivery(
    notice_id: int, draft: NoticeDraft, channel: str, prefs: Preferences, now: dt.datetime
) -> dict[str, Any]:
    digest_at = next_digest(prefs, now) if channel == "email" and prefs.digest else None
    return {
        "notice_id": notice_id,
        "creator_id": draft.creator_id,
        "channel": channel,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": digest_at or after_quiet_hours(prefs, now),
        "digest_key": None if digest_at is None else f"{draft.creator_id}:{digest_at.isoformat()}",
        "last_error": "",
    }


def after_quiet_hours(prefs: Preferences, now: dt.datetime) -> dt.datetime:
    """``now``, or the end of the quiet hours ``now`` falls in (creator's local time)."""
    start, end = prefs.quiet_start_minute, prefs.quiet_end_minute
    if start == end:
        return now
    local = now.astimezone(ZoneInfo(prefs.timezone))
    minute = local.hour * 60 + local.minute
    quiet = start <= minute < end if start < end else minute >= start or minute < end
    if not quiet:
        return now
    day = local.date() if minute < end else local.date() + dt.timedelta(days=1)
    return _local_instant(day, end, prefs.timezone)


def next_digest(prefs: Preferences, now: dt.datetime) -> dt.datetime:
    """The first digest time after ``now`` (the creator's ``digest_minute``, local time)."""
    local = now.astimezone(ZoneInfo(prefs.timezone))
    at = _local_instant(local.date(), prefs.digest_minute, prefs.timezone)
    if at <= now:
        at = _local_instant(
            local.date() + dt.timedelta(days=1), prefs.digest_minute, prefs.timezone
        )
    return at


def _local_instant(day: dt.date, minute: int, zone: str) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=ZoneInfo(zone))
    return local.astimezone(dt.UTC)
