"""A ``guanghe notify run`` process killed (SIGKILL) mid-send and restarted delivers every
notice, none twice after the receiver's de-duplication on the delivery id.

The broken variant proves the test can fail: a worker that marks deliveries delivered before
sending loses what it was sending when killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from guanghe.runtime import Runtime
from guanghe.store import NoticeDelivery, transaction
from tests.notifications.conftest import send_tasks, subscribe
from tests.notifications.receivers import Mailbox, webhook_receiver
from tests.seed import SeedPlatform

NOTICES = 30


def start_worker(
    runtime: Runtime, mailbox: Mailbox, *, lose_on_crash: bool = False
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "GUANGHE_DATA_DIR": str(runtime.settings.data_dir),
        "GUANGHE_DATABASE_URL": runtime.settings.resolved_database_url,
        "GUANGHE_SMTP_HOST": mailbox.host,
        "GUANGHE_SMTP_PORT": str(mailbox.port),
        "GUANGHE_NOTIFY_LEASE_S": "1",
        "GUANGHE_NOTIFY_BACKOFF_S": "0.05",
    }
    env.pop("GUANGHE_BROKER_URL", None)
    code = "import sys; from guanghe.cli.app import main; main(sys.argv[1:])"
    if lose_on_crash:  # the broken variant: record delivered first, send after
        code = (
            "import sys, guanghe.notifications.worker as w\n"
            "original = w.Deliverer.deliver\n"
            "marked = []\n"
            "async def early(self, ids, token):\n"
            "    import asyncio\n"
            "    from guanghe.notifications.delivery import complete\n"
            "    from guanghe.store import write_transaction\n"
            "    out = await asyncio.to_thread(self._load, ids, token)\n"
            "    await asyncio.to_thread(write_transaction, self._setup.engine,"
            " lambda s: complete(s, ids, now=self._setup.clock()))\n"
            "    marked.append(ids)\n"
            "    if len(marked) == 6:  # dies as a SIGKILL would, between the mark and the send\n"
            "        import os; os._exit(9)\n"
            "    if out is not None:\n"
            "        await self._senders[out.channel].send(out)\n"
            "    return True\n"
            "w.Deliverer.deliver = early\n"
            "from guanghe.cli.app import main; main(sys.argv[1:])"
        )
    worker = subprocess.Popen(
        [sys.executable, "-c", code, "notify", "run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert worker.stderr is not None
    ready = worker.stderr.readline().decode()  # it stops on SIGTERM from here on
    assert ready.startswith("delivering notices in process"), ready
    return worker


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def count(runtime: Runtime, *states: str) -> int:
    """Deliveries in ``states``."""
    with transaction(runtime.sessions) as session:
        query = sa.select(sa.func.count()).where(NoticeDelivery.status.in_(states))
        return int(session.scalar(query) or 0)


def crash_and_restart(
    runtime: Runtime, mailbox: Mailbox, tmp_path: Path, *, lose_on_crash: bool
) -> tuple[set[int], set[int], set[int]]:
    """Kill the worker mid-send, restart a correct one; the notice ids sent and those the
    webhook receiver and the mailbox hold."""
    with webhook_receiver(delay_s=0.3) as receiver:
        subscribe(runtime, 1, webhook=receiver.url, email="one@example.test")
        ids = send_tasks(runtime, 1, NOTICES)
        worker = start_worker(runtime, mailbox, lose_on_crash=lose_on_crash)
        try:
            if lose_on_crash:  # it dies by itself between marking a delivery and sending it
                worker.wait(timeout=60)
            else:  # killed while a delivery is leased (``sending``)
                assert wait_for(lambda: receiver.requests >= 5 and count(runtime, "sending") > 0)
                worker.send_signal(signal.SIGKILL)
        finally:
            worker.kill()
            worker.communicate(timeout=10)
        assert len(receiver.accepted) < NOTICES  # killed mid-way, not after the last one
        receiver.delay_s = 0.0
        restarted = start_worker(runtime, mailbox)
        try:
            wait_for(
                lambda: len(receiver.accepted) == NOTICES and len(mailbox.accepted) == NOTICES,
                seconds=5 if lose_on_crash else 20,
            )
            wait_for(lambda: count(runtime, "pending", "sending") == 0, seconds=10)
        finally:
            restarted.send_signal(signal.SIGTERM)
            _, stderr = restarted.communicate(timeout=15)
        assert restarted.returncode == 0, stderr.decode()
        return set(ids), receiver.notice_ids(), mailbox.notice_ids()


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(
    runtime: Runtime, seed_platform: SeedPlatform, mailbox: Mailbox, tmp_path: Path
) -> None:
    sent, hooked, mailed = crash_and_restart(runtime, mailbox, tmp_path, lose_on_crash=False)
    assert hooked == sent
    assert mailed == sent
    assert len(mailbox.messages) == NOTICES  # one message per notice after de-duplication
    with transaction(runtime.sessions) as session:
        states = session.execute(sa.select(NoticeDelivery.status, NoticeDelivery.last_error)).all()
    assert {s for s, _ in states} == {"delivered"}, states


def test_the_broken_variant_loses_notices(
    runtime: Runtime, seed_platform: SeedPlatform, mailbox: Mailbox, tmp_path: Path
) -> None:
    sent, hooked, _ = crash_and_restart(runtime, mailbox, tmp_path, lose_on_crash=True)
    assert hooked < sent, "marking delivered before sending must lose the in-flight notices"


pytestmark = pytest.mark.slow
