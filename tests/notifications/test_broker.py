"""The RabbitMQ path: a relay publishes due deliveries and two consumers send them; every
notice arrives, and a message whose lease moved on is dropped, not sent."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Iterator

import pytest

from guanghe.notifications import run_delivery
from guanghe.notifications import worker as delivery_worker
from guanghe.runtime import Runtime
from tests.notifications.conftest import send_tasks, setup_for, subscribe
from tests.notifications.receivers import WebhookReceiver
from tests.seed import SeedPlatform

BROKER_URL = "amqp://guest:guest@127.0.0.1:5672/"
pytestmark = pytest.mark.slow


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The local RabbitMQ, failing (not skipping) when unreachable. The relay and consumers
    use a durable queue of this test's own (the product's name with a unique suffix, deleted
    afterwards), so that tests running at once (``pytest -n``) do not take each other's
    messages."""
    import aio_pika

    queue_name = f"{delivery_worker.QUEUE}.test-{uuid.uuid4().hex[:12]}"
    monkeypatch.setattr(delivery_worker, "QUEUE", queue_name)

    async def declare(delete: bool) -> None:
        connection = await aio_pika.connect(BROKER_URL)
        async with connection:
            channel = await connection.channel()
            queue = await channel.declare_queue(queue_name, durable=True)
            if delete:
                await queue.delete(if_unused=False, if_empty=False)

    try:
        asyncio.run(declare(delete=False))
    except OSError as exc:
        pytest.fail(f"RabbitMQ is not reachable at {BROKER_URL}: {exc}")
    yield BROKER_URL
    asyncio.run(declare(delete=True))


def test_relay_and_consumers_deliver_every_notice(
    runtime: Runtime, seed_platform: SeedPlatform, receiver: WebhookReceiver, broker: str
) -> None:
    subscribe(runtime, 1, webhook=receiver.url)
    ids = send_tasks(runtime, 1, 40)
    setup = dataclasses.replace(setup_for(runtime, None), broker_url=broker)

    async def main() -> None:
        stop = asyncio.Event()
        workers = [
            asyncio.create_task(run_delivery(setup, stop, relay=True, consume=False)),
            asyncio.create_task(run_delivery(setup, stop, relay=False, consume=True)),
            asyncio.create_task(run_delivery(setup, stop, relay=False, consume=True)),
        ]
        deadline = time.monotonic() + 30
        while len(receiver.accepted) < len(ids) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(*workers)

    asyncio.run(main())
    assert receiver.notice_ids() == set(ids)
    assert set(receiver.accepted.values()) == {1}


def test_a_stale_message_is_acknowledged_and_not_sent(
    runtime: Runtime, seed_platform: SeedPlatform, receiver: WebhookReceiver, broker: str
) -> None:
    import aio_pika

    subscribe(runtime, 2, webhook=receiver.url)
    (notice,) = send_tasks(runtime, 2, 1)
    setup = dataclasses.replace(setup_for(runtime, None), broker_url=broker)

    async def main() -> None:
        connection = await aio_pika.connect(broker)
        async with connection:  # a message for a lease nobody holds
            channel = await connection.channel()
            body = f'{{"ids": [1], "token": "{uuid.uuid4().hex}"}}'.encode()
            await channel.default_exchange.publish(
                aio_pika.Message(body), routing_key=delivery_worker.QUEUE
            )
        stop = asyncio.Event()
        worker = asyncio.create_task(run_delivery(setup, stop, relay=False, consume=True))
        await asyncio.sleep(1.0)
        assert receiver.requests == 0
        relay = asyncio.create_task(run_delivery(setup, stop, relay=True, consume=False))
        deadline = time.monotonic() + 20
        while not receiver.accepted and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await asyncio.gather(worker, relay)

    asyncio.run(main())
    assert receiver.notice_ids() == {notice}
    assert receiver.requests == 1
