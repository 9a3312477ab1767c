"""Open-loop HTTP load for the serving benchmarks: requests go out on a fixed schedule, and each
latency is measured from the request's scheduled time, so a server that falls behind cannot hide
its queue (no coordinated omission).

The load runs on one uvloop event loop with aiohttp (its HTTP parser is compiled), not on client
threads: the generator shares the machine with the server, and a thread pool of a pure-Python
client spends more CPU per request than the decision it measures, and adds its own waits for
the GIL to every latency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def open_loop(
    base: str,
    headers: dict[str, str],
    *,
    total: int,
    rate: float,
    connections: int,
    send: Callable[[Any, int], Awaitable[T]],
) -> list[tuple[float, T]]:
    """Await ``send(session, i)`` for ``i`` in ``range(total)`` at ``rate`` per second, over at
    most ``connections`` kept-alive connections (an aiohttp ``ClientSession`` on ``base``);
    returns ``(seconds since i's scheduled time, send's result)`` per request."""
    import aiohttp
    import uvloop

    async def run() -> list[tuple[float, T]]:
        loop = asyncio.get_running_loop()
        connector = aiohttp.TCPConnector(limit=connections)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(
            base, headers=headers, connector=connector, timeout=timeout
        ) as session:
            start = loop.time() + 0.5

            async def one(i: int) -> tuple[float, T]:
                due = start + i / rate
                await asyncio.sleep(max(0.0, due - loop.time()))
                outcome = await send(session, i)
                return loop.time() - due, outcome

            return list(await asyncio.gather(*(one(i) for i in range(total))))

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run())
