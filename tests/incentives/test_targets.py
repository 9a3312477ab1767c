"""Eligibility and personal targets: the pure engine."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from guanghe.creators.rules import Stage
from guanghe.errors import InvalidInput
from guanghe.incentives import (
    BASELINE_DAYS,
    Eligibility,
    StageTarget,
    eligible,
    fixed_target,
    flat_history,
    personal_targets,
    robust_baseline,
)
from tests.incentives.sample import seed_candidates

TARGETS: dict[Stage, StageTarget] = {
    "novice": StageTarget(uplift=0.5, min_plays=100, max_plays=10_000),
    "growing": StageTarget(uplift=0.25, min_plays=1_000, max_plays=100_000),
    "mature": StageTarget(uplift=0.1, min_plays=10_000, max_plays=1_000_000),
}


def _weeks(*weekly_plays: int) -> np.ndarray:
    """A 28-day history of four weeks, each week's plays spread over its days."""
    days = []
    for week in weekly_plays:
        spread = np.full(7, week // 7, np.int64)
        spread[: week % 7] += 1
        days.append(spread)
    return np.concatenate(days)


def test_a_steady_creator_is_asked_for_their_pace_raised_by_the_stage_floored_and_capped() -> None:
    history = flat_history(np.array([0, 2_800, 2_800, 28_000, 10**9], np.int64))
    stage = np.array(["novice", "novice", "growing", "growing", "mature"], np.str_)
    targets = personal_targets(history, stage, TARGETS, window_days=14)
    # 2,800 plays in 28 days is 1,400 in 14; +50 % is 2,100 for a novice, +25 % 1,750 growing.
    assert targets.tolist() == [100, 2_100, 1_750, 17_500, 1_000_000]


def test_one_viral_week_does_not_set_the_target() -> None:
    steady = _weeks(700, 700, 700, 700)
    viral = _weeks(700, 20_000, 700, 700)  # one work took off two weeks ago
    stages = np.array(["growing", "growing"], np.str_)
    targets = personal_targets(np.stack([steady, viral]), stages, TARGETS, window_days=14)
    # The mean pace would ask the viral creator for (21,100 / 2) * 1.25 = 13,188 plays.
    assert targets[0] == 1_750
    assert 1_750 <= targets[1] < 3_000


def test_rising_and_noisy_creators_are_asked_for_more() -> None:
    rising = _weeks(100, 200, 300, 400)
    flat = _weeks(250, 250, 250, 250)  # the same 28-day total
    noisy = _weeks(1_000, 2_000, 1_000, 2_000)
    steady = _weeks(1_500, 1_500, 1_500, 1_500)
    stages = np.array(["novice"] * 4, np.str_)
    wide: dict[Stage, StageTarget] = {
        "novice": StageTarget(uplift=0.5, min_plays=1, max_plays=10**9)
    }
    targets = personal_targets(np.stack([rising, flat, noisy, steady]), stages, wide, 14)
    assert targets[0] > targets[1]
    assert targets[2] > targets[3]
    baseline = robust_baseline(np.stack([rising, flat, noisy, steady]), 14)
    assert baseline.plays[0] > 2 * 400  # the trend carries on into the window
    assert baseline.spread[1] == baseline.spread[3] == 0.0
    assert baseline.spread[2] > 0.0


@given(
    arrays(np.int64, (12, BASELINE_DAYS), elements=st.integers(0, 10**7)),
    st.sampled_from(["novice", "growing", "mature"]),
    st.integers(1, 90),
    st.integers(1, 100),
)
def test_targets_stay_in_the_stage_bounds_never_under_the_baseline_and_grow_with_it(
    history: np.ndarray, stage: str, window_days: int, scale: int
) -> None:
    stages = np.array([stage] * history.shape[0], np.str_)
    targets = personal_targets(history, stages, TARGETS, window_days)
    bound = TARGETS[stage]  # type: ignore[index]  # Hypothesis draws a plain str
    assert ((targets >= bound.min_plays) & (targets <= bound.max_plays)).all()
    baseline = robust_baseline(history, window_days).plays
    assert (targets >= np.minimum(np.floor(baseline), bound.max_plays)).all()
    assert (personal_targets(history * scale, stages, TARGETS, window_days) >= targets).all()


@given(arrays(np.int64, (12, BASELINE_DAYS), elements=st.integers(0, 10**6)))
def test_a_larger_stage_uplift_asks_more_and_the_rule_is_deterministic_per_creator(
    history: np.ndarray,
) -> None:
    wide: dict[Stage, StageTarget] = {
        "novice": StageTarget(uplift=0.5, min_plays=1, max_plays=10**12),
        "growing": StageTarget(uplift=0.25, min_plays=1, max_plays=10**12),
        "mature": StageTarget(uplift=0.1, min_plays=1, max_plays=10**12),
    }
    by_stage = [
        personal_targets(history, np.array([stage] * 12, np.str_), wide, 14)
        for stage in ("novice", "growing", "mature")
    ]
    assert (by_stage[0] >= by_stage[1]).all()
    assert (by_stage[1] >= by_stage[2]).all()
    stages = np.array(["novice", "growing", "mature"] * 4, np.str_)
    once = personal_targets(history, stages, wide, 14)
    assert (personal_targets(history, stages, wide, 14) == once).all()
    order = np.random.default_rng(0).permutation(12)
    assert (personal_targets(history[order], stages[order], wide, 14) == once[order]).all()


def test_a_history_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(InvalidInput, match="days per creator"):
        robust_baseline(np.zeros((3, 14), np.int64), 14)


def test_eligibility_by_stage_vertical_pool_and_new_creator_channel() -> None:
    candidates = seed_candidates()
    pool_only = Eligibility(stages=("growing", "mature"), quality_pool=True)
    assert candidates.creator_id[eligible(pool_only, candidates, ())].tolist() == [2, 3, 5]
    channel = Eligibility(
        stages=("growing",), quality_pool=True, new_creator_channel=True, new_creator_days=20
    )
    # growing creators in the pool, and the novice who joined 10 days ago (not the one at 30)
    assert candidates.creator_id[eligible(channel, candidates, ())].tolist() == [2, 4, 5]
    in_vertical = Eligibility(stages=("novice", "growing", "mature"))
    assert candidates.creator_id[eligible(in_vertical, candidates, (3,))].tolist() == [5, 6]


def test_the_fixed_peer_asks_everyone_the_mean_target() -> None:
    assert fixed_target(np.array([100, 200, 301], np.int64)) == 201
    assert fixed_target(np.zeros(0, np.int64)) == 0


def test_a_stage_without_a_target_is_refused() -> None:
    with pytest.raises(InvalidInput, match="no target for stages"):
        personal_targets(flat_history(np.array([5])), np.array(["mature"], np.str_), {}, 7)
