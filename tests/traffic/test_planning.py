"""Planning: pools by eligibility, the period problem, and pacing that corrects delivery."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.errors import InvalidInput
from guanghe.traffic.planning import (
    Members,
    allocation_table,
    assign_pools,
    default_budgets,
    pacing_quotas,
    period_problem,
    solve_period,
)
from guanghe.traffic.problem import unplannable_budgets
from guanghe.traffic.programs import DEFAULT_PROGRAMS, load_programs, parse_programs
from guanghe.traffic.response import ResponseCurves

PROGRAMS = load_programs(DEFAULT_PROGRAMS)


def members(n: int, seed: int = 0) -> Members:
    rng = np.random.default_rng(seed)
    return Members(
        creator_id=np.arange(1, n + 1, dtype=np.int64),
        vertical_id=rng.integers(1, 6, n).astype(np.int64),
        stage=rng.choice(np.array(["novice", "growing", "mature"]), n),
        high_quality=rng.random(n) < 0.3,
        signed=rng.random(n) < 0.3,
        quality=rng.random(n),
    )


def curves(n: int, seed: int = 0) -> ResponseCurves:
    rng = np.random.default_rng(seed + 1)
    return ResponseCurves(
        creator_id=np.arange(1, n + 1, dtype=np.int64),
        saturation=rng.uniform(1, 50, n),
        scale=rng.uniform(1_000, 20_000, n),
        organic_rate=np.full(n, 0.001),
        boosted_days=np.zeros(n, np.int64),
    )


def test_pools_follow_the_eligibility_order() -> None:
    m = Members(
        creator_id=np.arange(1, 6, dtype=np.int64),
        vertical_id=np.ones(5, np.int64),
        stage=np.array(["novice", "growing", "growing", "mature", "novice"]),
        high_quality=np.array([True, True, False, False, False]),
        signed=np.array([True, True, True, False, False]),
        quality=np.full(5, 0.5),
    )
    names = [PROGRAMS.pool_names[k] for k in assign_pools(PROGRAMS, m)]
    assert names == ["new_creator", "high_quality", "institution", "general", "new_creator"]


def test_period_problem_solves_within_every_budget_and_guarantee() -> None:
    n, days = 2_000, 7
    m = members(n)
    counts = np.bincount(assign_pools(PROGRAMS, m), minlength=len(PROGRAMS.pools))
    budgets = default_budgets(PROGRAMS, n, days, counts.tolist())
    problem = period_problem(PROGRAMS, m, curves(n), budgets, days)
    allocation = solve_period(problem)
    assert allocation.duality_gap < 1e-6
    spent = np.bincount(problem.pool, weights=allocation.impressions, minlength=4)
    assert (spent <= problem.pool_budgets).all()
    assert (allocation.impressions >= problem.floor).all()
    new = problem.pool == PROGRAMS.pool_names.index("new_creator")
    assert (problem.floor[new] == 300 * days).all()
    by_group = np.bincount(problem.group, weights=allocation.impressions)
    assert (by_group <= problem.group_caps + 1e-6).all()


@pytest.mark.parametrize(
    ("members_per_pool", "expected_shares"),
    [
        ((5, 3, 2, 0), (0.50, 0.35, 0.15, 0.0)),  # general's share wraps to new_creator
        ((0, 3, 2, 5), (0.0, 0.60, 0.15, 0.25)),  # new_creator's goes to high_quality
        ((0, 0, 0, 5), (0.0, 0.0, 0.0, 1.0)),  # everything to the one pool with members
        ((0, 4, 0, 0), (0.0, 1.0, 0.0, 0.0)),
        ((0, 0, 0, 0), (0.25, 0.35, 0.15, 0.25)),  # nobody at all: the plain shares
    ],
)
def test_a_memberless_pools_default_budget_flows_to_the_next_pool_with_members(
    members_per_pool: tuple[int, ...], expected_shares: tuple[float, ...]
) -> None:
    budgets = default_budgets(PROGRAMS, 1_000, 7, members_per_pool)
    total = 1_500 * 1_000 * 7
    assert list(budgets) == list(PROGRAMS.pool_names)
    for (name, budget), share in zip(budgets.items(), expected_shares, strict=True):
        assert budget == pytest.approx(total * share, abs=1), name
    if any(members_per_pool):
        assert all(b == 0 for b, c in zip(budgets.values(), members_per_pool, strict=True) if not c)


def test_a_budget_no_member_can_use_is_reported_in_the_allocation() -> None:
    n = 300
    m = members(n)
    m = Members(  # nobody is left for the general pool, as on the demo platform
        creator_id=m.creator_id,
        vertical_id=m.vertical_id,
        stage=m.stage,
        high_quality=m.high_quality,
        signed=np.ones(n, bool),
        quality=m.quality,
    )
    budgets = {"new_creator": 10**6, "high_quality": 10**6, "institution": 10**6, "general": 7_777}
    problem = period_problem(PROGRAMS, m, curves(n), budgets, 7)
    assert unplannable_budgets(problem) == {"general": 7_777}
    table = allocation_table(problem, m, solve_period(problem))
    assert json.loads((table.schema.metadata or {})[b"unplannable"]) == {"general": 7_777}
    funded = dict(budgets, general=0)
    assert unplannable_budgets(period_problem(PROGRAMS, m, curves(n), funded, 7)) == {}


def test_guarantees_shrink_to_a_budget_too_small_for_them() -> None:
    n = 500
    m = members(n)
    budgets = dict.fromkeys(PROGRAMS.pool_names, 1_000)
    problem = period_problem(PROGRAMS, m, curves(n), budgets, 7)
    new = problem.pool == 0
    assert problem.floor[new].sum() <= 1_000
    allocation = solve_period(problem)
    assert np.bincount(problem.pool, weights=allocation.impressions).max() <= 1_000


def test_pacing_catches_up_under_delivery_and_takes_back_over_delivery() -> None:
    allocated = np.array([700, 700, 700], np.int64)
    delivered = np.array([100, 300, 0], np.int64)  # behind, on pace, never delivered
    quota = pacing_quotas(allocated, delivered, np.zeros(3, np.int64), np.array([2_100]), 5)
    assert quota.tolist() == [120, 80, 140]
    # The pool overspent on others: what is left is shared pro rata.
    over = pacing_quotas(
        allocated, np.array([700, 1_200, 0]), np.zeros(3, np.int64), np.array([2_100]), 2
    )
    assert over.tolist() == [0, 0, 100]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 10_000), st.integers(0, 15_000)),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.integers(0, 100_000), min_size=4, max_size=4),
    st.integers(1, 10),
)
def test_pacing_never_plans_past_a_pool_budget(
    rows: list[tuple[int, int, int]], budgets: list[int], days_left: int
) -> None:
    pool = np.array([r[0] for r in rows], np.int64)
    allocated = np.array([r[1] for r in rows], np.int64)
    delivered = np.array([r[2] for r in rows], np.int64)
    budget = np.array(budgets, np.int64)
    quota = pacing_quotas(allocated, delivered, pool, budget, days_left)
    assert (quota >= 0).all()
    assert (quota <= np.maximum(allocated - delivered, 0)).all()
    left = np.maximum(budget - np.bincount(pool, weights=delivered, minlength=4), 0)
    assert (np.bincount(pool, weights=quota, minlength=4) <= left + 1e-9).all()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[period]\ndays = 0\n", "period.days"),
        ("not toml [", "not valid TOML"),
        (DEFAULT_PROGRAMS.read_text().replace('rule = "everyone"', 'rule = "novice"'), "last pool"),
        (DEFAULT_PROGRAMS.read_text().replace('"general"', '"new_creator"'), "defined twice"),
    ],
)
def test_bad_programme_files_name_the_problem(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_programs(text, "traffic.toml")


def test_an_incentive_traffic_reward_is_the_creators_floor_in_the_period() -> None:
    n, days = 300, 7
    m = members(n)
    counts = np.bincount(assign_pools(PROGRAMS, m), minlength=len(PROGRAMS.pools))
    budgets = default_budgets(PROGRAMS, n, days, counts.tolist())
    plain = period_problem(PROGRAMS, m, curves(n), budgets, days)
    rewarded = int(np.argmin(plain.floor + plain.saturation))  # the least promising creator
    owed = {int(m.creator_id[rewarded]): 40_000}
    problem = period_problem(PROGRAMS, m, curves(n), budgets, days, reward_floors=owed)
    assert problem.floor[rewarded] == 40_000
    assert problem.cap[rewarded] >= 40_000
    others = np.arange(n) != rewarded
    assert (problem.floor[others] == plain.floor[others]).all()
    allocation = solve_period(problem)
    assert allocation.impressions[rewarded] >= 40_000
    assert solve_period(plain).impressions[rewarded] < 40_000
