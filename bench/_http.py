"""Open-loop HTTP load for the serving benchmarks: requests go out on a fixed schedule, and each
latency is measured from the request's scheduled time, so a server that falls behind cannot hide
its queue (no coordinated omission).

The load runs on one uvloop event loop with aiohttp (its HTTP parser is compiled), not on client
threads: the generator shares the machine with the server, and a thread pool of a pure-Python
client spends more CPU per request than the decision it measures, and adds its own waits for
the GIL to every latency. Times are read from ``time.perf_counter``: the loop's own clock
(libuv's) counts whole milliseconds.
"""

from __future__ import annotations

import asyncio
import gc
import time
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
    warmup: int = 0,
) -> list[tuple[float, T]]:
    """Await ``send(session, i)`` for ``i`` in ``range(warmup + total)`` at ``rate`` per second,
    over at most ``connections`` kept-alive connections (an aiohttp ``ClientSession`` on
    ``base``); returns ``(seconds since i's scheduled time, send's result)`` for the last
    ``total`` requests. The first ``warmup`` go out on the same schedule but are not measured:
    they open the connections (the client's and the server's pool) and take the first-call
    costs of a fresh process."""
    import aiohttp
    import uvloop

    # The caller built a synthetic platform in this process: keep the collector off those
    # objects, or a full collection stalls the schedule for a tenth of a second mid-run.
    gc.collect()
    gc.freeze()

    async def run() -> list[tuple[float, T]]:
        connector = aiohttp.TCPConnector(limit=connections)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(
            base, headers=headers, connector=connector, timeout=timeout
        ) as session:
            start = time.perf_counter() + 0.5

            async def one(i: int) -> tuple[float, T]:
                due = start + i / rate
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                outcome = await send(session, i)
                return time.perf_counter() - due, outcome

            results = await asyncio.gather(*(one(i) for i in range(warmup + total)))
            return results[warmup:]

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run())
