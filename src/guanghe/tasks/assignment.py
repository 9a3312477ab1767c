"""Capacity-constrained assignment of tasks to creators by dual prices on the slot limits.

Each creator has up to ``L`` candidate tasks (a dense ``(n_creators, L)`` layout, ``-1`` for
none) with a predicted value each. The linear programme

    max  sum v_ij x_ij   s.t.  sum_j x_ij <= K            (at most K offers per creator)
                               sum_i x_ij <= c_j          (task j's offer capacity)
                               sum_{i not novice} x_ij <= c_j - r_j   (r_j reserved for novices)
                               0 <= x_ij <= 1

separates over creators once task ``j`` carries a price ``lambda_j`` (and ``mu_j`` on its open
part, paid by non-novices only): each creator takes its ``K`` best positive reduced values
``v_ij - lambda_j - mu_j [i not novice]``, and

    D(lambda, mu) = sum_i (its K best positive reduced values) + sum_j lambda_j c_j
                    + sum_j mu_j (c_j - r_j)

bounds the optimum from above. Prices start warm, ``lambda_j`` at the ``(c_j + 1)``-th largest
candidate value of task ``j`` (what clears it if every candidate wanted it), then follow
projected subgradient steps of Polyak's size ``theta (D - P) / |g|^2`` towards the best
feasible value ``P`` found so far (``theta`` halves when the bound stops improving). Every few
iterations and at the end a primal repair turns the prices into a feasible selection (each
task keeps its best-priced demand within its limits, then greedy rounds fill spare capacity:
the augmentation pass); the best is kept. It stops on the duality-gap certificate
``(D - P) / D <= tol``, so a returned value is proved within ``gap`` of the optimum. Like
:mod:`guanghe.traffic.allocation`, an engine with the scikit-learn contract: nothing happens
in ``__init__``, :meth:`SlotAssignment.solve` checks and solves, learned state ends in ``_``.

Cost: one sort of all candidates for the warm start, ``O(n_creators * L)`` per price iteration
(``argpartition`` along rows) plus one sort of the selected pairs per repair.
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
    ``open_price`` (``mu``) of the best bound; the value of the offers, the iterations run,
    the upper bound ``dual_bound`` on the optimum and ``gap`` = ``1 - value / dual_bound``."""

    chosen: BoolArray
    price: FloatArray
    open_price: FloatArray
    value: float
    iterations: int
    dual_bound: float
    gap: float


class SlotAssignment:
    """Offers under slot limits, solved by dual prices.

    Parameters
    ----------
    max_per_creator : int
        ``K``, the most open offers a creator gets.
    max_iter : int
        Most price iterations.
    step : float
        Polyak's ``theta``, the first fraction of the estimated distance to the optimum
        stepped; it halves after ``PATIENCE`` iterations without a better bound.
    tol : float
        Stop once the duality gap ``(D - P) / D`` is at most this.
    repair_every : int
        Iterations between primal repairs (one also runs at the end).
    """

    PATIENCE = 5

    def __init__(
        self,
        max_per_creator: int = 3,
        max_iter: int = 60,
        step: float = 1.0,
        tol: float = 0.001,
        repair_every: int = 10,
    ) -> None:
        self.max_per_creator = max_per_creator
        self.max_iter = max_iter
        self.step = step
        self.tol = tol
        self.repair_every = repair_every

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
        if (
            self.max_per_creator < 1
            or self.max_iter < 1
            or self.step <= 0
            or self.tol < 0
            or self.repair_every < 1
        ):
            raise InvalidInput(
                "max_per_creator, max_iter and repair_every are >= 1, step > 0, tol >= 0"
            )
        _check_shapes(task, value, novice, capacity, reserved)
        n_tasks = capacity.shape[0]
        valid = task >= 0
        if not valid.any():  # nothing to offer (perhaps no task at all)
            zeros = np.zeros(n_tasks)
            return AssignmentResult(np.zeros_like(valid), zeros, zeros, 0.0, 0, 0.0, 0.0)
        t = np.where(valid, task, 0)
        v = np.where(valid, value, 0.0)
        open_cap = capacity - reserved
        non_novice = ~novice[:, None]
        price = _clearing_prices(t, v, valid, capacity)
        open_price = np.zeros(n_tasks)
        best_price, best_open = price, open_price
        best_chosen = np.zeros_like(valid)
        best_value, bound = 0.0, np.inf
        theta, stale, iterations = self.step, 0, 0
        for it in range(self.max_iter):
            iterations = it + 1
            reduced = v - price[t] - open_price[t] * non_novice
            chosen = self._pick(reduced, valid)
            dual = float(
                reduced[chosen].sum() + price @ capacity + open_price @ open_cap.astype(float)
            )
            if dual < bound:
                bound, best_price, best_open, stale = dual, price, open_price, 0
            else:
                stale += 1
                if stale >= self.PATIENCE:
                    theta, stale = theta / 2, 0
            if it % self.repair_every == 0 or it == self.max_iter - 1:
                repaired = self._repair(chosen, reduced, valid, t, v, novice, capacity, open_cap)
                if float(v[repaired].sum()) > best_value:
                    best_chosen, best_value = repaired, float(v[repaired].sum())
            if bound - best_value <= self.tol * abs(bound):
                break
            grad = (np.bincount(t[chosen], minlength=n_tasks) - capacity).astype(float)
            open_grad = (np.bincount(t[chosen & non_novice], minlength=n_tasks) - open_cap).astype(
                float
            )
            grad[(price <= 0) & (grad < 0)] = 0.0
            open_grad[(open_price <= 0) & (open_grad < 0)] = 0.0
            norm = float(grad @ grad + open_grad @ open_grad)
            if norm == 0.0:
                # The prices' own selection is feasible and complementary: optimal.
                repaired = self._repair(chosen, reduced, valid, t, v, novice, capacity, open_cap)
                if float(v[repaired].sum()) >= best_value:
                    best_chosen, best_value = repaired, float(v[repaired].sum())
                break
            eta = theta * max(bound - best_value, 1e-12 * max(abs(bound), 1.0)) / norm
            price = np.maximum(price + eta * grad, 0.0)
            open_price = np.maximum(open_price + eta * open_grad, 0.0)
        gap = 1.0 - best_value / bound if bound > 0 else 0.0
        return AssignmentResult(
            best_chosen, best_price, best_open, best_value, iterations, bound, max(gap, 0.0)
        )

    def _repair(
        self,
        chosen: BoolArray,
        reduced: FloatArray,
        valid: BoolArray,
        t: IntArray,
        v: FloatArray,
        novice: BoolArray,
        capacity: IntArray,
        open_cap: IntArray,
    ) -> BoolArray:
        """The prices' selection made feasible, then spare capacity filled."""
        kept = _within_limits(chosen, t, reduced, novice, capacity, open_cap)
        return self._fill(kept, valid, t, v, novice, capacity, open_cap)

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


def _clearing_prices(
    t: IntArray, v: FloatArray, valid: BoolArray, capacity: IntArray
) -> FloatArray:
    """Per task, the ``(c_j + 1)``-th largest value among its candidates (0 when it has no
    more candidates than capacity): the warm start of the prices."""
    n_tasks = capacity.shape[0]
    tasks, values = t[valid], v[valid]
    order = np.lexsort((-values, tasks))
    tasks, values = tasks[order], values[order]
    counts = np.bincount(tasks, minlength=n_tasks)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    over = counts > capacity
    price = np.zeros(n_tasks)
    price[over] = np.maximum(values[(starts + capacity)[over]], 0.0)
    return price


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
