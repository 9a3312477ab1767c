"""Random small allocation problems for the property tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from guanghe.traffic import AllocationProblem


@st.composite
def problems(draw: st.DrawFn, max_creators: int = 12, min_creators: int = 1) -> AllocationProblem:
    """A feasible problem with 1 to 3 pools and groups, some caps, floors and zero weights."""
    n = draw(st.integers(min_creators, max_creators))
    seed = draw(st.integers(0, 2**32 - 1))
    n_pools, n_groups = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(seed)
    pool = rng.integers(0, n_pools, n)
    group = rng.integers(0, n_groups, n)
    weight = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0.1, 3.0, n))
    saturation = rng.pareto(1.5, n) * 50 + rng.uniform(0, 5, n)
    scale = rng.lognormal(3, 1, n)
    floor = np.where(rng.random(n) < 0.3, np.round(rng.uniform(0, 20, n)), 0.0)
    cap = floor + np.where(rng.random(n) < 0.4, np.round(rng.uniform(0, 60, n)), 1e4)
    need_p = np.bincount(pool, floor, n_pools)
    need_g = np.bincount(group, floor, n_groups)
    budgets = need_p + np.round(rng.uniform(0, 40 * n / n_pools, n_pools))
    caps = np.where(
        rng.random(n_groups) < 0.6, need_g + np.round(rng.uniform(0, 30, n_groups)), np.inf
    )
    return AllocationProblem(
        creator_id=rng.permutation(10 * n)[:n].astype(np.int64),
        pool=pool,
        group=group,
        weight=weight,
        saturation=saturation,
        scale=scale,
        floor=floor,
        cap=cap,
        pool_names=tuple(f"pool{k}" for k in range(n_pools)),
        pool_budgets=budgets,
        group_names=tuple(f"group{k}" for k in range(n_groups)),
        group_caps=caps,
    )


def objective(problem: AllocationProblem, x: np.ndarray) -> float:
    """The objective at any ``x``."""
    p = problem
    return float(np.sum(p.weight * p.saturation * -np.expm1(-x / p.scale)))
