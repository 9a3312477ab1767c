"""Who a programme enrols and the plays target each creator is set: pure NumPy, no store.

A creator's target is personal: their robust pace over the :data:`~guanghe.incentives.
programmes.BASELINE_DAYS` days before the window (a trend-adjusted lower quartile of their
weeks, so that one viral week does not set it), scaled to the window's length and raised by
their stage's uplift, more for a creator whose weeks swing widely, then floored and capped per
stage. A creator with a large audience is asked for more than one starting out, and everybody
is asked for an effort relative to their own pace and swings, which is what makes the target
reachable with effort and not by luck.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from guanghe.creators.rules import Stage
from guanghe.errors import InvalidInput
from guanghe.incentives.programmes import BASELINE_DAYS, Eligibility, StageTarget

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Candidates:
    """Creators as the day's growth assessment and features see them (aligned arrays)."""

    creator_id: IntArray
    vertical_id: IntArray
    stage: NDArray[np.str_]
    in_pool: BoolArray
    tenure_days: IntArray


def eligible(rule: Eligibility, candidates: Candidates, vertical_ids: Sequence[int]) -> BoolArray:
    """Which ``candidates`` ``rule`` admits; ``vertical_ids`` are the ids of
    ``rule.verticals`` (empty: every vertical)."""
    in_vertical = (
        np.isin(candidates.vertical_id, np.asarray(vertical_ids, np.int64))
        if vertical_ids
        else np.ones(candidates.creator_id.shape[0], bool)
    )
    staged = np.isin(candidates.stage, np.asarray(rule.stages, np.str_))
    regular = staged & (candidates.in_pool | (not rule.quality_pool))
    channel = (
        (candidates.stage == "novice") & (candidates.tenure_days <= rule.new_creator_days)
        if rule.new_creator_channel
        else np.zeros(candidates.creator_id.shape[0], bool)
    )
    mask: BoolArray = in_vertical & (regular | channel)
    return mask


#: Days per block of the baseline: the baseline's days are cut into weeks, the unit of its
#: level, trend and spread.
BLOCK_DAYS: Final = 7
#: The quantile of the detrended weeks that sets the level: the lower quartile, because plays
#: come in bursts (a week with a new work, then weeks of decay), so a typical week is below
#: the median of a burst and the weeks after it.
LEVEL_QUANTILE: Final = 0.25
#: Share of the baseline's weekly trend carried past its last week into the window.
TREND_WEIGHT: Final = 0.5
#: How much a creator's own spread (the median absolute deviation of their weeks from the
#: trend line, relative to the level) adds to the stage's uplift, and its cap.
SPREAD_WEIGHT: Final = 0.5
MAX_SPREAD: Final = 1.0


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a creator's daily plays before a window say about the window (aligned arrays).

    ``plays``: the robust expectation of the window's plays (the trend-adjusted median pace,
    scaled to the window's length); ``spread``: the creator's relative week-to-week
    variability around their trend (0: steady, capped at :data:`MAX_SPREAD`).
    """

    plays: FloatArray
    spread: FloatArray


def robust_baseline(history: IntArray, window_days: int) -> Baseline:
    """The robust baseline of each row of ``history`` for a window of ``window_days`` days.

    ``history`` has shape ``(n, BASELINE_DAYS)``: each creator's plays per day, oldest first.
    The days are summed into ``BASELINE_DAYS // BLOCK_DAYS`` weeks; the Theil-Sen slope (the
    median of pairwise slopes) detrends them, the :data:`LEVEL_QUANTILE` of the detrended
    weeks is the level at the first week, carried by the slope to the last week, and
    :data:`TREND_WEIGHT` of the slope on to the window's middle: one viral week neither sets
    nor skews it, and a creator on the rise is expected to keep rising. The level is never
    negative. ``spread`` is the median absolute deviation of the detrended weeks over the
    larger of the level and the mean week.
    O(n). :class:`InvalidInput` if ``history`` is not ``(n, BASELINE_DAYS)``.
    """
    if history.ndim != 2 or history.shape[1] != BASELINE_DAYS:
        raise InvalidInput(f"history must have {BASELINE_DAYS} days per creator")
    n, blocks = history.shape[0], BASELINE_DAYS // BLOCK_DAYS
    weeks = history.astype(np.float64).reshape(n, blocks, BLOCK_DAYS).sum(axis=2)
    at = np.arange(blocks, dtype=np.float64)
    first, second = np.triu_indices(blocks, 1)
    slope = np.median((weeks[:, second] - weeks[:, first]) / (second - first), axis=1)
    detrended = weeks - slope[:, None] * at
    intercept = np.quantile(detrended, LEVEL_QUANTILE, axis=1)
    last = intercept + slope * (blocks - 1)
    # The window's middle, in weeks after the middle of the baseline's last week.
    ahead = (BLOCK_DAYS / 2 + window_days / 2) / BLOCK_DAYS
    level = np.maximum(last + TREND_WEIGHT * slope * ahead, 0.0)
    residual = np.median(np.abs(detrended - np.median(detrended, axis=1)[:, None]), axis=1)
    scale = np.maximum(np.maximum(level, weeks.mean(axis=1)), 1.0)
    spread = np.minimum(residual / scale, MAX_SPREAD)
    return Baseline(plays=level * (window_days / BLOCK_DAYS), spread=spread)


def flat_history(baseline_plays: IntArray) -> IntArray:
    """Histories of ``BASELINE_DAYS`` days that sum to ``baseline_plays``, spread evenly (the
    remainder on the first days): for a creator whose days are not known, only their sum."""
    per_day, remainder = np.divmod(baseline_plays.astype(np.int64), BASELINE_DAYS)
    history: IntArray = per_day[:, None] + (
        np.arange(BASELINE_DAYS)[None, :] < remainder[:, None]
    ).astype(np.int64)
    return history


def personal_targets(
    history: IntArray,
    stage: NDArray[np.str_],
    targets: Mapping[Stage, StageTarget],
    window_days: int,
) -> IntArray:
    """Each creator's plays target for a window of ``window_days`` days.

    ``history[i]`` are creator ``i``'s plays per day over the :data:`BASELINE_DAYS` days
    before the window (shape ``(n, BASELINE_DAYS)``) and ``stage[i]`` their stage, which must
    be a key of ``targets``. With ``b``, ``s`` the :func:`robust_baseline`'s plays and spread,
    the target is ``ceil(b * (1 + uplift * (1 + SPREAD_WEIGHT * s)))`` clipped to the stage's
    ``[min_plays, max_plays]``: the stage sets the effort asked, and a creator whose weeks
    swing widely is asked for more than their swings, so that reaching it takes effort, not
    luck. Never below ``b`` unless capped by ``max_plays``; grows with the history (scaling a
    history by ``c >= 1`` never lowers the target); row by row, so deterministic and
    independent of the other creators. O(n). :class:`InvalidInput` if a stage has no target.
    """
    n = history.shape[0]
    missing = sorted(set(np.unique(stage).tolist()) - set(targets))
    if missing:
        raise InvalidInput(f"no target for stages {missing}")
    uplift, low, high = np.zeros(n), np.zeros(n), np.zeros(n)
    for name, target in targets.items():
        at = stage == name
        uplift[at], low[at], high[at] = target.uplift, target.min_plays, target.max_plays
    baseline = robust_baseline(history, window_days)
    raised = np.ceil(baseline.plays * (1.0 + uplift * (1.0 + SPREAD_WEIGHT * baseline.spread)))
    result: IntArray = np.clip(raised, low, high).astype(np.int64)
    return result


def fixed_target(targets: IntArray) -> int:
    """The one target every creator would get instead: the mean of ``targets`` rounded up
    (the same total ask spread evenly), the peer the benchmark compares with."""
    return int(np.ceil(targets.mean())) if targets.shape[0] else 0
