"""Random small allocation problems for the property tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

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


#: Families of per-creator distributions the shaped problems draw curves from: (saturation,
#: scale) samplers given the generator, the count and a spread parameter.
CurveSampler = Callable[
    [np.random.Generator, int, float], tuple[NDArray[np.float64], NDArray[np.float64]]
]
_CURVES: dict[str, CurveSampler] = {
    "pareto": lambda rng, n, w: (rng.pareto(1.2, n) * 50 + 0.1, rng.lognormal(5, w, n)),
    "lognormal": lambda rng, n, w: (rng.lognormal(1, w, n), rng.lognormal(7, w, n)),
    "uniform": lambda rng, n, w: (rng.uniform(0.1, 100, n), 10 ** rng.uniform(1, 1 + 2 * w, n)),
    "weibull": lambda rng, n, w: (rng.weibull(0.6, n) * 30 + 1e-3, rng.gamma(1 / w, 500 * w, n)),
    "constant": lambda rng, n, w: (np.full(n, 10.0), np.full(n, 300.0)),
}


@st.composite
def shaped_problems(
    draw: st.DrawFn, min_creators: int = 600, max_creators: int = 3000
) -> AllocationProblem:
    """Feasible problems of 1 to 4 pools and 1 to 20 groups whose every distribution is drawn:
    pool and group sizes (from balanced to one holding nearly all), the family and spread of
    the curves, the share of floors and caps, and how tight budgets and group caps are (from
    a hundredth of what the creators could use to more than all of it)."""
    n = draw(st.integers(min_creators, max_creators))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_pools, n_groups = draw(st.integers(1, 4)), draw(st.integers(1, 20))
    skew = draw(st.floats(0.0, 3.0))
    pool = rng.choice(n_pools, n, p=_zipf(n_pools, skew))
    group = rng.choice(n_groups, n, p=_zipf(n_groups, draw(st.floats(0.0, 3.0))))
    family = draw(st.sampled_from(sorted(_CURVES)))
    saturation, scale = _CURVES[family](rng, n, draw(st.floats(0.1, 2.0)))
    weight = np.where(rng.random(n) < draw(st.floats(0, 0.3)), 0.0, rng.uniform(0.5, 3, n))
    with_floor = rng.random(n) < draw(st.floats(0.0, 0.8))
    floor = np.where(with_floor, np.floor(rng.exponential(draw(st.floats(1, 500)), n)), 0.0)
    with_cap = rng.random(n) < draw(st.floats(0.0, 1.0))
    cap = floor + np.where(with_cap, np.floor(rng.exponential(2_000, n)) + 1, 1e6)
    room = np.minimum(cap - floor, 20 * scale)  # what creators could usefully take
    tightness = 10 ** draw(st.floats(-2, 0.3))
    budgets = np.bincount(pool, floor, n_pools) + tightness * np.bincount(pool, room, n_pools)
    capped = rng.random(n_groups) < draw(st.floats(0.0, 1.0))
    group_tight = 10 ** draw(st.floats(-2, 0.3))
    caps = np.bincount(group, floor, n_groups) + group_tight * np.bincount(group, room, n_groups)
    return AllocationProblem(
        creator_id=rng.permutation(5 * n)[:n].astype(np.int64),
        pool=pool,
        group=group,
        weight=weight,
        saturation=saturation,
        scale=scale,
        floor=floor,
        cap=cap,
        pool_names=tuple(f"pool{k}" for k in range(n_pools)),
        pool_budgets=np.floor(budgets) + 1,
        group_names=tuple(f"group{k}" for k in range(n_groups)),
        group_caps=np.where(capped, np.floor(caps) + 1, np.inf),
    )


def _zipf(k: int, exponent: float) -> NDArray[np.float64]:
    """Probabilities of ``k`` categories falling as ``rank ** -exponent`` (0: all equal)."""
    weights: NDArray[np.float64] = np.arange(1, k + 1, dtype=np.float64) ** -exponent
    shares: NDArray[np.float64] = weights / weights.sum()
    return shares
