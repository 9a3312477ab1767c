"""The in-process worker against a local webhook receiver and a local SMTP server: delivery,
retries after back-off, the dead-letter list and its replay, quiet hours and the digest."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import sqlalchemy as sa

from guanghe.notifications import (
    Deliverer,
    deliver_due,
    list_dead_letters,
    list_inbox,
    replay_dead_letter,
    run_delivery,
)
from guanghe.runtime import Runtime
from guanghe.store import NoticeDelivery, transaction
from tests.notifications.conftest import (
    FAST,
    OPERATOR,
    send_tasks,
    setup_for,
    subscribe,
    utc_now,
)
from tests.notifications.receivers import Mailbox, WebhookReceiver, webhook_receiver
from tests.seed import SeedPlatform


def deliver_until(runtime: Runtime, mailbox: Mailbox | None, done: Callable[[], bool]) -> None:
    """Run the in-process worker until ``done()`` or 20 seconds pass."""

    async def main() -> None:
        stop = asyncio.Event()
        worker = asyncio.create_task(run_delivery(setup_for(runtime, mailbox), stop))
        deadline = time.monotonic() + 20
        while not done() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await worker

    asyncio.run(main())


def statuses(runtime: Runtime) -> dict[str, int]:
    with transaction(runtime.sessions) as session:
        rows = session.execute(
            sa.select(NoticeDelivery.status, sa.func.count()).group_by(NoticeDelivery.status)
        )
        return {str(s): int(c) for s, c in rows}


def test_each_notice_reaches_webhook_and_email_once(
    runtime: Runtime, seed_platform: SeedPlatform, receiver: WebhookReceiver, mailbox: Mailbox
) -> None:
    subscribe(runtime, 1, webhook=receiver.url, email="one@example.test")
    ids = send_tasks(runtime, 1, 12)
    deliver_until(
        runtime, mailbox, lambda: len(receiver.accepted) == 12 and len(mailbox.accepted) == 12
    )
    assert receiver.notice_ids() == set(ids)
    assert mailbox.notice_ids() == set(ids)
    assert set(receiver.accepted.values()) == {1}
    assert receiver.bad_signatures == 0
    assert statuses(runtime) == {"delivered": 24}
    with transaction(runtime.sessions) as session:
        inbox = list_inbox(session, OPERATOR, 1, limit=50)
    assert [n.id for n in inbox.items] == sorted(ids, reverse=True)


def test_a_receiver_failing_n_times_gets_the_notice_after_backoff(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    with webhook_receiver(fail_first=2) as receiver:
        subscribe(runtime, 2, webhook=receiver.url)
        (notice,) = send_tasks(runtime, 2, 1)
        started = time.monotonic()
        deliver_until(runtime, None, lambda: len(receiver.accepted) == 1)
        elapsed = time.monotonic() - started
    assert receiver.notice_ids() == {notice}
    assert receiver.requests == 3
    assert elapsed >= FAST.backoff(1).total_seconds() + FAST.backoff(2).total_seconds()
    with transaction(runtime.sessions) as session:
        delivery = session.scalars(sa.select(NoticeDelivery)).one()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)


def test_an_always_failing_receiver_lands_in_dead_letters_and_replays(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    with webhook_receiver(always_fail=True) as receiver:
        subscribe(runtime, 3, webhook=receiver.url)
        (notice,) = send_tasks(runtime, 3, 1)
        deliver_until(runtime, None, lambda: statuses(runtime) == {"dead": 1})
        assert receiver.requests == FAST.max_attempts
        with transaction(runtime.sessions) as session:
            (dead,) = list_dead_letters(session, OPERATOR).items
        assert (dead.notice_id, dead.attempts) == (notice, FAST.max_attempts)
        assert "500" in dead.last_error
        receiver.always_fail = False
        runtime.write(lambda s: replay_dead_letter(s, OPERATOR, notice, now=utc_now()))
        deliver_until(runtime, None, lambda: len(receiver.accepted) == 1)
    assert receiver.notice_ids() == {notice}
    assert statuses(runtime) == {"delivered": 1}


def test_quiet_hours_hold_the_delivery_until_they_end(
    runtime: Runtime, seed_platform: SeedPlatform, receiver: WebhookReceiver
) -> None:
    now = utc_now()
    minute = now.hour * 60 + now.minute  # quiet for the next two hours, UTC
    subscribe(
        runtime,
        4,
        webhook=receiver.url,
        timezone="UTC",
        quiet_start_minute=minute,
        quiet_end_minute=(minute + 120) % 1440,
    )
    send_tasks(runtime, 4, 1)

    async def one_round() -> int:
        return await deliver_due(Deliverer(setup_for(runtime, None), {}))

    assert asyncio.run(one_round()) == 0  # nothing due: held by the quiet hours
    with transaction(runtime.sessions) as session:
        held = session.scalars(sa.select(NoticeDelivery)).one()
    waited = (held.next_attempt_at - now).total_seconds()
    assert 119 * 60 - 60 <= waited <= 120 * 60


def test_a_digest_sends_the_day_s_emails_as_one_message(
    runtime: Runtime, seed_platform: SeedPlatform, mailbox: Mailbox
) -> None:
    subscribe(runtime, 5, email="five@example.test", digest=True, timezone="UTC")
    ids = send_tasks(runtime, 5, 3)
    with transaction(runtime.sessions) as session:
        rows = session.scalars(sa.select(NoticeDelivery)).all()
    assert len({r.digest_key for r in rows}) == 1
    assert all(r.next_attempt_at > utc_now() for r in rows)

    def due_now(session: sa.orm.Session) -> None:  # the digest time comes
        session.execute(sa.update(NoticeDelivery).values(next_attempt_at=utc_now()))

    runtime.write(due_now)
    deliver_until(runtime, mailbox, lambda: len(mailbox.accepted) == 1)
    assert mailbox.notice_ids() == set(ids)
    assert statuses(runtime) == {"delivered": 3}
