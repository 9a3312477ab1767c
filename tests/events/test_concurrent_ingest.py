"""Two overlapping ingests of one file (a retried job) log every event exactly once.

Each process is held just before it takes the log's lock until both have arrived there, so
whatever a process checked before locking, it checked before the other one wrote: an ingest
that looks for logged event ids outside the lock appends every row twice.
"""

from __future__ import annotations

import fcntl
import multiprocessing
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pandas as pd

from guanghe.events import EventLog, ingest_file

ROWS = 50


class AnyReferents:
    """Every creator, work, campaign and product exists (work ``w`` belongs to creator 1)."""

    def unknown_creators(self, creator_ids: list[int]) -> set[int]:
        return set()

    def work_owners(self, work_ids: list[int]) -> dict[int, int]:
        return dict.fromkeys(work_ids, 1)

    def unknown_campaigns(self, campaign_ids: list[int]) -> set[int]:
        return set()

    def unknown_products(self, product_ids: list[int]) -> set[int]:
        return set()


def _ingest_when_both_are_about_to_lock(
    root: Path, path: Path, report: Path, barrier: Barrier
) -> None:
    """Run in a child process: ingest ``path``, pausing before the first exclusive lock."""
    original: Callable[[Any, int], None] = fcntl.flock
    waited = False

    def flock(handle: Any, operation: int) -> None:
        nonlocal waited
        if operation == fcntl.LOCK_EX and not waited:
            waited = True
            barrier.wait(timeout=60)
        original(handle, operation)

    fcntl.flock = flock
    ingest_file(EventLog(root), path, AnyReferents(), report)


def test_two_overlapping_ingests_log_each_event_once(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(ROWS)],
            "type": "play",
            "ts": "2026-11-28T10:00:00Z",
            "creator_id": 1,
            "work_id": 7,
            "count": 3,
        }
    ).to_csv(path, index=False)
    root = tmp_path / "events"
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    workers = [
        spawn.Process(
            target=_ingest_when_both_are_about_to_lock,
            args=(root, path, tmp_path / f"report-{n}.csv", barrier),
        )
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [w.exitcode for w in workers] == [0, 0]
    logged = EventLog(root).connect().sql("SELECT event_id FROM events").fetchall()
    assert len(logged) == ROWS
    assert sorted(e for (e,) in logged) == sorted(f"e{i}" for i in range(ROWS))
