"""Allocation instances of several shapes, drawn independently of ``traffic_solve``'s own.

Each shape is a function ``(n, rng) -> AllocationProblem`` with 4 pools and 20 groups; only
``bench`` is the benchmark's historical distribution (heavy-tailed saturation, log-normal
scale, balanced pools and groups). The others differ in every distribution the solver could
have been tuned to:

* ``programme``: the shape the daily cycle builds (``traffic.planning.period_problem``):
  unequal pools with the programme's floors, caps and weights, log-normal curves, Zipf-sized
  verticals, every vertical capped at a quarter of the total;
* ``skewed``: one group with half the creators, pools of 80/15/4/1 %, Weibull saturation,
  scale spread over four orders of magnitude, 40 % of creators with floors, every group
  capped tight;
* ``flat``: every creator on the same curve (ties everywhere), budgets binding;
* ``loose``: budgets beyond what the caps allow (every price zero, everyone at their cap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

from guanghe.traffic import AllocationProblem

POOLS: Final = 4
GROUPS: Final = 20


def _problem(
    rng: np.random.Generator,
    *,
    pool: np.ndarray,
    group: np.ndarray,
    curves: tuple[np.ndarray, np.ndarray, np.ndarray],
    bounds: tuple[np.ndarray, np.ndarray],
    budgets: np.ndarray,
    group_caps: np.ndarray,
) -> AllocationProblem:
    n = pool.shape[0]
    weight, saturation, scale = curves
    floor, cap = bounds
    return AllocationProblem(
        creator_id=rng.permutation(3 * n)[:n].astype(np.int64) + 1,
        pool=pool.astype(np.int64),
        group=group.astype(np.int64),
        weight=weight,
        saturation=saturation,
        scale=scale,
        floor=floor,
        cap=cap,
        pool_names=tuple(f"pool{k}" for k in range(POOLS)),
        pool_budgets=np.maximum(budgets, np.bincount(pool, floor, POOLS)),
        group_names=tuple(f"group{k}" for k in range(GROUPS)),
        group_caps=np.maximum(group_caps, np.bincount(group, floor, GROUPS)),
    )


def bench(n: int, rng: np.random.Generator) -> AllocationProblem:
    """The benchmark's historical instance (see ``traffic_solve``'s docstring)."""
    floor = np.where(rng.random(n) < 0.1, np.round(rng.uniform(0, 200, n)), 0.0)
    cap = floor + np.where(rng.random(n) < 0.2, np.round(rng.uniform(1, 2000, n)), 1e5)
    total = 300.0 * n
    return _problem(
        rng,
        pool=rng.integers(0, POOLS, n),
        group=rng.integers(0, GROUPS, n),
        curves=(
            np.where(rng.random(n) < 0.01, 0.0, rng.uniform(0.5, 2.0, n)),
            rng.pareto(1.5, n) * 100 + 1,
            rng.lognormal(6, 1, n),
        ),
        bounds=(floor, cap),
        budgets=total / POOLS * rng.uniform(0.5, 1.5, POOLS),
        group_caps=np.where(
            rng.random(GROUPS) < 0.5, total / GROUPS * rng.uniform(0.3, 1, GROUPS), np.inf
        ),
    )


def programme(n: int, rng: np.random.Generator, days: int = 7) -> AllocationProblem:
    """The daily cycle's period problem for ``days`` days under the default programme."""
    pool = rng.choice(POOLS, n, p=[0.3, 0.1, 0.2, 0.4])
    zipf = 1.0 / np.arange(1, GROUPS + 1)
    group = rng.choice(GROUPS, n, p=zipf / zipf.sum())
    floor = np.where(pool == 0, 300.0 * days, 0.0)
    cap = np.array([50_000.0, 300_000.0, 200_000.0, 100_000.0])[pool] * days
    total = 1_500.0 * n * days
    return _problem(
        rng,
        pool=pool,
        group=group,
        curves=(
            np.array([1.5, 1.0, 1.0, 1.0])[pool],
            rng.lognormal(1.0, 1.2, n) * days,
            rng.lognormal(8.0, 0.7, n) * days,
        ),
        bounds=(floor, cap),
        budgets=total * np.array([0.25, 0.35, 0.15, 0.25]),
        group_caps=np.full(GROUPS, 0.25 * total),
    )


def skewed(n: int, rng: np.random.Generator) -> AllocationProblem:
    """Unbalanced pools and groups, wide curves, many floors, every group capped tight."""
    pool = rng.choice(POOLS, n, p=[0.80, 0.15, 0.04, 0.01])
    sizes = np.r_[0.5, np.full(GROUPS - 1, 0.5 / (GROUPS - 1))]
    group = rng.choice(GROUPS, n, p=sizes)
    floor = np.where(rng.random(n) < 0.4, np.floor(rng.exponential(50, n)), 0.0)
    cap = floor + np.floor(rng.exponential(5_000, n)) + 1
    total = 800.0 * n
    return _problem(
        rng,
        pool=pool,
        group=group,
        curves=(
            rng.choice([1.0, 1.5, 3.0], n),
            rng.weibull(0.7, n) * 40 + 0.01,
            10 ** rng.uniform(1, 5, n),
        ),
        bounds=(floor, cap),
        budgets=total * np.array([0.4, 0.3, 0.2, 0.1]),
        group_caps=total * sizes * rng.uniform(0.2, 0.6, GROUPS),
    )


def flat(n: int, rng: np.random.Generator) -> AllocationProblem:
    """Identical creators: every curve, floor and cap the same."""
    return _problem(
        rng,
        pool=rng.integers(0, POOLS, n),
        group=rng.integers(0, GROUPS, n),
        curves=(np.ones(n), np.full(n, 10.0), np.full(n, 1_000.0)),
        bounds=(np.zeros(n), np.full(n, 20_000.0)),
        budgets=np.full(POOLS, 400.0 * n / POOLS),
        group_caps=np.where(np.arange(GROUPS) % 3 == 0, 300.0 * n / GROUPS, np.inf),
    )


def loose(n: int, rng: np.random.Generator) -> AllocationProblem:
    """Budgets and caps beyond what the creators' caps can use."""
    cap = np.floor(rng.uniform(10, 1_000, n))
    return _problem(
        rng,
        pool=rng.integers(0, POOLS, n),
        group=rng.integers(0, GROUPS, n),
        curves=(rng.uniform(0.5, 2, n), rng.gamma(2.0, 20.0, n), rng.gamma(2.0, 300.0, n)),
        bounds=(np.zeros(n), cap),
        budgets=np.full(POOLS, 1_000.0 * n),
        group_caps=np.full(GROUPS, 1_000.0 * n),
    )


SHAPES: Final[dict[str, Callable[[int, np.random.Generator], AllocationProblem]]] = {
    "bench": bench,
    "programme": programme,
    "skewed": skewed,
    "flat": flat,
    "loose": loose,
}
