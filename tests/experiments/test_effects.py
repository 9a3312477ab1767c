"""The effect estimator: CUPED keeps the effect unbiased and narrows its interval; the
verdict says when the sample cannot tell; assignment is stable by creator."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.experiments import MIN_ARM_SIZE, estimate_effect, treated
from guanghe.experiments.effects import merge_thin_strata, verdict


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


def _creators_with_giants(
    rng: np.random.Generator, n: int, lift_per_day: float, days: int = 7
) -> tuple[np.ndarray, ...]:
    """A platform-like population: followers log-normal with a long tail (a few creators hold
    most of them), daily follows proportional to followers and swinging by half from day to
    day, and a treatment that adds about ``lift_per_day`` follows a day to each treated creator
    (more to small ones, as a concave boost curve does). Returns post, pre (28 days), arm,
    followers and each creator's true lift over the ``days``."""
    followers = np.floor(np.exp(rng.normal(np.log(250.0), 2.0, n)))
    level = 1.0 + 0.02 * followers * rng.lognormal(0.0, 0.3, n)
    pre = rng.poisson(level[:, None] * rng.lognormal(-0.11, 0.47, (n, 28))).sum(axis=1)
    arm = rng.random(n) < 0.5
    lift = days * lift_per_day * rng.uniform(0.5, 1.5, n)
    daily = rng.lognormal(-0.11, 0.47, (n, days))
    post = rng.poisson(level[:, None] * daily).sum(axis=1) + rng.poisson(lift * arm)
    return post.astype(float), pre.astype(float), arm, followers, lift


def test_a_few_giants_make_follows_uninformative_but_the_normalised_metric_tells() -> None:
    """On heavy-tailed follows the plain interval is hundreds of times wider than the effect;
    follows per 1,000 followers, CUPED with 28 pre-days and post-stratified by follower size,
    covers its true effect as often as it claims and is narrow enough to detect it."""
    rng = np.random.default_rng(5)
    covered_raw = covered = detected = 0
    widths_plain, widths_raw, widths, truths = [], [], [], []
    for _ in range(100):
        post, pre, arm, followers, lift = _creators_with_giants(rng, 2_000, lift_per_day=1.0)
        per_1k = 1_000.0 / np.maximum(followers, 100)
        strata = np.searchsorted([100, 1_000, 10_000, 100_000, 1_000_000], followers, "right")
        raw = estimate_effect(post, pre * 7 / 28, arm, strata=strata)
        covered_raw += raw.ci_low <= lift.mean() <= raw.ci_high
        widths_plain.append(raw.unadjusted_ci_high - raw.unadjusted_ci_low)
        widths_raw.append(raw.ci_high - raw.ci_low)
        e = estimate_effect(post * per_1k, pre * per_1k * 7 / 28, arm, strata=strata)
        truth = float(np.mean(lift * per_1k))
        covered += e.ci_low <= truth <= e.ci_high
        detected += e.verdict == "increase"
        widths.append(e.ci_high - e.ci_low)
        truths.append(truth)
        assert e.estimator == "post-stratified cuped"
        assert e.strata >= 3
    assert np.mean(widths_plain) > 20 * 7.0  # the raw plain interval says nothing
    assert np.mean(widths_raw) < 0.3 * np.mean(widths_plain)
    assert covered_raw >= 88  # the raw post-stratified interval is honest, if wide
    assert 88 <= covered <= 99
    assert np.mean(widths) < 0.5 * np.mean(truths)
    assert detected >= 90


def test_post_stratification_removes_the_variance_between_strata() -> None:
    """Outcomes that differ by stratum: the stratified interval is much narrower than the
    unstratified one and covers the effect; without a covariate it is still valid."""
    rng = np.random.default_rng(6)
    covered, ratios = 0, []
    for _ in range(200):
        strata = rng.integers(0, 4, 1_000)
        arm = rng.random(1_000) < 0.5
        y = 100.0 * strata + rng.normal(0, 5, 1_000) + 2.0 * arm
        flat = np.zeros(1_000)
        e = estimate_effect(y, flat, arm, strata=strata)
        plain = estimate_effect(y, flat, arm)
        covered += e.ci_low <= 2.0 <= e.ci_high
        ratios.append((e.ci_high - e.ci_low) / (plain.ci_high - plain.ci_low))
    assert 180 <= covered <= 198
    assert np.mean(ratios) < 0.1


def test_thin_strata_are_merged_into_the_next() -> None:
    labels = np.repeat([0, 1, 2, 3], [40, 40, 6, 3])
    arm = np.tile([True, False], 45)[: labels.size]
    merged = merge_thin_strata(labels, arm)
    assert merged.tolist() == [0] * 40 + [1] * 49  # 2 and 3 (3 and 1 per arm) join 1
    assert merge_thin_strata(np.zeros(5, np.int64), arm[:5]).tolist() == [0] * 5
    e = estimate_effect(np.ones(89), np.ones(89), arm, strata=labels)
    assert e.strata == 2
    with pytest.raises(ValueError, match="strata"):
        estimate_effect([1.0, 2.0], [1.0, 1.0], [True, False], strata=[0])
