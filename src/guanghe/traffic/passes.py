"""The solver's passes over the creators, span by span on threads.

Every pass over all the creators that sums per cell or pool (:func:`prepare`, the curves'
gathering, :func:`recover`, :func:`whole_start`, :func:`whole_objective`) runs in spans of
:data:`SPAN_ROWS` consecutive creators: each span summed on its own by a compiled kernel that
releases the GIL, the spans' sums then added in their order. The layout of the spans is fixed
by the number of creators alone, so the answer never depends on how many threads ran them;
a problem of one span is summed exactly as a single pass sums it. At 10,000,000 creators
these passes are most of a solve, and two threads nearly halve them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from functools import partial, reduce
from operator import add
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from guanghe.traffic import _kernels
from guanghe.traffic._kernels import Creators

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
T = TypeVar("T")

#: Creators a span holds: below this many a pass is one span, on the calling thread.
SPAN_ROWS = 1 << 18


def available_threads() -> int:
    """The CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def span_bounds(n: int, rows: int) -> list[tuple[int, int]]:
    """``0..n`` cut into consecutive spans of ``rows`` (the last one shorter; one span when
    ``n <= rows``)."""
    return [(start, min(start + rows, n)) for start in range(0, max(n, 1), rows)]


class Passes:
    """Runs a kernel over the creators span by span, on ``executor``'s threads where given
    (None: on the calling thread); ``rows`` is the spans' size (:data:`SPAN_ROWS`)."""

    def __init__(self, executor: Executor | None = None, rows: int | None = None) -> None:
        self.executor = executor
        self.rows = SPAN_ROWS if rows is None else rows

    def run(self, kernel: Callable[[int, int], T], n: int) -> list[T]:
        """``kernel(start, stop)`` of every span of ``n`` creators, in the spans' order."""
        spans = span_bounds(n, self.rows)
        if self.executor is None or len(spans) == 1:
            return [kernel(start, stop) for start, stop in spans]
        futures = [self.executor.submit(kernel, start, stop) for start, stop in spans]
        return [future.result() for future in futures]


#: Every span on the calling thread.
SERIAL = Passes()


def fresh(n: int, kind: type[np.float64] | type[np.int64]) -> Any:
    """An uninitialised array of ``n`` per creator, allocated by compiled code in 4 KiB
    pages. NumPy asks Linux for transparent huge pages for its large arrays; on the 2-core VM
    the benchmarks run on, their first touch made the first solve of a 10,000,000-creator
    process 1.7-1.9 s against 1.2 s (``NUMPY_MADVISE_HUGEPAGE=0`` gives the same 1.2 s)."""
    if kind is np.float64:
        return _kernels.empty_floats(n)
    return _kernels.empty_ints(n)


def in_order(parts: Sequence[Any]) -> Any:
    """The spans' sums (numbers or arrays) added in their order."""
    return reduce(add, parts)


def prepare(
    weight: FloatArray,
    saturation: FloatArray,
    scale: FloatArray,
    membership: tuple[IntArray, IntArray, int, int],
    passes: Passes = SERIAL,
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """``(cell, ln c, w * a)`` per creator, per pool the mean of its creators' finite
    ``ln c`` (0 where none: the dual's first log price) and the creators of each cell
    (:func:`~guanghe.traffic._kernels.prepare_span`); ``membership`` is ``(pool, group,
    n_pools, n_groups)``."""
    n = weight.shape[0]
    out = fresh(n, np.int64), fresh(n, np.float64), fresh(n, np.float64)
    kernel = partial(_kernels.prepare_span, weight, saturation, scale, membership, out)
    spans = passes.run(kernel, n)
    count, total, per_cell = (in_order([span[k] for span in spans]) for k in range(3))
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    return *out, mean, per_cell


def recover(
    creators: Creators, price: FloatArray, log_price: FloatArray, passes: Passes = SERIAL
) -> tuple[FloatArray, float, FloatArray, FloatArray, FloatArray]:
    """:func:`~guanghe.traffic._kernels.recover_with_sums`, span by span: the primal ``x``,
    its objective and the per-cell usage, slope and conjugate sums."""
    x = fresh(creators.cell.shape[0], np.float64)
    kernel = partial(_kernels.recover_span, creators, price, log_price, x)
    spans = passes.run(kernel, x.shape[0])
    objective, total, slope, conj = (in_order([span[k] for span in spans]) for k in range(4))
    return x, float(objective), total, slope, conj


def whole_start(
    x: FloatArray,
    floor: FloatArray,
    cap: FloatArray,
    membership: tuple[IntArray, IntArray, int, int],
    passes: Passes = SERIAL,
) -> tuple[
    IntArray, IntArray, IntArray, IntArray, IntArray, int, tuple[FloatArray, FloatArray, float]
]:
    """The rounding's start ``z``, the whole floors' and ``z``'s sums per pool and group, the
    first creator whose whole floor exceeds its whole cap (``-1``: none) and what ``x`` uses
    per pool and group with its largest excess over a bound
    (:func:`~guanghe.traffic._kernels.whole_start_span`)."""
    z = fresh(x.shape[0], np.int64)
    kernel = partial(_kernels.whole_start_span, x, floor, cap, membership, z)
    spans = passes.run(kernel, x.shape[0])
    need_pool, need_group, used_pool, used_group = (
        in_order([span[k] for span in spans]) for k in range(4)
    )
    bad = next((span[4] for span in spans if span[4] >= 0), -1)
    x_pool, x_group = (in_order([span[k] for span in spans]) for k in (5, 6))
    worst = max(span[7] for span in spans)
    return z, need_pool, need_group, used_pool, used_group, bad, (x_pool, x_group, worst)


def whole_objective(
    z: IntArray, wa: FloatArray, scale: FloatArray, passes: Passes = SERIAL
) -> float:
    """``sum w a (1 - exp(-z / s))`` of whole impressions ``z``
    (:func:`~guanghe.traffic._kernels.whole_objective_span`)."""
    kernel = partial(_kernels.whole_objective_span, z, wa, scale)
    return float(in_order(passes.run(kernel, z.shape[0])))
