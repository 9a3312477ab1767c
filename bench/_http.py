"""Open-loop HTTP load for the serving benchmarks: requests go out on a fixed schedule from a
pool of client threads, and each latency is measured from the request's scheduled time, so a
server that falls behind cannot hide its queue (no coordinated omission)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def open_loop(
    base: str,
    headers: dict[str, str],
    *,
    total: int,
    rate: float,
    threads: int,
    send: Callable[[Any, int], T],
) -> list[tuple[float, T]]:
    """Call ``send(client, i)`` for ``i`` in ``range(total)`` at ``rate`` per second; returns
    ``(seconds since i's scheduled time, send's result)`` per request."""
    import httpx

    start = time.perf_counter() + 0.5
    results: list[tuple[float, T]] = []
    lock = threading.Lock()
    cursor = iter(range(total))

    def worker() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            while True:
                with lock:
                    i = next(cursor, None)
                if i is None:
                    return
                due = start + i / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                outcome = send(client, i)
                elapsed = time.perf_counter() - due
                with lock:
                    results.append((elapsed, outcome))

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results
