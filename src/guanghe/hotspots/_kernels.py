"""The detector's scan over every key, hour and window in one compiled pass (Numba).

Equal to the whole-array formulation it replaces, cell for cell, without its ``(K, H)``
temporaries per window: the logarithm of a scan statistic is taken only where the window's
ratio exceeds one (elsewhere the score is zero), and the works test only where the window has
the support; keys are spread over the cores.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@njit(cache=True, nogil=True, inline="always")
def _ratio(
    observed: float,
    baseline: float,
    window_volume: float,
    baseline_volume: float,
    prior: float,
    min_expected: float,
) -> tuple[float, float]:
    """``(ratio, expected)`` of a window against its baseline share (see ``_z``)."""
    share = (baseline + prior) / (baseline_volume + 2.0 * prior)
    expected = max(window_volume * share, min_expected)
    return observed / expected, expected


@njit(cache=True, nogil=True, inline="always")
def _z(observed: float, expected: float, ratio: float) -> float:
    """The signed root of the one-sided Poisson log-likelihood ratio, for ``ratio > 1``."""
    llr = observed * math.log(ratio) - (observed - expected)
    return math.sqrt(max(2.0 * llr, 0.0))


@njit(cache=True, nogil=True, parallel=True)
def scan_windows(
    activity: FloatArray,
    volume: FloatArray,
    works: FloatArray,
    group_works: FloatArray,
    key_group: IntArray,
    windows: IntArray,
    baseline_hours: int,
    prior: float,
    min_expected: float,
    min_score: float,
    min_lift: float,
    min_support: float,
) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Best ``z`` over the windows ending at each hour, the lift of that window, and hotness.

    ``activity`` and ``works`` are prefix sums per key, ``(K, H + 1)``; ``volume`` and
    ``group_works`` per vertical, ``(G, H + 1)``; ``key_group`` the vertical row of each key.
    A window ``(e - L, e]`` is scored when its baseline is at least a quarter of
    ``baseline_hours`` long; its score counts when it beats the windows before it (strictly).
    """
    k = activity.shape[0]
    h = activity.shape[1] - 1
    scores = np.zeros((k, h))
    lifts = np.ones((k, h))
    hot = np.zeros((k, h), dtype=np.bool_)
    for key in prange(k):
        g = key_group[key]
        for e in range(1, h + 1):
            best = 0.0
            lift = 1.0
            is_hot = False
            for length in windows:
                start = max(e - length, 0)
                base = max(start - baseline_hours, 0)
                if (start - base) * 4 < baseline_hours:
                    continue
                observed = activity[key, e] - activity[key, start]
                ratio, expected = _ratio(
                    observed,
                    activity[key, start] - activity[key, base],
                    volume[g, e] - volume[g, start],
                    volume[g, start] - volume[g, base],
                    prior,
                    min_expected,
                )
                if ratio > 1.0:
                    z = _z(observed, expected, ratio)
                    if z > best:
                        best = z
                        lift = ratio
                if is_hot:
                    continue
                support = works[key, e] - works[key, start]
                if support < min_support:
                    continue
                works_ratio, works_expected = _ratio(
                    support,
                    works[key, start] - works[key, base],
                    group_works[g, e] - group_works[g, start],
                    group_works[g, start] - group_works[g, base],
                    prior,
                    min_expected,
                )
                if works_ratio >= min_lift and works_ratio > 1.0:
                    is_hot = _z(support, works_expected, works_ratio) >= min_score
            scores[key, e - 1] = best
            lifts[key, e - 1] = lift
            hot[key, e - 1] = is_hot
    return scores, lifts, hot
