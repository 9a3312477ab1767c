"""Who a programme enrols and the plays target each creator is set: pure NumPy, no store.

A creator's target is personal: their own plays over the :data:`~guanghe.incentives.
programmes.BASELINE_DAYS` days before the window, scaled to the window's length and raised by
their stage's uplift, then floored and capped per stage. A creator with a large audience is
asked for more than one starting out, and everybody is asked for the same *relative* effort
(within the stage's bounds), which is what makes the target reachable with effort.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from guanghe.creators.rules import Stage
from guanghe.errors import InvalidInput
from guanghe.incentives.programmes import BASELINE_DAYS, Eligibility, StageTarget

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


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


def personal_targets(
    baseline_plays: IntArray,
    stage: NDArray[np.str_],
    targets: Mapping[Stage, StageTarget],
    window_days: int,
) -> IntArray:
    """Each creator's plays target for a window of ``window_days`` days.

    ``baseline_plays[i]`` are creator ``i``'s plays over the :data:`BASELINE_DAYS` days before
    the window and ``stage[i]`` their stage, which must be a key of ``targets``. The target is
    ``ceil(baseline * window_days / BASELINE_DAYS * (1 + uplift))`` clipped to the stage's
    ``[min_plays, max_plays]``. O(n). :class:`InvalidInput` if a stage has no target.
    """
    n = baseline_plays.shape[0]
    missing = sorted(set(np.unique(stage).tolist()) - set(targets))
    if missing:
        raise InvalidInput(f"no target for stages {missing}")
    uplift, low, high = np.zeros(n), np.zeros(n), np.zeros(n)
    for name, target in targets.items():
        at = stage == name
        uplift[at], low[at], high[at] = target.uplift, target.min_plays, target.max_plays
    expected = baseline_plays.astype(np.float64) * (window_days / BASELINE_DAYS)
    raised = np.ceil(expected * (1.0 + uplift))
    result: IntArray = np.clip(raised, low, high).astype(np.int64)
    return result


def fixed_target(targets: IntArray) -> int:
    """The one target every creator would get instead: the mean of ``targets`` rounded up
    (the same total ask spread evenly), the peer the benchmark compares with."""
    return int(np.ceil(targets.mean())) if targets.shape[0] else 0
