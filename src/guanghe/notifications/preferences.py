"""Each creator's notification settings: channels per kind of notice, the webhook and e-mail
addresses, quiet hours in their time zone and the daily digest; who may read and change them.

The inbox and the settings are personal: operators and the creator themselves, nobody else
(an institution sees its creators' figures, not their mail or their webhook).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import Forbidden, InvalidInput, NotFound
from guanghe.store import NOTICE_KINDS, Creator, NotificationSettings
from guanghe.text import check_text

CHANNELS: Final = ("inbox", "webhook", "email")
DEFAULT_TIMEZONE: Final = "Asia/Shanghai"
DEFAULT_DIGEST_MINUTE: Final = 9 * 60
_EMAIL: Final = re.compile(r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
MIN_SECRET_CHARS: Final = 16


def default_channels() -> dict[str, tuple[str, ...]]:
    """Every kind to the inbox only: nothing leaves Guanghe until the creator asks."""
    return dict.fromkeys(NOTICE_KINDS, ("inbox",))


@dataclass(frozen=True, slots=True)
class Preferences:
    """A creator's notification settings; ``webhook_secret`` never leaves the domain
    (views show ``webhook_secret_set``)."""

    creator_id: int
    channels: dict[str, tuple[str, ...]] = field(default_factory=default_channels)
    timezone: str = DEFAULT_TIMEZONE
    quiet_start_minute: int = 0
    quiet_end_minute: int = 0
    digest: bool = False
    digest_minute: int = DEFAULT_DIGEST_MINUTE
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    email: str | None = None

    @property
    def webhook_secret_set(self) -> bool:
        return self.webhook_secret is not None

    def channels_for(self, kind: str) -> tuple[str, ...]:
        """The channels a notice of ``kind`` goes by; outbound ones only when configured."""
        chosen = self.channels.get(kind, ("inbox",))
        return tuple(
            c
            for c in chosen
            if c == "inbox"
            or (c == "webhook" and self.webhook_url and self.webhook_secret)
            or (c == "email" and self.email)
        )


@dataclass(frozen=True, slots=True)
class PreferencesChange:
    """A full replacement of the settings (PUT); ``webhook_secret`` None keeps the stored one."""

    channels: dict[str, list[str]]
    timezone: str
    quiet_start_minute: int
    quiet_end_minute: int
    digest: bool
    digest_minute: int
    webhook_url: str | None
    webhook_secret: str | None
    email: str | None


def check_manages(session: Session, principal: Principal, creator_id: int) -> None:
    """Operators manage everyone's notifications, a creator their own; others are refused.
    :class:`NotFound` for an operator naming an unknown creator."""
    if principal.role == "creator" and principal.subject_id == creator_id:
        return
    if principal.role != "operator":
        raise Forbidden(f"creator {creator_id}'s notifications are not visible to this token")
    if session.scalar(select(Creator.id).where(Creator.id == creator_id)) is None:
        raise NotFound(f"creator {creator_id} does not exist")


def get_preferences(session: Session, principal: Principal, creator_id: int) -> Preferences:
    """The creator's settings (the defaults until they save some)."""
    check_manages(session, principal, creator_id)
    return preferences_of(session, [creator_id])[creator_id]


def preferences_of(session: Session, creator_ids: list[int]) -> dict[int, Preferences]:
    """Settings of each of ``creator_ids`` (defaults for those without), in one query per
    thousand creators."""
    found: dict[int, Preferences] = {}
    unique = sorted(set(creator_ids))
    for start in range(0, len(unique), 1000):
        rows = session.scalars(
            select(NotificationSettings).where(
                NotificationSettings.creator_id.in_(unique[start : start + 1000])
            )
        )
        found.update((row.creator_id, _preferences(row)) for row in rows)
    return {cid: found.get(cid) or Preferences(cid) for cid in unique}


def put_preferences(
    session: Session,
    principal: Principal,
    creator_id: int,
    change: PreferencesChange,
    *,
    now: dt.datetime,
) -> Preferences:
    """Replace the creator's settings after checking every field (nothing is written when one
    is wrong). A webhook needs a secret, given now or kept from before."""
    check_manages(session, principal, creator_id)
    row = session.get(NotificationSettings, creator_id, with_for_update=True)
    channels = _checked_channels(change.channels)
    _check_zone(change.timezone)
    for name in ("quiet_start_minute", "quiet_end_minute", "digest_minute"):
        if not 0 <= getattr(change, name) < 1440:
            raise InvalidInput(f"{name} is a minute of the day, 0 to 1439")
    url = check_webhook_url(change.webhook_url) if change.webhook_url else None
    secret = change.webhook_secret or (row.webhook_secret if row else None)
    if change.webhook_secret is not None and len(change.webhook_secret) < MIN_SECRET_CHARS:
        raise InvalidInput(f"webhook_secret has at least {MIN_SECRET_CHARS} characters")
    if url and not secret:
        raise InvalidInput("a webhook_url needs a webhook_secret to sign its messages with")
    email = _checked_email(change.email) if change.email else None
    if row is None:
        row = NotificationSettings(creator_id=creator_id)
        session.add(row)
    row.channels = {kind: list(chosen) for kind, chosen in channels.items()}
    row.timezone = change.timezone
    row.quiet_start_minute = change.quiet_start_minute
    row.quiet_end_minute = change.quiet_end_minute
    row.digest = change.digest
    row.digest_minute = change.digest_minute
    row.webhook_url = url
    row.webhook_secret = secret if url else None
    row.email = email
    row.updated_at = now
    session.flush()
    return _preferences(row)


def check_webhook_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL with a host and no credentials in it."""
    check_text(url, field="webhook_url", max_chars=400)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range
    except ValueError as exc:
        raise InvalidInput(f"webhook_url is not a URL: {exc}") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("webhook_url must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("webhook_url must not hold credentials; the secret signs messages")
    if any(c.isspace() for c in url):
        raise InvalidInput("webhook_url must not contain spaces")
    return url


def _checked_email(address: str) -> str:
    check_text(address, field="email", max_chars=254)
    if not _EMAIL.match(address):
        raise InvalidInput(f"email {address!r} is not an e-mail address")
    return address


def _checked_channels(channels: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    unknown = sorted(set(channels) - set(NOTICE_KINDS))
    if unknown:
        raise InvalidInput(f"unknown notice kinds {unknown}; expected some of {NOTICE_KINDS}")
    checked = default_channels()
    for kind, chosen in channels.items():
        bad = sorted(set(chosen) - set(CHANNELS))
        if bad:
            raise InvalidInput(f"channels of {kind}: unknown {bad}; expected some of {CHANNELS}")
        checked[kind] = tuple(c for c in CHANNELS if c in chosen)
    return checked


def _check_zone(name: str) -> None:
    if name not in _zones():
        raise InvalidInput(f"timezone {name!r} is not an IANA time zone such as Asia/Shanghai")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"timezone {name!r} is not an IANA time zone") from exc


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def _preferences(row: NotificationSettings) -> Preferences:
    channels = default_channels()
    channels.update({k: tuple(v) for k, v in row.channels.items() if k in channels})
    return Preferences(
        creator_id=row.creator_id,
        channels=channels,
        timezone=row.timezone,
        quiet_start_minute=row.quiet_start_minute,
        quiet_end_minute=row.quiet_end_minute,
        digest=row.digest,
        digest_minute=row.digest_minute,
        webhook_url=row.webhook_url,
        webhook_secret=row.webhook_secret,
        email=row.email,
    )
