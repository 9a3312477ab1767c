"""The effect estimator: CUPED keeps the effect unbiased and narrows its interval; the
verdict says when the sample cannot tell; assignment is stable by creator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.experiments import MIN_ARM_SIZE, estimate_effect, treated
from guanghe.experiments.effects import verdict


def _population(rng: np.random.Generator, n: int, effect: float) -> tuple[np.ndarray, ...]:
    level = rng.lognormal(2.0, 1.0, n)  # heavy-tailed creators
    pre = rng.poisson(level * 7)
    arm = rng.random(n) < 0.5
    post = rng.poisson(level * 7 + effect * arm)
    return post, pre, arm


def test_cuped_narrows_the_interval_and_keeps_the_effect() -> None:
    rng = np.random.default_rng(1)
    post, pre, arm = _population(rng, 20_000, effect=3.0)
    effect = estimate_effect(post, pre, arm)
    plain = effect.unadjusted_ci_high - effect.unadjusted_ci_low
    assert effect.ci_high - effect.ci_low < 0.5 * plain
    assert effect.variance_reduction > 0.7
    assert effect.ci_low < 3.0 < effect.ci_high
    assert effect.verdict == "increase"


def test_intervals_cover_a_known_effect_about_as_often_as_they_claim() -> None:
    rng = np.random.default_rng(2)
    covered = 0
    for _ in range(200):
        post, pre, arm = _population(rng, 2_000, effect=1.0)
        e = estimate_effect(post, pre, arm)
        covered += e.ci_low <= 1.0 <= e.ci_high
    assert 0.90 <= covered / 200 <= 0.99


def test_verdicts() -> None:
    assert verdict(1.0, 2.0, 10.0, 500) == "increase"
    assert verdict(-2.0, -1.0, 10.0, 500) == "decrease"
    assert verdict(-0.1, 0.1, 10.0, 500) == "no detectable change"
    assert verdict(-3.0, 3.0, 10.0, 500) == "too small to tell"
    assert verdict(1.0, 2.0, 10.0, MIN_ARM_SIZE - 1) == "too small to tell"


def test_tiny_arms_are_too_small_to_tell() -> None:
    e = estimate_effect([1.0, 2.0, 3.0, 4.0], [1.0, 1.0, 2.0, 2.0], [True, False, True, False])
    assert e.verdict == "too small to tell"
    e = estimate_effect([1.0], [1.0], [True])
    assert e.verdict == "too small to tell"
    with pytest.raises(ValueError, match="aligned"):
        estimate_effect([1.0, 2.0], [1.0], [True, False])


@settings(max_examples=40, deadline=None)
@given(
    st.text("abcdefgh-0123", min_size=1, max_size=12),
    st.lists(st.integers(1, 10**9), min_size=1, max_size=50, unique=True),
    st.floats(0.05, 0.95),
)
def test_assignment_is_stable_by_creator_whoever_else_is_assigned(
    key: str, ids: list[int], share: float
) -> None:
    together = treated(key, ids, share)
    alone = np.array([treated(key, [c], share)[0] for c in ids])
    assert (together == alone).all()
    assert (treated(key, ids[::-1], share) == together[::-1]).all()


def test_assignment_splits_by_the_share_and_differs_by_key() -> None:
    ids = np.arange(1, 20_001)
    a, b = treated("exp-a", ids, 0.2), treated("exp-b", ids, 0.2)
    assert a.mean() == pytest.approx(0.2, abs=0.01)
    assert (a & b).mean() == pytest.approx(0.04, abs=0.006)  # independent splits
