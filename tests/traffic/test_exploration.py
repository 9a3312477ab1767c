"""Exploration: the Thompson-sampled share of the budget, and the curves' posterior spreads."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.errors import InvalidInput
from guanghe.traffic import AllocationProblem
from guanghe.traffic.exploration import explore_and_exploit, thompson_draw
from guanghe.traffic.planning import solve_period
from guanghe.traffic.response import ResponseCurves, fit_response

from .strategies import problems
from .test_response import simulated_activity


def curves_of(problem: AllocationProblem, spread: float | np.ndarray) -> ResponseCurves:
    n = problem.n_creators
    spreads = np.broadcast_to(np.asarray(spread, dtype=np.float64), (n,)).copy()
    return ResponseCurves(
        problem.creator_id,
        problem.saturation,
        problem.scale,
        np.zeros(n),
        np.zeros(n, np.int64),
        spreads,
        spreads.copy(),
    )


@settings(max_examples=60, deadline=None)
@given(problems(max_creators=20), st.floats(0.0, 0.5), st.integers(0, 2**32 - 1))
def test_explored_allocation_keeps_every_budget_cap_and_limit(
    problem: AllocationProblem, share: float, seed: int
) -> None:
    result = explore_and_exploit(
        problem, curves_of(problem, 0.8), share, np.random.default_rng(seed), days=1
    )
    x = result.allocation.impressions
    pools = len(problem.pool_names)
    assert (x >= 0).all()
    assert (result.explored >= 0).all()
    assert (result.explored <= x).all()
    assert (x <= problem.cap + 1e-9).all()
    assert (np.bincount(problem.pool, x, pools) <= problem.pool_budgets + 1e-6).all()
    groups = np.bincount(problem.group, x, len(problem.group_names))
    assert (groups <= problem.group_caps + 1e-6).all()
    again = explore_and_exploit(
        problem, curves_of(problem, 0.8), share, np.random.default_rng(seed), days=1
    )
    assert np.array_equal(again.allocation.impressions, x)


@settings(max_examples=30, deadline=None)
@given(problems(max_creators=20))
def test_share_zero_is_the_plain_solve(problem: AllocationProblem) -> None:
    result = explore_and_exploit(
        problem, curves_of(problem, 1.0), 0.0, np.random.default_rng(0), days=1
    )
    assert np.array_equal(result.allocation.impressions, solve_period(problem).impressions)
    assert not result.explored.any()


def test_exploration_goes_to_the_creators_whose_curves_are_uncertain() -> None:
    n = 400
    problem = AllocationProblem(
        creator_id=np.arange(1, n + 1, dtype=np.int64),
        pool=np.zeros(n, np.int64),
        group=np.zeros(n, np.int64),
        weight=np.ones(n),
        saturation=np.full(n, 20.0),
        scale=np.full(n, 5_000.0),
        floor=np.zeros(n),
        cap=np.full(n, 1e6),
        pool_names=("general",),
        pool_budgets=np.array([n * 2_000.0]),
        group_names=("all",),
        group_caps=np.array([np.inf]),
    )
    uncertain = np.arange(n) % 2 == 0  # same estimate, a wide posterior for half of them
    spread = np.where(uncertain, 1.2, 0.05)
    result = explore_and_exploit(
        problem, curves_of(problem, spread), 0.2, np.random.default_rng(3), days=7
    )
    explored = result.explored
    assert explored.sum() > 0.9 * 0.2 * n * 2_000
    assert explored[uncertain].sum() > 3 * explored[~uncertain].sum()


def test_rejects_a_share_out_of_range_and_misaligned_curves() -> None:
    problem = AllocationProblem.from_labels(
        creator_id=[1, 2],
        pool=["p", "p"],
        group=["g", "g"],
        weight=[1.0, 1.0],
        saturation=[5.0, 5.0],
        scale=[100.0, 100.0],
        floor=[0.0, 0.0],
        cap=[1e4, 1e4],
        pool_budgets={"p": 1_000.0},
    )
    curves = curves_of(problem, 1.0)
    with pytest.raises(InvalidInput, match="exploration share"):
        explore_and_exploit(problem, curves, 1.0, np.random.default_rng(0), days=1)
    shifted = dataclasses.replace(curves, creator_id=np.array([2, 3]))
    with pytest.raises(InvalidInput, match="aligned"):
        explore_and_exploit(problem, shifted, 0.1, np.random.default_rng(0), days=1)


def test_thompson_draws_scatter_by_each_creators_spread() -> None:
    problem = AllocationProblem.from_labels(
        creator_id=[1, 2],
        pool=["p", "p"],
        group=["g", "g"],
        weight=[1.0, 1.0],
        saturation=[10.0, 10.0],
        scale=[1_000.0, 1_000.0],
        floor=[0.0, 0.0],
        cap=[1e4, 1e4],
        pool_budgets={"p": 1_000.0},
    )
    curves = curves_of(problem, np.array([0.01, 1.0]))
    rng = np.random.default_rng(5)
    draws = np.array([np.log(thompson_draw(curves, rng)[0]) for _ in range(2_000)])
    assert draws[:, 0].std() == pytest.approx(0.01, rel=0.1)
    assert draws[:, 1].std() == pytest.approx(1.0, rel=0.1)
    assert np.median(draws[:, 1]) == pytest.approx(np.log(10.0), abs=0.1)


def test_posterior_spreads_narrow_with_boosted_days() -> None:
    rng = np.random.default_rng(7)
    n = 300
    a = np.exp(rng.normal(np.log(30), 0.4, n))
    s = np.exp(rng.normal(np.log(8_000), 0.5, n))
    short = simulated_activity(a, s, np.full(n, 0.002), days=10, seed=1)
    long = simulated_activity(a, s, np.full(n, 0.002), days=120, seed=1)
    ids = np.arange(1, n + 1)
    cell = np.zeros(n, np.int64)
    few, many = fit_response(short, ids, cell), fit_response(long, ids, cell)
    assert few.saturation_spread is not None
    assert many.saturation_spread is not None
    assert few.scale_spread is not None
    assert many.scale_spread is not None
    for spread in (few.saturation_spread, many.saturation_spread, few.scale_spread):
        assert np.isfinite(spread).all()
        assert (spread > 0).all()
    assert np.median(many.saturation_spread) < 0.6 * np.median(few.saturation_spread)
    assert np.median(many.scale_spread) < np.median(few.scale_spread)
    # A creator never boosted keeps the prior's spread, wider than any creator with data.
    newcomer = fit_response(long, np.r_[ids, n + 1], np.zeros(n + 1, np.int64))
    assert newcomer.saturation_spread is not None
    assert newcomer.saturation_spread[-1] > np.median(many.saturation_spread)
