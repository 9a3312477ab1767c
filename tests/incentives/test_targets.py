"""Eligibility and personal targets: the pure engine."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from guanghe.creators.rules import Stage
from guanghe.errors import InvalidInput
from guanghe.incentives import Eligibility, StageTarget, eligible, fixed_target, personal_targets
from tests.incentives.sample import seed_candidates

TARGETS: dict[Stage, StageTarget] = {
    "novice": StageTarget(uplift=0.5, min_plays=100, max_plays=10_000),
    "growing": StageTarget(uplift=0.25, min_plays=1_000, max_plays=100_000),
    "mature": StageTarget(uplift=0.1, min_plays=10_000, max_plays=1_000_000),
}


def test_a_target_is_the_creators_own_baseline_raised_floored_and_capped() -> None:
    baseline = np.array([0, 2_800, 2_800, 28_000, 10**9], np.int64)
    stage = np.array(["novice", "novice", "growing", "growing", "mature"], np.str_)
    targets = personal_targets(baseline, stage, TARGETS, window_days=14)
    # 2,800 plays in 28 days is 1,400 in 14; +50 % is 2,100 for a novice, +25 % 1,750 growing.
    assert targets.tolist() == [100, 2_100, 1_750, 17_500, 1_000_000]


@given(
    arrays(np.int64, 20, elements=st.integers(0, 10**9)),
    st.sampled_from(["novice", "growing", "mature"]),
    st.integers(1, 90),
)
def test_targets_stay_in_the_stage_bounds_and_grow_with_the_baseline(
    baseline: np.ndarray, stage: str, window_days: int
) -> None:
    stages = np.array([stage] * baseline.shape[0], np.str_)
    targets = personal_targets(baseline, stages, TARGETS, window_days)
    bound = TARGETS[stage]  # type: ignore[index]  # Hypothesis draws a plain str
    assert ((targets >= bound.min_plays) & (targets <= bound.max_plays)).all()
    order = np.argsort(baseline, kind="stable")
    assert (np.diff(targets[order]) >= 0).all()


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
        personal_targets(np.array([5], np.int64), np.array(["mature"], np.str_), {}, 7)
