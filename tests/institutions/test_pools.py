"""Institution pools: spent exactly within the operators' rules and the institution's
guarantees; one solve of many pools equals a solve of each pool alone."""

from __future__ import annotations

import numpy as np

from guanghe.institutions.pools import (
    PoolMembers,
    PoolRules,
    members_of,
    pool_problem,
    solve_pools,
)
from guanghe.traffic import TrafficAllocator


def members(n_institutions: int, per: int, seed: int = 3) -> PoolMembers:
    rng = np.random.default_rng(seed)
    n = n_institutions * per
    return PoolMembers(
        institution_id=np.repeat(np.arange(1, n_institutions + 1), per).astype(np.int64),
        creator_id=np.arange(1, n + 1, dtype=np.int64),
        new=rng.random(n) < 0.3,
        weight=rng.uniform(0.5, 2.0, n),
        guarantee=np.where(rng.random(n) < 0.2, 100.0, 0.0),
        nominee=rng.random(n) < 0.05,
        saturation=rng.uniform(5, 50, n),
        scale=rng.uniform(500, 5_000, n),
    )


def test_a_pool_is_spent_exactly_within_the_rules() -> None:
    m = members(1, 40)
    rules = {1: PoolRules(min_new_share_bp=4_000, max_creator_share_bp=800)}
    allocation = TrafficAllocator().solve(pool_problem(m, {1: 100_000}, rules, days=7))
    x = allocation.impressions
    assert x.sum() == 100_000
    assert x.max() <= 8_000
    assert (x >= m.guarantee).all()
    assert x[m.new].sum() >= 40_000


def test_one_call_for_many_pools_equals_one_call_each() -> None:
    m = members(5, 30)
    budgets = {i: 20_000 + 5_000 * i for i in range(1, 6)}
    rules = {i: PoolRules(min_new_share_bp=2_000, max_creator_share_bp=1_500) for i in budgets}
    together = solve_pools(m, budgets, rules, days=7)
    apart = np.zeros_like(together)
    for inst, budget in budgets.items():
        one = pool_problem(members_of(m, inst), {inst: budget}, rules, days=7)
        apart[m.institution_id == inst] = TrafficAllocator().solve(one).impressions
    assert np.array_equal(apart, together)  # the solver solves independent pools apart
    for inst, budget in budgets.items():
        mask = m.institution_id == inst
        assert together[mask].sum() == budget
        assert apart[mask].sum() == budget
