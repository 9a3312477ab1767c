"""Compile the product's Numba kernels once, before the test workers start.

Every kernel is ``cache=True``: the first process to call it compiles it and writes the
machine code next to its module (``__pycache__/*.nbi, *.nbc``), later processes load it. On a
fresh clone each pytest-xdist worker would otherwise compile the same kernels at the same time
(about 50 s of CPU each on the 2-core CI machine, docs/testing.md). The xdist controller calls
:func:`compile_kernels` in ``pytest_configure``, so the workers only load them.

Each kernel is reached through the product's own path on a tiny input, with the argument types
the product passes, so that the cached signature is the one the tests use. A path that fails
here is reported and skipped: the test that uses it will compile it, and fail if it is broken.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image


def _traffic() -> None:
    from guanghe.traffic.allocation import TrafficAllocator, load_kernels
    from guanghe.traffic.problem import AllocationProblem

    load_kernels()
    # Binding budgets and a binding group cap over a few thousand creators: the dual's passes
    # and the rounding's hand-out, which the tiny problem of ``load_kernels`` does not reach.
    rng = np.random.default_rng(0)
    n = 4_000
    TrafficAllocator().solve(
        AllocationProblem(
            creator_id=np.arange(1, n + 1, dtype=np.int64),
            pool=rng.integers(0, 2, n).astype(np.int64),
            group=rng.integers(0, 3, n).astype(np.int64),
            weight=rng.uniform(0.5, 2.0, n),
            saturation=rng.uniform(10.0, 500.0, n),
            scale=rng.uniform(1_000.0, 50_000.0, n),
            floor=np.zeros(n),
            cap=np.full(n, 200_000.0),
            pool_names=("a", "b"),
            pool_budgets=np.array([2e7, 1e7]),
            group_names=("x", "y", "z"),
            group_caps=np.array([5e6, np.inf, np.inf]),
        )
    )


def _pictures() -> None:
    from guanghe.originality.fingerprint import fingerprint_image, query_codes

    pixels = np.random.default_rng(0).integers(0, 256, (96, 128, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    fingerprint_image(image)
    query_codes(image)


def _indexes() -> None:
    from guanghe.originality.frame_index import FrameIndex
    from guanghe.originality.index import HammingIndex

    codes = np.random.default_rng(1).integers(0, 256, (64, 32), dtype=np.uint8)
    labels = np.arange(64, dtype=np.int64)
    tags = np.zeros(64, dtype=np.int16)
    radius = np.full(4, 8, dtype=np.int64)
    hamming = HammingIndex()
    hamming.add(codes, labels, tags)
    hamming.search(codes[:4], radius)
    hamming.fold()
    hamming.search(codes[:4], radius)
    frames = FrameIndex()
    frames.add(codes, labels, tags)
    frames.search(codes[:4], radius)
    frames.seal()
    frames.search(codes[:4], radius)
    frames.scan(codes[:4], radius)


def _video() -> None:
    from guanghe.originality._pdq_kernels import pdq_hash_and_mirror

    pdq_hash_and_mirror(np.zeros((64, 64, 3), dtype=np.uint8))


def _response_curves() -> None:
    from guanghe.traffic.response import DailyActivity, fit_response

    creator = np.repeat(np.arange(1, 11, dtype=np.int64), 10)
    boosted = np.tile(np.linspace(0.0, 5_000.0, 10), 10)
    activity = DailyActivity(creator, np.full(100, 300.0), boosted, np.ones(100))
    fit_response(activity, np.arange(1, 11, dtype=np.int64), np.zeros(10, dtype=np.int64))


def _hotspots() -> None:
    from guanghe.hotspots.detector import HotspotDetector, TopicCounts

    hours = 200
    works = np.random.default_rng(2).poisson(2.0, (3, hours)).astype(np.int64)
    HotspotDetector().fit(
        TopicCounts(
            works=works,
            engagement=works * 5,
            key_group=np.zeros(3, dtype=np.int64),
            group_works=works.sum(axis=0, keepdims=True),
            group_engagement=works.sum(axis=0, keepdims=True) * 5,
        )
    )


PATHS: dict[str, Callable[[], None]] = {
    "traffic solver": _traffic,
    "picture fingerprints": _pictures,
    "code indexes": _indexes,
    "video frame hashes": _video,
    "hotspot scan": _hotspots,
    "response curves": _response_curves,
}


def compile_kernels() -> list[str]:
    """Run every path of :data:`PATHS`; returns a line per path that failed."""
    failed = []
    for name, path in PATHS.items():
        try:
            path()
        except Exception as error:
            failed.append(f"{name}: {type(error).__name__}: {error}")
    return failed
