"""A small synthetic platform shared by the simulator tests (generated once per module)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.sim import PlatformSummary, generate_platform

CREATORS = 1000
DAYS = 20
SEED = 11


def make_runtime(data_dir: Path) -> Runtime:
    return Runtime(Settings(data_dir=data_dir, database_url=""))


@pytest.fixture
def runtime_factory() -> Callable[[Path], Runtime]:
    """Build a runtime on the embedded SQLite store in a given data directory."""
    return make_runtime


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, PlatformSummary]]:
    runtime = make_runtime(tmp_path_factory.mktemp("platform"))
    summary = generate_platform(runtime, creators=CREATORS, days=DAYS, seed=SEED)
    yield runtime, summary
    runtime.engine.dispose()
