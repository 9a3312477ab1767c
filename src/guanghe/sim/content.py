"""Works of the synthetic platform: who publishes what, when, about which vertical.

Established creators (the platform's head) also published in the :data:`HISTORY_DAYS` before
the period: their works of those days come first (negative days), so their continuous
authorship and recent output are already there on the period's first day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from guanghe.sim.population import VERTICAL_POPULARITY, Population
from guanghe.sim.vocabulary import (
    CAPTION_CLOSERS,
    CAPTION_OPENERS,
    COMMON_TEMPLATES,
    VERTICAL_WORDS,
)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

#: Relative publishing activity per UTC hour (evening peak in China, UTC+8).
_HOURLY: Final = np.array(
    [6, 5, 5, 6, 7, 8, 8, 7, 6, 8, 11, 13, 14, 14, 13, 10, 6, 3, 2, 1, 1, 2, 3, 5],
    dtype=np.float64,
)
_DAY_US: Final = 86_400_000_000
#: Days before the period in which established creators' works are drawn (about a quarter).
HISTORY_DAYS: Final = 91
#: Median works per day of an established creator.
ESTABLISHED_RATE: Final = 0.6


@dataclass(frozen=True, slots=True)
class WorkPlan:
    """Per-work arrays of shape ``(w,)``, sorted by publication time; ids are ``1..w``.

    ``creator_index`` is the creator id minus one; ``day`` the simulated day of publication
    (negative before the period); ``appeal`` the hidden per-work multiplier of organic reach.
    ``day_start[d]`` is the index of the first work published on day ``d >= 0`` (length
    ``days + 1``; ``day_start[0]`` works precede the period).
    """

    creator_index: Ints
    day: Ints
    published_us: Ints
    vertical_id: Ints
    duration_s: Ints
    appeal: Floats
    day_start: Ints
    title: list[str]
    caption: list[str]
    hashtags: list[list[str]]

    @property
    def size(self) -> int:
        """Number of works."""
        return int(self.day.shape[0])


def publishing_traits(rng: np.random.Generator, population: Population) -> tuple[Floats, Floats]:
    """Mean works per day and day-to-day consistency (gamma shape) per creator.

    Heavy-tailed rates: most creators publish a few times a quarter, a few several times a
    day. Higher-quality creators publish more, and more regularly (larger shape, less bursty).
    Established creators publish about daily (median :data:`ESTABLISHED_RATE`).
    """
    n = population.size
    q = population.quality
    rate = np.exp(rng.normal(np.log(0.011), 1.3, size=n)) * (0.4 + 1.6 * q)
    head = np.flatnonzero(population.established)
    rate[head] = np.exp(rng.normal(np.log(ESTABLISHED_RATE), 0.3, size=head.size))
    rate = np.minimum(rate, 4.0)
    shape = 0.15 + 3.0 * q**1.5
    shape[head] = np.maximum(shape[head], 2.0)
    return rate, shape


def plan_works(
    rng: np.random.Generator,
    population: Population,
    rate: Floats,
    shape: Floats,
    days: int,
    start_us: int,
) -> WorkPlan:
    """Draw every work of the period, and established creators' works of the
    :data:`HISTORY_DAYS` before it; ``start_us`` is day 0's midnight in µs since the epoch."""
    creator_parts: list[Ints] = []
    offset_parts: list[Ints] = []
    head = np.flatnonzero(population.established)
    for d in range(-HISTORY_DAYS, days):
        publishing = head if d < 0 else np.arange(population.size, dtype=np.int64)
        intensity = rate[publishing] * rng.gamma(shape[publishing], 1.0 / shape[publishing])
        counts = rng.poisson(intensity)
        counts[population.joined_day[publishing] > d] = 0
        creators = np.repeat(publishing, counts)
        hours = rng.choice(24, size=creators.shape[0], p=_HOURLY / _HOURLY.sum())
        offsets = hours * 3_600_000_000 + rng.integers(0, 3_600_000_000, size=creators.shape[0])
        order = np.lexsort((creators, offsets))
        creator_parts.append(creators[order])
        offset_parts.append(offsets[order].astype(np.int64) + d * _DAY_US)
    creator_index = np.concatenate(creator_parts) if creator_parts else np.zeros(0, np.int64)
    within = np.concatenate(offset_parts) if offset_parts else np.zeros(0, np.int64)
    day = within // _DAY_US
    w = creator_index.shape[0]

    own = population.vertical_id[creator_index]
    other = 1 + rng.choice(16, size=w, p=VERTICAL_POPULARITY / VERTICAL_POPULARITY.sum())
    vertical_id = np.where(rng.random(w) < 0.9, own, other).astype(np.int64)
    duration_s = np.asarray(
        np.clip(np.round(np.exp(rng.normal(np.log(35.0), 0.8, size=w))), 7, 600)
    )
    appeal = np.exp(rng.normal(-0.5, 1.0, size=w))
    title, caption, hashtags = write_texts(rng, vertical_id)
    return WorkPlan(
        creator_index=creator_index,
        day=day,
        published_us=within + start_us,
        vertical_id=vertical_id,
        duration_s=duration_s.astype(np.int64),
        appeal=appeal,
        day_start=np.searchsorted(day, np.arange(days + 1)).astype(np.int64),
        title=title,
        caption=caption,
        hashtags=hashtags,
    )


def write_texts(
    rng: np.random.Generator, vertical_id: Ints
) -> tuple[list[str], list[str], list[list[str]]]:
    """Titles, captions and 1-5 hashtags per work from its vertical's vocabulary."""
    w = vertical_id.shape[0]
    picks = rng.integers(0, 1 << 30, size=(w, 7))
    numbers = rng.choice([2, 3, 5, 7, 10, 15, 20, 30], size=w)
    tag_counts = np.asarray(rng.integers(1, 6, size=w), dtype=np.int64)
    titles: list[str] = []
    captions: list[str] = []
    tags: list[list[str]] = []
    rows = zip(
        vertical_id.tolist(), picks.tolist(), numbers.tolist(), tag_counts.tolist(), strict=True
    )
    for v, (p0, p1, p2, p3, p4, p5, p6), n, k in rows:
        words = VERTICAL_WORDS[v]
        templates = words.templates + COMMON_TEMPLATES
        template = templates[p0 % len(templates)]
        subject = words.subjects[p2 % len(words.subjects)]
        title = template.format(adj=words.adjectives[p1 % len(words.adjectives)], subj=subject, n=n)
        titles.append(title[0].upper() + title[1:])
        opener = CAPTION_OPENERS[p3 % len(CAPTION_OPENERS)].format(n=n)
        closer = CAPTION_CLOSERS[p4 % len(CAPTION_CLOSERS)]
        captions.append(f"{opener} {subject[0].upper()}{subject[1:]} never gets old. {closer}")
        first = p5 % len(words.hashtags)
        chosen = [
            words.hashtags[(first + j * (1 + p6 % 3)) % len(words.hashtags)] for j in range(k)
        ]
        tags.append([f"#{t}" for t in dict.fromkeys(chosen)])
    return titles, captions, tags
