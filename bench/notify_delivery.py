"""Notification delivery: notices per second to a local webhook receiver and to a local SMTP
server, and the p99 time from the causing change (the notice's commit) to its receipt.

``python -m bench notify_delivery [--notices N] [--trickle N] [--url URL] [--broker AMQP_URL]``

Each channel side by side, on a fresh store (SQLite by default; PostgreSQL with ``--url``, a
new database beside the one it names per channel), with the in-process worker, or with
``--broker`` a relay publishing to RabbitMQ and one consumer delivering from it (both in this
process, as ``guanghe notify run`` does): a burst of N notices written in one transaction,
timed from the commit to the last receipt (throughput); then N notices written one at a time
every 20 ms while the worker runs, timed each from its commit to its receipt (latency).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import platform
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.notifications import (
    DeliveryPolicy,
    NoticeDraft,
    PreferencesChange,
    SmtpServer,
    WorkerSetup,
    notify_many,
    put_preferences,
    run_delivery,
)
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import Creator, Vertical
from tests.notifications.receivers import SECRET, smtp_server, webhook_receiver

OPERATOR = Principal(user_id=0, role="operator", subject_id=None)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@contextlib.contextmanager
def _fresh_database(url: str) -> Iterator[str]:
    """A new empty database beside the one ``url`` names (PostgreSQL), dropped afterwards;
    ``url`` itself when empty (each channel gets its own SQLite file)."""
    if not url:
        yield url
        return
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"notify_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _store(url: str, data_dir: Path, channel: str, address: str) -> Runtime:
    runtime = Runtime(Settings(data_dir=data_dir, database_url=url))
    runtime.init()

    def seed(session: Session) -> None:
        vertical = session.scalar(select(Vertical.id).order_by(Vertical.id).limit(1))
        if vertical is None:
            session.add(Vertical(id=1, slug="food", name="Food"))
            vertical = 1
        session.flush()
        session.add(
            Creator(
                id=1,
                handle="c1",
                display_name="C1",
                vertical_id=vertical,
                joined_on=dt.date(2025, 1, 1),
            )
        )
        session.flush()
        change = PreferencesChange(
            channels={"task": ["inbox", channel]},
            timezone="UTC",
            quiet_start_minute=0,
            quiet_end_minute=0,
            digest=False,
            digest_minute=540,
            webhook_url=address if channel == "webhook" else None,
            webhook_secret=SECRET if channel == "webhook" else None,
            email=address if channel == "email" else None,
        )
        put_preferences(session, OPERATOR, 1, change, now=_now())

    runtime.write(seed)
    return runtime


def _write(runtime: Runtime, start: int, count: int) -> float:
    drafts = [
        NoticeDraft(1, "task", f"Task {n}", f"body {n}", f"task:{n}", {"n": n})
        for n in range(start, start + count)
    ]
    runtime.write(lambda s: notify_many(s, drafts, now=_now()))
    return time.time()


async def _measure(
    runtime: Runtime,
    smtp: SmtpServer | None,
    received: Callable[[], dict[str, float]],
    args: argparse.Namespace,
) -> tuple[float, float, float]:
    setup = WorkerSetup(
        runtime.engine, smtp, args.broker or None, DeliveryPolicy(batch=200), _now, idle_s=0.005
    )
    stop = asyncio.Event()
    worker = asyncio.create_task(run_delivery(setup, stop))
    committed = await asyncio.to_thread(_write, runtime, 0, args.notices)
    while len(received()) < args.notices:
        await asyncio.sleep(0.005)
    burst_s = max(received().values()) - committed
    commits: dict[int, float] = {}
    for n in range(args.trickle):
        commits[args.notices + n] = await asyncio.to_thread(_write, runtime, args.notices + n, 1)
        await asyncio.sleep(0.02)
    while len(received()) < args.notices + args.trickle:
        await asyncio.sleep(0.005)
    stop.set()
    await worker
    ordered = sorted(
        received().items(), key=lambda kv: int(kv[0].split("-")[1].split("@")[0].rstrip(">"))
    )
    latencies = [
        at - commits[n] for n, (_, at) in zip(sorted(commits), ordered[args.notices :], strict=True)
    ]
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    return args.notices / burst_s, statistics.median(latencies) * 1000, p99 * 1000


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench notify_delivery")
    parser.add_argument("--notices", type=int, default=500)
    parser.add_argument("--trickle", type=int, default=200)
    parser.add_argument("--url", default="", help="database URL (default: a SQLite file)")
    parser.add_argument("--broker", default="", help="AMQP URL (default: in process)")
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, "
        f"python {platform.python_version()}"
    )
    print(f"broker: {args.broker or 'none (in process)'}")
    print(f"store: {args.url or 'SQLite'}; burst {args.notices}, trickle {args.trickle} at 50/s")
    print(f"{'channel':<10}{'notices/s':>12}{'p50 ms':>10}{'p99 ms':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        with webhook_receiver() as receiver, _fresh_database(args.url) as url:
            runtime = _store(url, Path(tmp) / "hook", "webhook", receiver.url)
            rate, p50, p99 = asyncio.run(
                _measure(runtime, None, lambda: dict(receiver.received_at), args)
            )
            runtime.close()
        print(f"{'webhook':<10}{rate:>12.0f}{p50:>10.1f}{p99:>10.1f}")
        with smtp_server() as mailbox, _fresh_database(args.url) as url:
            runtime = _store(url, Path(tmp) / "mail", "email", "c1@example.test")
            smtp = SmtpServer(mailbox.host, mailbox.port, "n@guanghe.test")
            rate, p50, p99 = asyncio.run(
                _measure(runtime, smtp, lambda: dict(mailbox.received_at), args)
            )
            runtime.close()
        print(f"{'email':<10}{rate:>12.0f}{p50:>10.1f}{p99:>10.1f}")
    return 0
