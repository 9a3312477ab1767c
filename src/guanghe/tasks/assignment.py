"""Capacity-constrained assignment of tasks to creators by dual prices on the slot limits.

Each creator has up to ``L`` candidate tasks (a dense ``(n_creators, L)`` layout, ``-1`` for
none) with a predicted value each. The linear programme

    max  sum v_ij x_ij   s.t.  sum_j x_ij <= K            (at most K offers per creator)
                               sum_i x_ij <= c_j          (task j's offer capacity)
                               sum_{i not novice} x_ij <= c_j - r_j   (r_j reserved for novices)
                               0 <= x_ij <= 1

separates over creators once task ``j`` carries a price ``lambda_j`` (and ``mu_j`` on its open
part, paid by non-novices only): each creator takes its ``K`` best positive reduced values
``v_ij - lambda_j - mu_j [i not novice]``. Prices follow projected subgradient steps on the
over- or under-demand, scaled by the values, then a vectorised repair makes the selection
feasible (each task keeps its best-priced demand within its limits) and fills spare capacity
in a few greedy rounds. Like :mod:`guanghe.traffic.allocation`, an engine with the
scikit-learn contract: nothing happens in ``__init__``, :meth:`SlotAssignment.solve` checks
and solves, learned state ends in ``_``.

Cost: ``O(n_creators * L)`` per price iteration (``argpartition`` along rows) plus one sort
of the selected pairs per repair round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from guanghe.errors import InvalidInput

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class AssignmentResult:
    """``chosen`` ``(n_creators, L)``: the offers made; ``price`` per task (``lambda``),
    ``open_price`` (``mu``); the value of the offers and the iterations run."""

    chosen: BoolArray
    price: FloatArray
    open_price: FloatArray
    value: float
    iterations: int


class SlotAssignment:
    """Offers under slot limits, solved by dual prices.

    Parameters
    ----------
    max_per_creator : int
        ``K``, the most open offers a creator gets.
    max_iter : int
        Price iterations.
    step : float
        First step size, as a fraction of the mean candidate value; it decays as ``1/sqrt(t)``.
    """

    def __init__(self, max_per_creator: int = 3, max_iter: int = 60, step: float = 0.5) -> None:
        self.max_per_creator = max_per_creator
        self.max_iter = max_iter
        self.step = step

    def solve(
        self,
        task: IntArray,
        value: FloatArray,
        novice: BoolArray,
        capacity: IntArray,
        reserved: IntArray,
    ) -> AssignmentResult:
        """Solve for ``task``/``value`` ``(n_creators, L)``, ``novice`` ``(n_creators,)``,
        ``capacity`` and ``reserved`` (novice-only part of it) ``(n_tasks,)``."""
        if self.max_per_creator < 1 or self.max_iter < 1 or self.step <= 0:
            raise InvalidInput("max_per_creator and max_iter are >= 1, step > 0")
        _check_shapes(task, value, novice, capacity, reserved)
        n_tasks = capacity.shape[0]
        valid = task >= 0
        t = np.where(valid, task, 0)
        v = np.where(valid, value, 0.0)
        open_cap = capacity - reserved
        scale = float(v[valid].mean()) if valid.any() else 1.0
        price = np.zeros(n_tasks)
        open_price = np.zeros(n_tasks)
        non_novice = ~novice[:, None]
        iterations = 0
        for it in range(self.max_iter):
            iterations = it + 1
            chosen = self._pick(v - price[t] - open_price[t] * non_novice, valid)
            demand = np.bincount(t[chosen], minlength=n_tasks)
            open_demand = np.bincount(t[chosen & non_novice], minlength=n_tasks)
            eta = self.step * scale / np.sqrt(it + 1.0)
            over = (demand - capacity) / np.maximum(capacity, 1)
            open_over = (open_demand - open_cap) / np.maximum(open_cap, 1)
            price = np.maximum(price + eta * over, 0.0)
            open_price = np.maximum(open_price + eta * open_over, 0.0)
            if (
                not (over > 0).any()
                and not (open_over > 0).any()
                and not ((price > 0) & (over < 0)).any()
            ):
                break
        reduced = v - price[t] - open_price[t] * non_novice
        chosen = self._pick(reduced, valid)
        chosen = _within_limits(chosen, t, reduced, novice, capacity, open_cap)
        chosen = self._fill(chosen, valid, t, v, novice, capacity, open_cap)
        return AssignmentResult(chosen, price, open_price, float(v[chosen].sum()), iterations)

    def _pick(self, reduced: FloatArray, valid: BoolArray) -> BoolArray:
        """Each creator's ``K`` best positive reduced values."""
        k = min(self.max_per_creator, reduced.shape[1])
        r = np.where(valid, reduced, -np.inf)
        if k < r.shape[1]:
            cut = -np.partition(-r, k - 1, axis=1)[:, k - 1 : k]
            best = r >= cut
            # Ties at the cut could give more than K: keep the first K in column order.
            best &= np.cumsum(best, axis=1) <= k
        else:
            best = np.ones_like(r, dtype=bool)
        return best & (r > 0)

    def _fill(
        self,
        chosen: BoolArray,
        valid: BoolArray,
        t: IntArray,
        v: FloatArray,
        novice: BoolArray,
        capacity: IntArray,
        open_cap: IntArray,
    ) -> BoolArray:
        """Greedy rounds on spare capacity: creators with room propose their best unchosen
        candidates; tasks keep the best proposals within what is left."""
        for _ in range(3):
            used = np.bincount(t[chosen], minlength=capacity.shape[0])
            open_used = np.bincount(t[chosen & ~novice[:, None]], minlength=capacity.shape[0])
            room = self.max_per_creator - chosen.sum(axis=1)
            spare = capacity - used
            candidate = valid & ~chosen & (room[:, None] > 0) & (spare[t] > 0) & (v > 0)
            if not candidate.any():
                break
            order = np.where(candidate, v, -np.inf)
            rank = np.argsort(np.argsort(-order, axis=1, kind="stable"), axis=1)
            proposed = candidate & (rank < room[:, None])
            kept = _within_limits(proposed, t, v, novice, spare, open_cap - open_used)
            if not kept.any():
                break
            chosen = chosen | kept
        return chosen


def _within_limits(
    chosen: BoolArray,
    t: IntArray,
    score: FloatArray,
    novice: BoolArray,
    capacity: IntArray,
    open_cap: IntArray,
) -> BoolArray:
    """``chosen`` less, per task, what exceeds its limits (the lowest ``score`` first):
    non-novices beyond the open part, then anyone beyond the capacity."""
    rows, cols = np.nonzero(chosen)
    tasks = t[rows, cols]
    order = np.lexsort((-score[rows, cols], tasks))
    rows, cols, tasks = rows[order], cols[order], tasks[order]
    keep = np.ones(rows.shape[0], dtype=bool)
    is_open = ~novice[rows]
    keep &= ~is_open | (_rank_in_group(tasks, is_open) < np.maximum(open_cap, 0)[tasks])
    keep &= _rank_in_group(tasks, keep) < capacity[tasks]
    out = np.zeros_like(chosen)
    out[rows[keep], cols[keep]] = True
    return out


def _rank_in_group(groups: IntArray, counted: BoolArray) -> IntArray:
    """For sorted ``groups``: how many ``counted`` items precede each item in its group."""
    counts = counted.astype(np.int64)
    c: IntArray = np.cumsum(counts) - counts
    starts = np.searchsorted(groups, groups, side="left")
    return (c - c[starts]).astype(np.int64)


def _check_shapes(
    task: IntArray, value: FloatArray, novice: BoolArray, capacity: IntArray, reserved: IntArray
) -> None:
    if task.shape != value.shape or task.ndim != 2:
        raise InvalidInput("task and value are (n_creators, L) arrays of one shape")
    if novice.shape != (task.shape[0],):
        raise InvalidInput("novice has one flag per creator")
    if capacity.shape != reserved.shape or capacity.ndim != 1:
        raise InvalidInput("capacity and reserved have one entry per task")
    if (capacity < 0).any() or (reserved < 0).any() or (reserved > capacity).any():
        raise InvalidInput("0 <= reserved <= capacity")
    if task.size and int(task.max()) >= capacity.shape[0]:
        raise InvalidInput("a candidate names a task beyond capacity's length")
    if not np.isfinite(value).all():
        raise InvalidInput("values are finite")
