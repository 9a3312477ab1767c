"""A vertical with a week of ordinary works and a burst of one topic in its last hours."""

from __future__ import annotations

import datetime as dt

import pytest

from guanghe import hotspots
from guanghe.runtime import Runtime
from guanghe.store import Work
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
BURST_TOPIC = "冬至饺子"


def add_works(runtime: Runtime, *, burst_works: int = 14) -> list[int]:
    """Two ordinary works an hour in vertical 1 over eight days, and ``burst_works`` works on
    the burst topic over the last six hours; returns the burst works' ids."""
    works, burst = [], []
    start = NOW - dt.timedelta(days=8)
    next_id = 1_000
    for hour in range(8 * 24):
        for k in range(2):
            works.append(
                Work(
                    id=next_id,
                    creator_id=1 + (hour + k) % 2,
                    published_at=start + dt.timedelta(hours=hour, minutes=10 + 20 * k),
                    title=("Spicy hotpot at home", "Grandma's dumplings tonight")[k],
                    hashtags=["#food", ("#hotpot", "#dumplings")[k]],
                    vertical_id=1,
                    duration_s=30,
                )
            )
            next_id += 1
    for n in range(burst_works):
        burst.append(next_id)
        works.append(
            Work(
                id=next_id,
                creator_id=1 + n % 2,
                published_at=NOW - dt.timedelta(minutes=5 + 25 * n),
                title=f"{BURST_TOPIC} | family recipe",
                hashtags=[f"#{BURST_TOPIC}", "#food"],
                vertical_id=1,
                duration_s=30,
            )
        )
        next_id += 1

    def insert(session: object) -> None:
        session.add_all(works)  # type: ignore[attr-defined]

    runtime.write(insert)
    return burst


def count_and_detect(runtime: Runtime, now: dt.datetime = NOW) -> hotspots.DetectionSummary:
    hours = [now - dt.timedelta(hours=h) for h in range(1, 9 * 24)]
    log = runtime.event_log
    runtime.write(lambda s: hotspots.recount_hours(s, log, hours))
    return runtime.write(lambda s: hotspots.detect_hotspots(s, log, now=now))


@pytest.fixture
def burst(runtime: Runtime, seed_platform: SeedPlatform) -> list[int]:
    return add_works(runtime)
