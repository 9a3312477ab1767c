"""Notification fixtures: the seed platform's creators with a webhook and an e-mail address,
a local webhook receiver and a local SMTP server."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from guanghe.access import Principal
from guanghe.notifications import (
    DeliveryPolicy,
    NoticeDraft,
    PreferencesChange,
    SmtpServer,
    WorkerSetup,
    notify_many,
    put_preferences,
)
from guanghe.runtime import Runtime
from tests.notifications.receivers import (
    SECRET,
    Mailbox,
    WebhookReceiver,
    smtp_server,
    webhook_receiver,
)

OPERATOR = Principal(user_id=0, role="operator", subject_id=None)
#: Quick retries so back-off shows within a test.
FAST = DeliveryPolicy(max_attempts=4, backoff_base_s=0.05, backoff_cap_s=0.2, lease_s=5.0)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as r:
        yield r


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as m:
        yield m


def subscribe(
    runtime: Runtime,
    creator_id: int,
    *,
    webhook: str | None = None,
    email: str | None = None,
    **options: object,
) -> None:
    """Send every kind of notice to ``creator_id`` by the inbox and the given channels."""
    channels = ["inbox"] + (["webhook"] if webhook else []) + (["email"] if email else [])
    change = PreferencesChange(
        channels={"payout": channels, "tier_change": channels, "task": channels},
        timezone=str(options.get("timezone", "Asia/Shanghai")),
        quiet_start_minute=int(options.get("quiet_start_minute", 0)),  # type: ignore[call-overload]
        quiet_end_minute=int(options.get("quiet_end_minute", 0)),  # type: ignore[call-overload]
        digest=bool(options.get("digest", False)),
        digest_minute=int(options.get("digest_minute", 540)),  # type: ignore[call-overload]
        webhook_url=webhook,
        webhook_secret=SECRET if webhook else None,
        email=email,
    )
    runtime.write(lambda s: put_preferences(s, OPERATOR, creator_id, change, now=utc_now()))


def send_tasks(runtime: Runtime, creator_id: int, count: int, *, start: int = 0) -> list[int]:
    """Write ``count`` task notices to the creator; their ids."""
    drafts = [
        NoticeDraft(creator_id, "task", f"Task {n} suits you", f"body {n}", f"task:{n}", {"n": n})
        for n in range(start, start + count)
    ]
    return runtime.write(lambda s: notify_many(s, drafts, now=utc_now()))


def setup_for(
    runtime: Runtime, mailbox: Mailbox | None, policy: DeliveryPolicy = FAST
) -> WorkerSetup:
    smtp = None if mailbox is None else SmtpServer(mailbox.host, mailbox.port, "n@guanghe.test")
    return WorkerSetup(runtime.engine, smtp, None, policy, utc_now, idle_s=0.05)
