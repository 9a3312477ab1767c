"""Topic bursts of the synthetic platform: a topic that suddenly catches on in one vertical.

A burst (topic, vertical, start, duration, strength) makes creators of that vertical publish
extra works on the topic while it lasts: ``strength`` extra works per hour at its peak, the rate
rising over the first third of the burst and decaying after (Poisson in each hour). Each such
work carries a ``#topic`` hashtag, mostly the topic in its title too, and draws more engagement
(its appeal is multiplied by :data:`APPEAL_BOOST`).
The bursts are hidden truth (``bursts.parquet``): the hotspot benchmark scores the detector
against them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from guanghe.sim.content import WorkPlan, write_texts
from guanghe.sim.population import Population

BURSTS_FILE: Final = "bursts.parquet"
#: Topics bursts are drawn from, in the platform's language (segmented by jieba) and English.
BURST_TOPICS: Final = (
    "冬至饺子",
    "新赛季开荒",
    "年终总结",
    "围炉煮茶",
    "初雪打卡",
    "跨年倒计时",
    "萌宠圣诞装",
    "秋冬穿搭",
    "考研冲刺",
    "徒步露营",
    "城市骑行",
    "国风舞蹈",
    "电车续航",
    "手机评测",
    "亲子手工",
    "村里杀猪菜",
    "worldcupfever",
    "glowupchallenge",
    "retrogaming",
    "nightmarket",
)
APPEAL_BOOST: Final = 2.0
_HOUR_US: Final = 3_600_000_000
_DAY_US: Final = 86_400_000_000
Ints = npt.NDArray[np.int64]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Burst:
    """One injected burst; ``start_us`` in µs since the epoch, ``tagged`` works it tagged."""

    topic: str
    vertical_id: int
    start_us: int
    duration_hours: int
    strength: float
    tagged: int = 0


def draw_bursts(rng: np.random.Generator, days: int, start_us: int) -> list[Burst]:
    """About one burst per three days (at least one), each after the first week when the
    period allows a baseline, on distinct topics, in random verticals."""
    count = min(len(BURST_TOPICS), max(1, days // 3))
    first_day = min(7, max(days - 2, 0))
    topics = rng.permutation(len(BURST_TOPICS))[:count]
    bursts = []
    for topic in topics.tolist():
        day = int(rng.integers(first_day, max(first_day + 1, days - 1)))
        hour = int(rng.integers(0, 24))
        bursts.append(
            Burst(
                topic=BURST_TOPICS[topic],
                vertical_id=int(rng.integers(1, 17)),
                start_us=start_us + (day * 24 + hour) * _HOUR_US,
                duration_hours=int(rng.integers(24, 97)),
                strength=float(rng.uniform(0.3, 1.5)),
            )
        )
    return sorted(bursts, key=lambda b: (b.start_us, b.topic))


def inject_bursts(
    rng: np.random.Generator,
    works: WorkPlan,
    bursts: list[Burst],
    population: Population,
    start_us: int,
) -> tuple[WorkPlan, list[Burst]]:
    """``works`` with each burst's extra works added (ids renumbered in publication order),
    by creators of its vertical who had joined; the bursts with the number of works each
    added (none after the period's last day). ``start_us`` is day 0's midnight."""
    parts: list[tuple[Ints, Ints, int]] = []
    done = []
    for burst in bursts:
        publish_us = _burst_times(rng, burst)
        authors = np.flatnonzero(population.vertical_id == burst.vertical_id)
        if authors.size == 0:
            publish_us = publish_us[:0]
        creators = authors[rng.integers(0, max(authors.size, 1), size=publish_us.size)]
        period_end_us = start_us + (works.day_start.shape[0] - 1) * _DAY_US
        fresh = (population.joined_day[creators] <= (publish_us - start_us) // _DAY_US) & (
            publish_us < period_end_us
        )
        parts.append((publish_us[fresh], creators[fresh], burst.vertical_id))
        done.append(dataclasses.replace(burst, tagged=int(fresh.sum())))
    return _with_works(rng, works, parts, [b.topic for b in bursts], start_us), done


def _burst_times(rng: np.random.Generator, burst: Burst) -> Ints:
    """Publication times of a burst's extra works: Poisson per hour along its profile."""
    phase = (np.arange(burst.duration_hours) + 0.5) / burst.duration_hours
    shape = np.where(phase < 1 / 3, 3 * phase, 1.5 * (1 - phase))
    per_hour = rng.poisson(burst.strength * shape)
    hours = np.repeat(np.arange(burst.duration_hours), per_hour)
    offsets = rng.integers(0, _HOUR_US, size=hours.size)
    return np.asarray(burst.start_us + hours * _HOUR_US + offsets, dtype=np.int64)


def _with_works(
    rng: np.random.Generator,
    works: WorkPlan,
    parts: list[tuple[Ints, Ints, int]],
    topics: list[str],
    start_us: int,
) -> WorkPlan:
    """``works`` plus the extra works of ``parts`` (one per burst, with its topic)."""
    if not any(p[0].size for p in parts):
        return works
    extra_us = np.concatenate([p[0] for p in parts])
    extra_creator = np.concatenate([p[1] for p in parts])
    extra_vertical = np.concatenate([np.full(p[0].size, p[2], np.int64) for p in parts])
    extra_topic = [t for p, t in zip(parts, topics, strict=True) for _ in range(p[0].size)]
    titles, captions, tags = write_texts(rng, extra_vertical)
    for i, topic in enumerate(extra_topic):
        if rng.random() < 0.7:
            titles[i] = f"{topic} | {titles[i]}"[:200]
        tags[i] = [f"#{topic}", *tags[i]][:5]
    published = np.concatenate([works.published_us, extra_us])
    order = np.lexsort((np.concatenate([works.creator_index, extra_creator]), published))
    n = extra_us.size
    duration = np.clip(np.round(np.exp(rng.normal(np.log(35.0), 0.8, n))), 7, 600)
    appeal = np.exp(rng.normal(-0.5, 1.0, n)) * APPEAL_BOOST
    day = (published[order] - start_us) // _DAY_US
    days = works.day_start.shape[0] - 1
    return WorkPlan(
        creator_index=np.concatenate([works.creator_index, extra_creator])[order],
        day=day,
        published_us=published[order],
        vertical_id=np.concatenate([works.vertical_id, extra_vertical])[order],
        duration_s=np.concatenate([works.duration_s, duration.astype(np.int64)])[order],
        appeal=np.concatenate([works.appeal, appeal])[order],
        day_start=np.searchsorted(day, np.arange(days + 1)).astype(np.int64),
        title=_reordered(works.title + titles, order),
        caption=_reordered(works.caption + captions, order),
        hashtags=_reordered(works.hashtags + tags, order),
    )


def _reordered(items: list[T], order: Ints) -> list[T]:
    """``items`` taken in ``order`` (the list joined once, not once per item)."""
    return [items[i] for i in order.tolist()]


def write_bursts(directory: Path, bursts: list[Burst]) -> Path:
    """Write the injected bursts to ``bursts.parquet`` in the ground-truth ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "topic": pa.array([b.topic for b in bursts], pa.string()),
            "vertical_id": pa.array([b.vertical_id for b in bursts], pa.int64()),
            "start": pa.array([b.start_us for b in bursts], pa.timestamp("us", tz="UTC")),
            "duration_hours": pa.array([b.duration_hours for b in bursts], pa.int64()),
            "strength": pa.array([b.strength for b in bursts], pa.float64()),
            "tagged_works": pa.array([b.tagged for b in bursts], pa.int64()),
        }
    )
    path = directory / BURSTS_FILE
    pq.write_table(table, path)
    return path


def load_bursts(directory: Path) -> pa.Table:
    """The injected bursts of the platform whose ground truth is in ``directory``.
    For benchmarks and tests only."""
    return pq.read_table(directory / BURSTS_FILE)
