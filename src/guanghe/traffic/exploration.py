"""Exploration: a share of each pool's budget spent by Thompson sampling, so the allocation
learns the curves it does not know.

Exploiting the fitted curves alone never boosts a creator whose curve is estimated low, so
their estimate never improves: creators never boosted keep their prior. A period's budget is
therefore split in two solves of the same problem:

1. **exploitation**: ``1 - share`` of every pool's budget (and of every group's cap) on the
   fitted curves (the posterior modes), floors included;
2. **exploration**: what the first solve left of every budget and cap on one draw of every
   creator's curve from its posterior (``log a`` and ``log s`` normal around the fitted values
   with the fit's spreads). A creator whose curve is uncertain draws a steep curve now and
   then and gets impressions where the draw says a boost pays most; one whose curve is known
   draws close to it and gets what it would get anyway. The boosted days that follow narrow
   the posterior at the next fit (curves are re-fitted every day).

The draw's generator is the caller's; the cycle seeds it with the period's first day, so a
re-run plans the same period.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.traffic.allocation import Allocation, TrafficAllocator
from guanghe.traffic.problem import AllocationProblem
from guanghe.traffic.response import ResponseCurves

FloatArray = NDArray[np.float64]
#: Spread of ``log a`` and ``log s`` assumed for curves that carry none.
DEFAULT_SPREAD = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class ExploredAllocation:
    """The period's allocation (both parts summed) and the exploration part alone."""

    allocation: Allocation
    explored: NDArray[np.int64]

    @classmethod
    def unexplored(cls, allocation: Allocation) -> ExploredAllocation:
        """A plain solve's allocation: nothing explored."""
        return cls(allocation, np.zeros_like(allocation.impressions))


def thompson_draw(
    curves: ResponseCurves, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """One draw of every creator's ``(saturation, scale)`` from the curves' posteriors."""
    n = curves.creator_id.shape[0]
    spread_a = (
        curves.saturation_spread
        if curves.saturation_spread is not None
        else np.full(n, DEFAULT_SPREAD)
    )
    spread_s = (
        curves.scale_spread if curves.scale_spread is not None else np.full(n, DEFAULT_SPREAD)
    )
    log_a = np.log(curves.saturation) + spread_a * rng.standard_normal(n)
    log_s = np.log(curves.scale) + spread_s * rng.standard_normal(n)
    return np.exp(log_a), np.exp(log_s)


def explore_and_exploit(
    problem: AllocationProblem,
    curves: ResponseCurves,
    share: float,
    rng: np.random.Generator,
    *,
    days: int,
    solve: Callable[[AllocationProblem], Allocation] | None = None,
) -> ExploredAllocation:
    """Solve ``problem`` (a period of ``days`` days on ``curves``, aligned) with ``share`` of
    every budget spent on a Thompson draw of the curves (see the module's description); each
    of the two solves by ``solve`` (in process by default, or on a Spark cluster).

    ``share`` 0 is the plain solve. Raises :class:`InvalidInput` for a share outside ``[0, 1)``
    or curves not aligned with the problem.
    """
    if not 0.0 <= share < 1.0:
        raise InvalidInput(f"exploration share must be in [0, 1), got {share}")
    if not np.array_equal(curves.creator_id, problem.creator_id):
        raise InvalidInput("the curves are not aligned with the problem's creators")
    solve = solve or TrafficAllocator().solve
    n_pools = len(problem.pool_names)
    exploit_budgets = np.floor(problem.pool_budgets * (1.0 - share))
    floor_total = np.bincount(problem.pool, weights=problem.floor, minlength=n_pools)
    fits = np.where(
        floor_total > 0, np.minimum(1.0, exploit_budgets / np.maximum(floor_total, 1.0)), 1.0
    )
    floor = np.floor(problem.floor * fits[problem.pool])
    group_floor = np.bincount(problem.group, weights=floor, minlength=len(problem.group_names))
    exploit = solve(
        dataclasses.replace(
            problem,
            floor=floor,
            pool_budgets=exploit_budgets,
            group_caps=np.maximum(np.floor(problem.group_caps * (1.0 - share)), group_floor),
        )
    )
    x = exploit.impressions.astype(np.float64)
    if share == 0.0:
        return ExploredAllocation.unexplored(exploit)
    saturation, scale = thompson_draw(curves, rng)
    days_factor = float(days)
    spent = np.bincount(problem.pool, weights=x, minlength=n_pools)
    group_spent = np.bincount(problem.group, weights=x, minlength=len(problem.group_names))
    explore = solve(
        dataclasses.replace(
            problem,
            saturation=saturation * days_factor,
            scale=scale * days_factor,
            floor=np.zeros_like(x),
            cap=np.maximum(problem.cap - x, 0.0),
            pool_budgets=np.maximum(problem.pool_budgets - spent, 0.0),
            group_caps=np.maximum(problem.group_caps - group_spent, 0.0),
        )
    )
    total = exploit.impressions + explore.impressions
    expected = problem.weight * problem.saturation * -np.expm1(-total / problem.scale)
    combined = dataclasses.replace(
        exploit,
        impressions=total,
        relaxed=exploit.relaxed + explore.relaxed,
        objective=float(expected.sum()),
        rounded_objective=float(expected.sum()),
        max_violation=max(exploit.max_violation, explore.max_violation),
        iterations=exploit.iterations + explore.iterations,
        seconds=exploit.seconds + explore.seconds,
    )
    return ExploredAllocation(combined, explore.impressions)
