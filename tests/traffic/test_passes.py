"""The passes over the creators, span by span on threads: one answer whatever the threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from guanghe.errors import InvalidInput
from guanghe.traffic import AllocationProblem, TrafficAllocator, passes
from guanghe.traffic._kernels import Creators
from guanghe.traffic.passes import Passes, span_bounds

#: A span size that cuts the tests' few thousand creators into dozens of spans.
SMALL_SPAN = 97


def wide_problem(n: int, seed: int) -> AllocationProblem:
    """The documented shape at a small size: 4 pools, 20 groups (half capped, binding), 10 %
    of creators with floors, 20 % with tight caps, 1 % of zero weight."""
    rng = np.random.default_rng(seed)
    floor = np.where(rng.random(n) < 0.1, np.round(rng.uniform(0, 200, n)), 0.0)
    cap = floor + np.where(rng.random(n) < 0.2, np.round(rng.uniform(1, 2000, n)), 1e5)
    pool, group = rng.integers(0, 4, n), rng.integers(0, 20, n)
    need = np.bincount(group, floor, 20)
    return AllocationProblem(
        creator_id=rng.permutation(3 * n)[:n].astype(np.int64),
        pool=pool,
        group=group,
        weight=np.where(rng.random(n) < 0.01, 0.0, rng.uniform(0.5, 2.0, n)),
        saturation=rng.pareto(1.5, n) * 100 + 1,
        scale=rng.lognormal(5, 1.5, n),
        floor=floor,
        cap=cap,
        pool_names=("a", "b", "c", "d"),
        pool_budgets=np.bincount(pool, floor, 4).astype(np.float64) + 300.0 * n / 4,
        group_names=tuple(f"g{k}" for k in range(20)),
        group_caps=np.where(np.arange(20) % 2 == 0, need + 10.0 * n / 20, np.inf),
    )


def test_spans_cover_the_creators_in_order() -> None:
    assert span_bounds(0, 5) == [(0, 0)]
    assert span_bounds(5, 5) == [(0, 5)]
    assert span_bounds(11, 5) == [(0, 5), (5, 10), (10, 11)]


@pytest.mark.parametrize("seed", [3, 17])
def test_the_answer_does_not_depend_on_the_threads(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Dozens of spans on 1, 2 and 3 threads: every figure bit for bit the same."""
    monkeypatch.setattr(passes, "SPAN_ROWS", SMALL_SPAN)
    problem = wide_problem(4_000, seed)
    one, *others = (TrafficAllocator(threads=t).solve(problem) for t in (1, 2, 3))
    assert one.group_prices[::2].min() > 0  # the caps bind: the groups' sums matter
    for other in others:
        for field in ("impressions", "relaxed", "pool_prices", "group_prices"):
            assert np.array_equal(getattr(one, field), getattr(other, field)), field
        for field in ("objective", "rounded_objective", "dual_objective", "max_violation"):
            assert getattr(one, field) == getattr(other, field), field
        assert one.iterations == other.iterations


def test_spans_solve_as_one_pass_does_up_to_rounding(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spans' sums added in order differ from one running sum by roundings alone."""
    problem = wide_problem(4_000, 5)
    whole = TrafficAllocator(threads=1).solve(problem)
    monkeypatch.setattr(passes, "SPAN_ROWS", SMALL_SPAN)
    spans = TrafficAllocator(threads=2).solve(problem)
    assert np.allclose(spans.relaxed, whole.relaxed, rtol=1e-9, atol=1e-6)
    assert spans.objective == pytest.approx(whole.objective, rel=1e-12)
    assert spans.rounded_objective == pytest.approx(whole.rounded_objective, rel=1e-9)
    assert spans.impressions.sum() == whole.impressions.sum()
    assert max(spans.max_violation, whole.max_violation) < 1e-9


def test_each_pass_in_spans_sums_what_one_pass_sums() -> None:
    """Per pass: the per-creator values equal, the sums equal up to rounding, the first
    creator whose whole floor exceeds its cap found in a later span too."""
    p = wide_problem(3_000, 7)
    floor = p.floor.copy()
    floor[[1_000, 2_500]] = p.cap[[1_000, 2_500]] + 0.5  # whole floor above whole cap
    membership = (p.pool, p.group, 4, 20)
    with ThreadPoolExecutor(2) as executor:
        split, whole = Passes(executor, rows=SMALL_SPAN), Passes(rows=10**9)
        a, b = (
            passes.prepare(p.weight, p.saturation, p.scale, membership, q) for q in (split, whole)
        )
        for k in (0, 1, 2, 4):
            assert np.array_equal(a[k], b[k])
        assert np.allclose(a[3], b[3], rtol=1e-12)
        cell, lc, wa = b[:3]
        creators = Creators(cell, lc, p.scale, p.floor, p.cap, wa)
        log_price = np.linspace(-3.0, 1.0, 80)
        r, s = (passes.recover(creators, np.exp(log_price), log_price, q) for q in (split, whole))
        assert np.array_equal(r[0], s[0])
        for k in range(1, 5):
            assert np.allclose(r[k], s[k], rtol=1e-12)
        x = s[0]
        u, v = (passes.whole_start(x, floor, p.cap, membership, q) for q in (split, whole))
        for got, want in zip(u[:5], v[:5], strict=True):
            assert np.array_equal(got, want)
        assert u[5] == v[5] == 1_000
        assert np.allclose(u[6][0], v[6][0], rtol=1e-12)
        assert u[6][2] == v[6][2]
        z = v[0]
        objectives = [passes.whole_objective(z, wa, p.scale, q) for q in (split, whole)]
        assert objectives[0] == pytest.approx(objectives[1], rel=1e-12)


def test_threads_below_one_are_refused() -> None:
    with pytest.raises(InvalidInput, match="threads"):
        TrafficAllocator(threads=0).solve(wide_problem(10, 1))
