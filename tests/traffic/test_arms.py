"""Experiment arms in the allocation: each arm its own slice of every pool, the policy's
weights, shares and exploration applied to the treated only; and why each creator gets what
they get."""

from __future__ import annotations

import numpy as np
import pytest

from guanghe.traffic.exploration import explore_and_exploit
from guanghe.traffic.planning import (
    ArmPolicy,
    Arms,
    allocation_table,
    assign_pools,
    default_budgets,
    period_problem,
    solve_period,
)
from guanghe.traffic.why import allocation_why
from tests.traffic.test_planning import PROGRAMS, curves, members

N, DAYS = 3_000, 7


def _setup(policy: ArmPolicy) -> tuple[Arms, dict[str, int]]:
    m = members(N)
    counts = np.bincount(assign_pools(PROGRAMS, m), minlength=len(PROGRAMS.pools))
    budgets = default_budgets(PROGRAMS, N, DAYS, counts.tolist())
    arm = np.where(np.random.default_rng(3).random(N) < 0.3, 0, -1).astype(np.int64)
    return Arms(arm=arm, policies=(policy,)), budgets


def test_without_a_policy_change_each_arm_gets_its_head_count_share() -> None:
    arms, budgets = _setup(ArmPolicy("aa", {}, {}, 0.0))
    m = members(N)
    problem = period_problem(PROGRAMS, m, curves(N), budgets, DAYS, arms=arms)
    assert len(problem.pool_names) == 2 * len(PROGRAMS.pools)
    assert problem.pool_names[1] == "new_creator@aa"
    pool = assign_pools(PROGRAMS, m)
    for k, name in enumerate(PROGRAMS.pool_names):
        treated = np.sum((pool == k) & (arms.arm == 0))
        share = treated / max(np.sum(pool == k), 1)
        assert problem.pool_budgets[2 * k + 1] == pytest.approx(budgets[name] * share, abs=1)
        assert problem.pool_budgets[2 * k : 2 * k + 2].sum() <= budgets[name]
    table = allocation_table(problem, m, solve_period(problem))
    assert set(table["pool"].to_pylist()) <= set(PROGRAMS.pool_names)
    assert set(table["arm"].to_pylist()) == {"", "aa"}


def test_pool_shares_and_weights_move_traffic_to_the_treated_only_by_the_policy() -> None:
    plain, budgets = _setup(ArmPolicy("aa", {}, {}, 0.0))
    more = Arms(plain.arm, (ArmPolicy("more", {"general": 2.0}, {"general": 1.5}, 0.0),))
    m, c = members(N), curves(N)
    base = period_problem(PROGRAMS, m, c, budgets, DAYS, arms=plain)
    policy = period_problem(PROGRAMS, m, c, budgets, DAYS, arms=more)
    general = PROGRAMS.pool_names.index("general")
    assert policy.pool_budgets[2 * general + 1] == pytest.approx(
        1.5 * base.pool_budgets[2 * general + 1], abs=2
    )
    assert policy.pool_budgets[2 * general : 2 * general + 2].sum() <= budgets["general"]
    treated_general = policy.pool == 2 * general + 1
    assert (policy.weight[treated_general] == 2.0 * base.weight[treated_general]).all()
    untouched = policy.pool % 2 == 0
    assert (policy.weight[untouched] == base.weight[untouched]).all()
    x_base = solve_period(base).impressions
    x_policy = solve_period(policy).impressions
    assert x_policy[treated_general].sum() > x_base[treated_general].sum()


def test_exploration_raises_floors_of_treated_creators_without_evidence() -> None:
    arms, budgets = _setup(ArmPolicy("explore", {}, {}, 0.2))
    m, c = members(N), curves(N)
    known = np.arange(N) % 2 == 0
    c = type(c)(c.creator_id, c.saturation, c.scale, c.organic_rate, np.where(known, 5, 0))
    problem = period_problem(PROGRAMS, m, c, budgets, DAYS, arms=arms)
    plain = period_problem(PROGRAMS, m, c, budgets, DAYS)
    explored = (arms.arm == 0) & ~known
    assert (problem.floor[explored] >= plain.floor[explored]).all()
    assert (problem.floor[explored] > plain.floor[explored]).any()
    assert (problem.floor[~explored] == plain.floor[~explored]).all()
    for k in range(len(problem.pool_names)):
        assert problem.floor[problem.pool == k].sum() <= problem.pool_budgets[k] + 1


def test_why_names_the_limit_that_bound() -> None:
    arms, budgets = _setup(ArmPolicy("aa", {}, {}, 0.0))
    m, c = members(N), curves(N)
    problem = period_problem(PROGRAMS, m, c, budgets, DAYS, arms=arms)
    rows = allocation_table(problem, m, solve_period(problem)).to_pylist()
    bounds: dict[str, object] = {}
    for row in rows:
        why = allocation_why(row, DAYS, row["pool"], operator=True)
        bounds.setdefault(why.bound, (row, why))
        assert why.sentence
        if why.bound in ("pool budget", "vertical cap"):
            # interior: the weighted marginal follow equals the price
            price = why.pool_price_per_1000 + why.vertical_price_per_1000
            assert row["weight"] * why.marginal_follows_per_1000 == pytest.approx(price, rel=1e-3)
        if why.bound == "floor":
            assert why.allocated_per_day == pytest.approx(why.floor_per_day, rel=1e-6)
        if why.bound == "cap":
            assert why.allocated_per_day == pytest.approx(why.cap_per_day, rel=1e-6)
    assert {"floor", "pool budget"} <= set(bounds)
    creator_view = allocation_why(rows[0], DAYS, "General", operator=False)
    assert creator_view.weight is None
    assert "General pool" in creator_view.sentence or "General" in creator_view.sentence


def test_why_takes_the_marginal_at_the_exploiting_part_of_an_explored_period() -> None:
    # Exploration adds impressions on a Thompson draw beyond the exploiting solve's optimum;
    # the prices are that solve's, so the marginal that meets them is at its part alone.
    m, c = members(N), curves(N)
    _, budgets = _setup(ArmPolicy("aa", {}, {}, 0.0))
    problem = period_problem(PROGRAMS, m, c, budgets, DAYS)
    solved = explore_and_exploit(problem, c, 0.1, np.random.default_rng(5), days=DAYS)
    rows = allocation_table(problem, m, solved.allocation, solved.explored).to_pylist()
    assert sum(row["explored"] for row in rows) == solved.explored.sum() > 0
    interior_explored = 0
    for row in rows:
        why = allocation_why(row, DAYS, row["pool"], operator=True)
        assert why.explored_per_day * DAYS == pytest.approx(row["explored"])
        assert why.allocated_per_day * DAYS == pytest.approx(row["impressions"])
        if why.bound in ("pool budget", "vertical cap"):
            price = why.pool_price_per_1000 + why.vertical_price_per_1000
            assert row["weight"] * why.marginal_follows_per_1000 == pytest.approx(price, rel=1e-3)
            if row["explored"] > 0:
                interior_explored += 1
                assert "exploring" in why.sentence
        if why.bound == "explored":
            assert row["impressions"] == row["explored"] > 0
    assert interior_explored > 0
