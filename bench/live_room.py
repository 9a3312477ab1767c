"""Live room: 1,000 pages following one session's Server-Sent Events on one ``guanghe serve``
process, and the time from a vote to every page seeing it.

``python -m bench live_room [--clients N] [--votes N] [--redis-url URL]``

Peers side by side, each a fresh SQLite store and one server process: fan-out in process (the
embedded default) and through Redis pub/sub (``GUANGHE_REDIS_URL``, what several processes
share). The clients (aiohttp on one uvloop loop in this process) open N streams and wait for
every snapshot; then, one at a time, a different creator upvotes the session's question
(``PUT .../vote``, timed from just before the request) and the run waits until every stream
has the ``question`` event carrying that vote's count. Reported: the p50 and p99 over votes of
the time until *every* client saw the vote, and the p50 and p99 over all (vote, client)
deliveries. The clients share the machine with the server: on a loaded machine they add
their own delay to every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bench.load import wait_until_ready
from bench.profile_slot import _free_port
from guanghe import community
from guanghe.access import Principal, create_token
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import Creator, Vertical, transaction

OPERATOR = Principal(user_id=0, role="operator", subject_id=None)
#: Pages that open at once.
CONNECT_BATCH = 50


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench live_room")
    parser.add_argument("--clients", type=int, default=1_000)
    parser.add_argument("--votes", type=int, default=50)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    args = parser.parse_args(argv)
    print(
        f"live room: {args.clients:,} SSE clients on one server process, {args.votes} votes "
        f"one at a time; {platform.machine()}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"{'fan-out':<12}{'connected':>10}{'all seen p50 ms':>17}{'all seen p99 ms':>17}"
        f"{'each p50 ms':>13}{'each p99 ms':>13}"
    )
    for name, redis_url in (("Redis", args.redis_url), ("in process", "")):
        figures = run_peer(args.clients, args.votes, redis_url)
        print(
            f"{name:<12}{figures['connected']:>10,}{figures['all_p50']:>17.1f}"
            f"{figures['all_p99']:>17.1f}{figures['each_p50']:>13.1f}{figures['each_p99']:>13.1f}"
        )
    return 0


def prepare(data_dir: Path, voters: int) -> tuple[int, int, str, list[str]]:
    """A store with one live session and its question; (session id, question id, a reader
    token, one token per voting creator)."""
    runtime = Runtime(Settings(data_dir=data_dir, database_url=""))
    runtime.init()
    now = dt.datetime.now(dt.UTC)

    def seed(session: Session) -> tuple[int, int]:
        vertical = session.scalar(select(Vertical.id).order_by(Vertical.id).limit(1))
        session.execute(
            insert(Creator),
            [
                {
                    "id": c,
                    "handle": f"c{c}",
                    "display_name": f"Creator {c}",
                    "vertical_id": vertical,
                    "joined_on": dt.date(2025, 1, 1),
                }
                for c in range(1, voters + 2)
            ],
        )
        spec = community.LiveSessionSpec(
            "Bench session", 1, now - dt.timedelta(minutes=5), now + dt.timedelta(hours=2), 10
        )
        live = community.schedule_session(session, OPERATOR, spec, now=now)
        asker = Principal(user_id=0, role="creator", subject_id=1)
        question = community.ask_question(session, asker, live.id, "How?", now=now)
        return live.id, question.id

    live_id, question_id = runtime.write(seed)
    with transaction(runtime.sessions) as session:
        reader = create_token(session, role="operator", subject_id=None, name="r", now=now)[1]
        voters_tokens = [
            create_token(session, role="creator", subject_id=c, name="v", now=now)[1]
            for c in range(2, voters + 2)
        ]
    runtime.close()
    return live_id, question_id, reader, voters_tokens


def run_peer(clients: int, votes: int, redis_url: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        live_id, question_id, reader, voters = prepare(data_dir, votes)
        env = {
            **os.environ,
            "GUANGHE_DATA_DIR": str(data_dir),
            "GUANGHE_DATABASE_URL": "",
            "GUANGHE_REDIS_URL": redis_url,
            "GUANGHE_RATE_LIMIT": "1000000/second",
            "GUANGHE_NOTIFY_IN_SERVE": "false",
        }
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "guanghe", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=(data_dir / "server.log").open("w"),
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_ready(base, server, data_dir / "server.log")
            return asyncio.run(_measure(base, live_id, question_id, reader, voters, clients))
        except (TimeoutError, AssertionError):
            print((data_dir / "server.log").read_text()[-20000:], file=sys.stderr)
            raise
        finally:
            server.terminate()
            server.wait(timeout=30)


async def _measure(
    base: str, live_id: int, question_id: int, reader: str, voters: list[str], clients: int
) -> dict[str, float]:
    import aiohttp

    seen: list[dict[int, float]] = [{} for _ in range(clients)]
    snapshotted: set[int] = set()
    url = f"{base}/v1/live/sessions/{live_id}/events"
    headers = {"Authorization": f"Bearer {reader}"}
    timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:

        async def read(i: int) -> None:
            async with http.get(url, headers=headers) as reply:
                event = ""
                async for raw in reply.content:
                    line = raw.decode().rstrip("\n")
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        if event == "snapshot":
                            snapshotted.add(i)
                        elif event == "question":
                            seen[i][json.loads(line[6:])["votes"]] = time.perf_counter()

        async def follow(i: int) -> None:
            """Follow the stream as a browser does: reconnect a second after it ends (a
            ``resync``) or the connection fails."""
            while True:
                with contextlib.suppress(aiohttp.ClientError):
                    await read(i)
                await asyncio.sleep(1)

        # Pages open in batches, each waiting for its snapshots (a thousand connects in the
        # same millisecond overflow the listen backlog; browsers do not arrive that way).
        streams: list[asyncio.Task[None]] = []
        for first in range(0, clients, CONNECT_BATCH):
            batch = range(first, min(clients, first + CONNECT_BATCH))
            streams.extend(asyncio.create_task(follow(i)) for i in batch)
            deadline = time.perf_counter() + 300
            while not snapshotted.issuperset(batch):
                assert time.perf_counter() < deadline, f"{len(snapshotted)} of {clients} open"
                await asyncio.sleep(0.05)
        all_seen, each = [], []
        for count, token in enumerate(voters, start=1):
            sent = time.perf_counter()
            vote = f"{base}/v1/live/sessions/{live_id}/questions/{question_id}/vote"
            async with http.put(vote, headers={"Authorization": f"Bearer {token}"}) as reply:
                assert reply.status == 200, await reply.text()
            deadline = sent + 30
            while sum(count in s for s in seen) < clients and time.perf_counter() < deadline:
                await asyncio.sleep(0.001)
            delays = [(s[count] - sent) * 1e3 for s in seen if count in s]
            assert len(delays) == clients, f"vote {count}: {len(delays)} of {clients} clients"
            all_seen.append(max(delays))
            each.extend(delays)
            await asyncio.sleep(0.1)
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    return {
        "connected": clients,
        "all_p50": float(np.percentile(all_seen, 50)),
        "all_p99": float(np.percentile(all_seen, 99)),
        "each_p50": float(np.percentile(each, 50)),
        "each_p99": float(np.percentile(each, 99)),
    }
