"""A pytest plugin writing when each test ran, on which xdist worker, and the CPU it used, one
JSON line per test, to show where a parallel run's workers wait and what sets its tail.

Load it with ``-p tests.timeline``; ``PYTEST_TIMELINE`` names the file (each worker writes
``<file>.<worker>``). A line: ``worker``, ``nodeid``, ``start`` and ``stop`` (epoch seconds,
setup to teardown), ``cpu`` (the test process's CPU, ``time.process_time``) and ``children``
(the CPU of child processes it waited for: JVMs, servers, CLI runs).
``python -m tests.timeline FILE`` prints each worker's tests, busy and CPU seconds and when it
finished, then the longest tests.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

_OUT = pytest.StashKey[IO[str]]()


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get("PYTEST_TIMELINE")
    if path:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        config.stash[_OUT] = Path(f"{path}.{worker}").open("a", encoding="utf-8")  # noqa: SIM115


def pytest_unconfigure(config: pytest.Config) -> None:
    if _OUT in config.stash:
        config.stash[_OUT].close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    out = item.config.stash.get(_OUT, None)
    start, cpu = time.time(), time.process_time()
    before = os.times()
    try:
        return (yield)
    finally:
        if out is not None:
            after = os.times()
            children = (after.children_user + after.children_system) - (
                before.children_user + before.children_system
            )
            line = {
                "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
                "nodeid": item.nodeid,
                "start": start,
                "stop": time.time(),
                "cpu": time.process_time() - cpu,
                "children": children,
            }
            out.write(json.dumps(line) + "\n")
            out.flush()


@dataclass(frozen=True)
class Ran:
    """One line of a timeline."""

    worker: str
    nodeid: str
    start: float
    stop: float
    cpu: float
    children: float

    @property
    def wall(self) -> float:
        return self.stop - self.start

    @property
    def cost(self) -> float:
        """CPU seconds of the test process and the children it waited for."""
        return self.cpu + self.children


def _read(prefix: str) -> list[Ran]:
    rows: list[Ran] = []
    base = Path(prefix)
    for path in sorted(
        [*base.parent.glob(f"{base.name}.gw*"), base.with_name(f"{base.name}.main")]
    ):
        if not path.exists():
            continue
        with path.open(encoding="utf-8") as lines:
            rows.extend(Ran(**json.loads(line)) for line in lines)
    return rows


def _summary(rows: list[Ran], longest: int) -> None:
    """Per worker: tests, busy seconds, CPU and when it finished; then the longest tests."""
    start = min(r.start for r in rows)
    print(f"{len(rows)} tests, {max(r.stop for r in rows) - start:.0f} s first start to last stop")
    for worker in sorted({r.worker for r in rows}):
        mine = [r for r in rows if r.worker == worker]
        busy, cpu = sum(r.wall for r in mine), sum(r.cost for r in mine)
        done = max(r.stop for r in mine) - start
        print(
            f"{worker}: {len(mine)} tests, busy {busy:.0f} s, CPU {cpu:.0f} s, done at {done:.0f} s"
        )
    print("longest (wall s, CPU s with children, worker, test):")
    for r in sorted(rows, key=lambda r: -r.wall)[:longest]:
        print(f"{r.wall:8.1f} {r.cost:8.1f} {r.worker} {r.nodeid}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.timeline")
    parser.add_argument("prefix", help="the PYTEST_TIMELINE of a run")
    parser.add_argument("--longest", type=int, default=25, help="how many tests to list")
    args = parser.parse_args(argv)
    rows = _read(args.prefix)
    if not rows:
        print(f"no timeline at {args.prefix}.gw* or .main", file=sys.stderr)
        return 1
    _summary(rows, args.longest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
