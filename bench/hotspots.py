"""Hotspot detection: scoring throughput, and precision / recall / delay against injected bursts.

``uv run python -m bench hotspots [--works N] [--days D] [--verticals V] [--vocabulary T]
[--bursts B] [--seed S]``

A stream of its own, drawn from the seed: ``--works`` works over ``--days`` days with the
platform's daily rhythm, spread over ``--verticals`` verticals; each work carries three topics
drawn from its vertical's Zipf-distributed vocabulary of ``--vocabulary`` topics, and a
log-normal amount of engagement. ``--bursts`` bursts are injected the way the synthetic
platform injects them (``guanghe.sim.bursts``: a topic of the vertical's long tail, a start, a
duration of 24 to 96 hours, extra works per hour rising over the first third and decaying
after, each carrying the topic); they are the hidden truth.

Throughput: works per second through what the detector does per run: the (vertical, topic)
keys of every work's topics, the hourly counts (``hourly_counts``) and the burst scores of every
key at every hour (``HotspotDetector.fit``). Title segmentation (jieba) is measured apart, on
titles like the simulator's, since a work's topics are extracted once, when it is counted.

Quality: a burst is found when its (vertical, topic) is hot in some hour from its start to a
day after its end; the delay is from its start to the first such hour. Reported topics are the
keys hot at least once after the first week (the baseline). The peer is a plain top-count per
window: at every hour, the ``m`` topics of each vertical with the most works in the last 24
hours are reported, with ``m`` the smallest that reports at least as many topics as the
detector, cut to the same number (those first reported first).
"""

from __future__ import annotations

import argparse
import platform
import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from guanghe.hotspots import HotspotDetector, TopicCounts, hourly_counts, title_terms

Ints = npt.NDArray[np.int64]
_RHYTHM = np.array(
    [6, 5, 5, 6, 7, 8, 8, 7, 6, 8, 11, 13, 14, 14, 13, 10, 6, 3, 2, 1, 1, 2, 3, 5], dtype=float
)
TOPICS_PER_WORK = 3


@dataclass(frozen=True)
class Stream:
    hour: Ints  # (n,) hour of each work
    vertical: Ints  # (n,)
    topics: Ints  # (n, 3) topic index within the vertical's vocabulary
    engagement: Ints  # (n,)
    bursts: list[tuple[int, int, int, int]]  # (vertical, topic, start hour, duration hours)


def draw_stream(args: argparse.Namespace, rng: np.random.Generator) -> Stream:
    hours = args.days * 24
    rate = np.tile(_RHYTHM / _RHYTHM.sum(), args.days) / args.days
    hour = np.sort(rng.choice(hours, size=args.works, p=rate / rate.sum()))
    popularity = rng.dirichlet(np.full(args.verticals, 2.0))
    vertical = rng.choice(args.verticals, size=args.works, p=popularity)
    zipf = 1.0 / np.arange(1, args.vocabulary + 1) ** 1.1
    topics = rng.choice(args.vocabulary, size=(args.works, TOPICS_PER_WORK), p=zipf / zipf.sum())
    bursts = []
    extra_h, extra_v, extra_t = [], [], []
    for _ in range(args.bursts):
        v = int(rng.integers(args.verticals))
        t = int(rng.integers(args.vocabulary // 2, args.vocabulary))  # a long-tail topic
        start = int(rng.integers(7 * 24, hours - 24))
        duration = int(rng.integers(24, 97))
        phase = (np.arange(duration) + 0.5) / duration
        shape = np.where(phase < 1 / 3, 3 * phase, 1.5 * (1 - phase))
        base = args.works * popularity[v] / hours  # the vertical's works per hour
        per_hour = rng.poisson(rng.uniform(0.05, 0.25) * base * shape)
        h = np.repeat(start + np.arange(duration), per_hour)
        h = h[h < hours]
        extra_h.append(h)
        extra_v.append(np.full(h.size, v))
        extra_t.append(np.full(h.size, t))
        bursts.append((v, t, start, duration))
    m = sum(h.size for h in extra_h)
    burst_topics = topics[:m].copy() if m <= args.works else np.zeros((m, 3), np.int64)
    burst_topics[:, 0] = np.concatenate(extra_t) if m else burst_topics[:, 0]
    return Stream(
        hour=np.concatenate([hour, *extra_h]).astype(np.int64),
        vertical=np.concatenate([vertical, *extra_v]).astype(np.int64),
        topics=np.concatenate([topics, burst_topics]).astype(np.int64),
        engagement=np.round(np.exp(rng.normal(3.0, 1.5, args.works + m))).astype(np.int64),
        bursts=bursts,
    )


def count(stream: Stream, vocabulary: int, verticals: int, hours: int) -> TopicCounts:
    """The detector's input: per (vertical, topic) key and hour, works and engagement."""
    n = stream.hour.size
    keys = (stream.vertical[:, None] * vocabulary + stream.topics).ravel()
    hour = np.repeat(stream.hour, TOPICS_PER_WORK)
    engaged = np.repeat(stream.engagement, TOPICS_PER_WORK)
    k = verticals * vocabulary
    assert keys.size == n * TOPICS_PER_WORK
    return TopicCounts(
        works=hourly_counts(keys, hour, k, hours),
        engagement=hourly_counts(keys, hour, k, hours, engaged),
        key_group=np.repeat(np.arange(verticals, dtype=np.int64), vocabulary),
        group_works=hourly_counts(stream.vertical, stream.hour, verticals, hours),
        group_engagement=hourly_counts(
            stream.vertical, stream.hour, verticals, hours, stream.engagement
        ),
    )


def score(
    first_hour: dict[int, int], stream: Stream, vocabulary: int
) -> tuple[float, float, float | None, int]:
    """Precision, recall, median delay (hours) and reported count of ``first_hour`` (first
    reported hour per key)."""
    truth = {v * vocabulary + t: (s, d) for v, t, s, d in stream.bursts}
    delays = []
    for key, (start, duration) in truth.items():
        at = first_hour.get(key)
        if at is not None and start <= at <= start + duration + 24:
            delays.append(at - start)
    hits = sum(1 for key in first_hour if key in truth)
    precision = hits / len(first_hour) if first_hour else 0.0
    median = float(np.median(delays)) if delays else None
    return precision, len(delays) / len(truth), median, len(first_hour)


def detector_reports(detector: HotspotDetector, warmup: int) -> dict[int, int]:
    hot = detector.hot_[:, warmup:]
    keys = np.flatnonzero(hot.any(axis=1))
    return {int(k): int(hot[k].argmax()) + warmup for k in keys}


def top_count_reports(
    counts: TopicCounts, verticals: int, vocabulary: int, target: int, warmup: int
) -> dict[int, int]:
    """Top-``m`` per vertical per hour by works in the last 24 hours, at the detector's size."""
    prefix = np.zeros((counts.works.shape[0], counts.works.shape[1] + 1))
    np.cumsum(counts.works, axis=1, out=prefix[:, 1:])
    end = np.arange(1, counts.works.shape[1] + 1)
    window = (prefix[:, end] - prefix[:, np.maximum(end - 24, 0)])[:, warmup:]
    by_vertical = window.reshape(verticals, vocabulary, -1)
    rank = np.argsort(np.argsort(-by_vertical, axis=1, kind="stable"), axis=1)
    best = rank.min(axis=2).ravel()
    for m in range(1, vocabulary + 1):
        chosen = np.flatnonzero(best < m)
        if chosen.size >= target:
            break
    flat_rank = rank.reshape(verticals * vocabulary, -1)
    first = {int(k): int((flat_rank[k] < m).argmax()) + warmup for k in chosen}
    kept = sorted(first, key=lambda k: (int(best[k]), first[k], k))[:target]
    return {k: first[k] for k in kept}


def segmentation_rate(rng: np.random.Generator) -> float:
    """Titles per second through ``title_terms`` (distinct titles, no cache hits)."""
    subjects = ("冬至饺子", "新赛季开荒", "围炉煮茶", "手机评测", "Sichuan noodles", "boss fight")
    titles = [
        f"{subjects[i % len(subjects)]} {rng.integers(1_000_000)} 第{i}期 怎么做 in {i} minutes"
        for i in range(20_000)
    ]
    title_terms("预热 warm up")
    started = time.perf_counter()
    for title in titles:
        title_terms(title)
    return len(titles) / (time.perf_counter() - started)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench hotspots")
    parser.add_argument("--works", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--verticals", type=int, default=16)
    parser.add_argument("--vocabulary", type=int, default=300)
    parser.add_argument("--bursts", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    stream = draw_stream(args, rng)
    hours = args.days * 24
    n = stream.hour.size
    print(
        f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}"
    )
    print(
        f"stream: {n:,} works ({n - args.works:,} from {len(stream.bursts)} bursts), "
        f"{args.days} days, {args.verticals} verticals x {args.vocabulary} topics"
    )
    detector = HotspotDetector()
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        counts = count(stream, args.vocabulary, args.verticals, hours)
        detector.fit(counts)
        timings.append(time.perf_counter() - started)
    best = min(timings)
    print(
        f"scoring: {n / best:,.0f} works/s ({best:.3f} s for {n:,} works, best of 3; goal 200,000)"
    )
    print(f"title segmentation (jieba): {segmentation_rate(rng):,.0f} titles/s, once per work")
    warmup = 7 * 24
    found = detector_reports(detector, warmup)
    peer = top_count_reports(counts, args.verticals, args.vocabulary, len(found), warmup)
    print(f"{'method':<28}{'reported':>9}{'precision':>11}{'recall':>8}{'median delay':>14}")
    for name, reports in (("burst detector (Poisson)", found), ("top count per 24 h window", peer)):
        precision, recall, delay, size = score(reports, stream, args.vocabulary)
        shown = "-" if delay is None else f"{delay:.0f} h"
        print(f"{name:<28}{size:>9}{precision:>11.2f}{recall:>8.2f}{shown:>14}")
    return 0
