"""A pytest plugin printing the CPU seconds (``time.process_time``: every thread of the test
process, not its children) of each test's setup, call and teardown, slowest first.

On a shared, loaded machine wall-clock durations mostly measure the neighbours; CPU time
compares two versions of a test. Load it with ``-p tests.cpu_durations``; ``CPU_DURATIONS``
(default 25) is how many phases it prints.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

_phases: list[tuple[float, str, str]] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _timed("setup", item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _timed("call", item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    return (yield from _timed("teardown", item))


def _timed(phase: str, item: pytest.Item) -> Iterator[None]:
    start = time.process_time()
    try:
        return (yield)
    finally:
        _phases.append((time.process_time() - start, phase, item.nodeid))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    shown = int(os.environ.get("CPU_DURATIONS", "25"))
    terminalreporter.section("CPU seconds per phase (process_time)")
    for seconds, phase, nodeid in sorted(_phases, reverse=True)[:shown]:
        terminalreporter.write_line(f"{seconds:8.2f}s {phase:<8} {nodeid}")
    total = sum(seconds for seconds, _, _ in _phases)
    terminalreporter.write_line(
        f"{total:8.2f}s in tests; {time.process_time():.2f}s in the whole process"
    )
