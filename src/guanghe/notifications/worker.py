"""The delivery worker: in process, or split into a relay publishing to RabbitMQ and any
number of consumers sending what they receive.

In process (no broker): claim due deliveries, send them concurrently, record each outcome.
With a broker: the relay claims due deliveries and publishes ``{ids, token}`` (persistent, with
publisher confirms) to the durable queue :data:`QUEUE`; a consumer loads the deliveries still
leased to that token, sends, records the outcome and only then acknowledges. A consumer that
dies leaves its message unacknowledged (RabbitMQ hands it to another) and its lease to expire
(the relay claims and publishes it again), so nothing is lost; a message whose lease moved on
is acknowledged and dropped. Database work runs in threads, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import httpx
from sqlalchemy import Engine

from guanghe.notifications.delivery import (
    DeliveryPolicy,
    Lease,
    Outgoing,
    any_due,
    claim_due,
    complete,
    fail,
    load_outgoing,
)
from guanghe.notifications.senders import EmailSender, Sender, SendFailed, SmtpServer, WebhookSender
from guanghe.settings import Settings
from guanghe.store import session_factory, transaction, write_transaction

QUEUE: Final = "guanghe.notice_deliveries"
log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """Everything a worker is given: the store, SMTP, the broker (None: in process), the
    retry policy, how long to sleep when idle, and the clock."""

    engine: Engine
    smtp: SmtpServer | None
    broker_url: str | None
    policy: DeliveryPolicy
    clock: Clock
    idle_s: float = 0.5
    prefetch: int = 50


class Deliverer:
    """Sends one leased message and records what happened."""

    def __init__(self, setup: WorkerSetup, senders: dict[str, Sender]) -> None:
        self._setup = setup
        self._senders = senders
        self._sessions = session_factory(setup.engine)

    async def claim(self) -> Lease:
        setup = self._setup
        if not await asyncio.to_thread(self._any_due):
            return Lease(uuid.uuid4().hex, ())
        return await asyncio.to_thread(
            write_transaction,
            setup.engine,
            lambda s: claim_due(s, now=setup.clock(), policy=setup.policy),
        )

    def _any_due(self) -> bool:
        with self._sessions() as session:
            return any_due(session, now=self._setup.clock())

    async def deliver(self, delivery_ids: tuple[int, ...], token: str) -> bool:
        """Send the message if ``token`` still holds it; whether it was delivered now."""
        outgoing = await asyncio.to_thread(self._load, delivery_ids, token)
        if outgoing is None:
            return False
        setup = self._setup
        try:
            await self._senders[outgoing.channel].send(outgoing)
        except SendFailed as exc:
            error, permanent = str(exc), exc.permanent
            await asyncio.to_thread(
                write_transaction,
                setup.engine,
                lambda s: fail(
                    s,
                    delivery_ids,
                    token,
                    error,
                    now=setup.clock(),
                    policy=setup.policy,
                    permanent=permanent,
                ),
            )
            return False
        await asyncio.to_thread(
            write_transaction, setup.engine, lambda s: complete(s, delivery_ids, now=setup.clock())
        )
        return True

    def _load(self, delivery_ids: tuple[int, ...], token: str) -> Outgoing | None:
        with transaction(self._sessions) as session:
            return load_outgoing(session, delivery_ids, token)


async def run_delivery(
    setup: WorkerSetup, stop: asyncio.Event, *, relay: bool = True, consume: bool = True
) -> None:
    """Deliver until ``stop`` is set: in process, or as relay and/or consumer of the broker."""
    async with httpx.AsyncClient() as client:
        deliverer = Deliverer(
            setup, {"webhook": WebhookSender(client), "email": EmailSender(setup.smtp)}
        )
        if setup.broker_url is None:
            await _run_in_process(setup, deliverer, stop)
            return
        tasks = []
        if relay:
            tasks.append(asyncio.create_task(_run_relay(setup, deliverer, stop)))
        if consume:
            tasks.append(asyncio.create_task(_run_consumer(setup, deliverer, stop)))
        await asyncio.gather(*tasks)


async def deliver_due(deliverer: Deliverer) -> int:
    """Claim one batch of due deliveries and send them concurrently; how many messages."""
    lease = await deliverer.claim()
    await asyncio.gather(*(deliverer.deliver(ids, lease.token) for ids in lease.messages))
    return len(lease.messages)


async def _run_in_process(setup: WorkerSetup, deliverer: Deliverer, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            handled = await deliver_due(deliverer)
        except Exception:  # the store went away for a moment: keep going
            log.exception("notification delivery round failed")
            handled = 0
        if handled == 0:
            await _idle(stop, setup.idle_s)


async def _idle(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _run_relay(setup: WorkerSetup, deliverer: Deliverer, stop: asyncio.Event) -> None:
    import aio_pika

    assert setup.broker_url is not None
    connection = await aio_pika.connect_robust(setup.broker_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await channel.declare_queue(QUEUE, durable=True)
        while not stop.is_set():
            lease = await deliverer.claim()
            for ids in lease.messages:
                body = json.dumps({"ids": list(ids), "token": lease.token}).encode()
                await channel.default_exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=QUEUE,
                )
            if not lease.messages:
                await _idle(stop, setup.idle_s)


async def _run_consumer(setup: WorkerSetup, deliverer: Deliverer, stop: asyncio.Event) -> None:
    import aio_pika

    assert setup.broker_url is not None
    connection = await aio_pika.connect_robust(setup.broker_url)
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=setup.prefetch)
        queue = await channel.declare_queue(QUEUE, durable=True)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            try:
                task = json.loads(message.body)
                ids = tuple(int(i) for i in task["ids"])
                await deliverer.deliver(ids, str(task["token"]))
            except (ValueError, KeyError, TypeError):
                log.error("dropping a malformed delivery message: %r", message.body[:200])
            except Exception:  # the store went away: let another consumer try
                log.exception("delivery failed; message requeued")
                await message.nack(requeue=True)
                return
            await message.ack()

        tag = await queue.consume(on_message, no_ack=False)
        await stop.wait()
        await queue.cancel(tag)


def worker_setup(settings: Settings, engine: Engine, clock: Clock) -> WorkerSetup:
    """The worker a deployment's settings describe."""
    smtp = (
        None
        if settings.smtp_host is None
        else SmtpServer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_sender,
            settings.smtp_username,
            settings.smtp_password,
            settings.smtp_starttls,
        )
    )
    policy = DeliveryPolicy(
        max_attempts=settings.notify_max_attempts,
        backoff_base_s=settings.notify_backoff_s,
        lease_s=settings.notify_lease_s,
    )
    return WorkerSetup(engine, smtp, settings.broker_url, policy, clock)
