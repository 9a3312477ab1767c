"""The dual step: prices of pools and groups from per-cell sums, by safeguarded Newton.

The Lagrangian separates over creators; creators sharing a (pool, group) cell share the price
``q = lambda_pool + mu_group``. The dual has one variable per pool and per capped group, so a
dual step costs one *oracle* call: per-cell impressions ``X``, slopes ``S = -dX/d ln q`` and
conjugate sums, from one pass over the creators, in process or on Spark partitions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from guanghe.traffic import _kernels

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: ``oracle(price per cell) -> (X, S, conjugate)`` per cell.
CellOracle = Callable[[FloatArray], tuple[FloatArray, FloatArray, FloatArray]]


@dataclass(frozen=True, slots=True)
class DualSolution:
    """Prices at the end of the dual step and how it got there."""

    pool_price: FloatArray
    group_price: FloatArray
    cell_price: FloatArray
    dual_objective: float
    iterations: int


@dataclass(frozen=True, slots=True)
class CellLayout:
    """Dense cells ``pool * n_groups + group`` and the right-hand sides of the constraints."""

    n_pools: int
    n_groups: int
    budgets: FloatArray
    group_caps: FloatArray

    @property
    def n_cells(self) -> int:
        return self.n_pools * self.n_groups

    def incidence(self) -> FloatArray:
        """Matrix ``(n_cells, n_pools + n_capped_groups)``: 1 where a cell is in a constraint."""
        capped = np.flatnonzero(np.isfinite(self.group_caps))
        cells = np.arange(self.n_cells)
        a = np.zeros((self.n_cells, self.n_pools + capped.shape[0]))
        a[cells, cells // self.n_groups] = 1.0
        column = np.full(self.n_groups, -1)
        column[capped] = self.n_pools + np.arange(capped.shape[0])
        in_capped = column[cells % self.n_groups] >= 0
        a[cells[in_capped], column[cells % self.n_groups][in_capped]] = 1.0
        return a


def solve_dual(
    oracle: CellOracle,
    layout: CellLayout,
    *,
    start_log_price: FloatArray,
    tol: float,
    max_iter: int,
    model: CellOracle | None = None,
) -> DualSolution:
    """Minimise the dual over prices ``>= 0``.

    Projected Newton with an Armijo search along the projection arc solves for all prices; a
    positive price the step lowers falls along its logarithm (it may fall many orders of
    magnitude in one step; where the step would cross zero, zero is tried too).
    ``start_log_price`` (shape ``(n_pools,)``) is a first guess of each pool's log price.
    With a ``model`` (a cheap stand-in for the oracle: the same sums over a sample of the
    creators), projected Newton first solves the model from that guess, and its prices start
    the oracle's. Without one, or if the model does not solve (a sample's floors can overfill
    a cap), a log-space Newton on the pool prices alone (groups uncapped) starts it. Each
    iteration is one oracle call plus, rarely, backtracking calls; ``iterations`` counts the
    oracle calls.
    """
    a = layout.incidence()
    capped = np.flatnonzero(np.isfinite(layout.group_caps))
    rhs = np.concatenate([layout.budgets, layout.group_caps[capped]])
    start = None
    if model is not None:
        y = np.concatenate([np.exp(start_log_price), np.zeros(capped.shape[0])])
        scale = max(float(y.max()), 1e-300)
        y, _, _, residual, _ = _projected_newton(
            model, a, rhs, y, scale, MODEL_TOL, MODEL_ITERATIONS
        )
        if residual <= MODEL_TOL:  # not so when, say, the sample's floors overfill a cap
            start = (y, scale, 0)
    y, scale, calls = start or _pool_start(oracle, a, layout, start_log_price, max_iter)
    y, value, more, residual, _ = _projected_newton(
        oracle, a, rhs, y, scale, tol, max_iter, STALLED_ITERATIONS
    )
    if residual > tol:  # stalled or no step helped: perhaps a price must move many e-folds
        polished, polish = _log_polish(oracle, a, rhs, y, tol, max_iter)
        again = _projected_newton(oracle, a, rhs, polished, scale, tol, max_iter)
        more += polish + again[2]
        if again[3] > tol:  # it was not that: go on from where it stalled
            resumed = _projected_newton(oracle, a, rhs, y, scale, tol, max_iter)
            more += resumed[2]
            again = min(again, resumed, key=lambda run: run[3])
        y, value = again[0], again[1]
    full_mu = np.zeros(layout.n_groups)
    full_mu[capped] = y[layout.n_pools :]
    return DualSolution(
        pool_price=y[: layout.n_pools],
        group_price=full_mu,
        cell_price=a @ y,
        dual_objective=value,
        iterations=calls + more,
    )


#: Newton steps the line search cuts below this share of their length, this many in a row,
#: end the first iterations as stalled.
STALLED_STEP = 2.0**-12
STALLED_ITERATIONS = 3
#: ... as do this many iterations in a row that do not halve the residual.
STALLED_PROGRESS = 8
#: Most a price falls in one Newton step, in log price ...
MAX_LOG_FALL = 60.0
#: ... and a price that falls below this is zero (its curvature slope / price would overflow).
MIN_PRICE = 1e-200
#: Most projected Newton iterations on a model (each is cheap; the model is only a start) ...
MODEL_ITERATIONS = 30
#: ... and the residual it must reach for its prices to be the start (a sample's own error
#: is larger: solving it further would not bring the start closer).
MODEL_TOL = 1e-6


def _projected_newton(
    oracle: CellOracle,
    a: FloatArray,
    rhs: FloatArray,
    y: FloatArray,
    scale: float,
    tol: float,
    max_iter: int,
    stall_after: int = 0,
) -> tuple[FloatArray, float, int, float, bool]:
    """Projected Newton from ``y`` with an Armijo search along the projection arc; with
    ``stall_after``, stop once that many steps in a row were cut below :data:`STALLED_STEP`
    or :data:`STALLED_PROGRESS` iterations in a row did not halve the residual.

    Returns the prices, the dual objective there, the oracle calls made, the residual and
    whether it stalled (or ran out of iterations) short of ``tol``.
    """
    value, grad, hess = _evaluate(oracle, a, rhs, y)
    calls = 1
    residual = _kernels.projected_residual(y, grad, rhs)
    crawling = 0
    reference, since = residual, 0
    for _ in range(max_iter):
        if residual <= tol:
            break
        if residual <= 0.5 * reference:
            reference, since = residual, 0
        since += 1
        if stall_after > 0 and since > STALLED_PROGRESS:
            return y, value, calls, residual, True
        try:
            step = _kernels.newton_step(hess, grad, y, scale)
        except np.linalg.LinAlgError:  # curvatures too far apart: each price on its own
            step = _kernels.newton_step(np.diag(np.diag(hess)), grad, y, scale)
        falls = (y > 0) & (step < 0)
        # at most e^-MAX_LOG_FALL a step, lest a curvature slope / price overflow
        rate = np.maximum(np.divide(step, y, out=np.zeros_like(y), where=falls), -MAX_LOG_FALL)
        accepted = False
        alpha = 1.0
        # the value sums terms as large as y @ rhs: changes below its rounding are noise
        noise = 1e-12 * (abs(value) + float(y @ rhs) + 1.0)
        # where the step would take a price below zero, its projection (zero) is tried too
        crosses = bool((falls & (y + step <= 0)).any())
        for _ in range(50):
            # a positive price falls along its logarithm (Newton in log price, as the
            # creators respond to ln q): it may fall many orders of magnitude in one step
            along_log = np.where(falls, y * np.exp(alpha * rate), np.maximum(y + alpha * step, 0.0))
            along_log[along_log < MIN_PRICE] = 0.0
            trials = [along_log]
            if crosses:
                trials.append(np.maximum(y + alpha * step, 0.0))
            for trial in trials:
                if not (trial != y).any():
                    continue
                t_value, t_grad, t_hess = _evaluate(oracle, a, rhs, trial)
                calls += 1
                decrease = t_value <= value + 1e-4 * float(grad @ (trial - y))
                flat = abs(t_value - value) <= noise
                t_residual = _kernels.projected_residual(trial, t_grad, rhs)
                if decrease or (flat and t_residual < residual):
                    y, value, grad, hess, residual = trial, t_value, t_grad, t_hess, t_residual
                    accepted = True
                    break
            if accepted or not any((trial != y).any() for trial in trials):
                break
            alpha *= 0.5
        crawling = crawling + 1 if alpha < STALLED_STEP else 0
        if not accepted:  # no step helps: as close as the arithmetic allows
            return y, value, calls, residual, False
        if 0 < stall_after == crawling:
            return y, value, calls, residual, True
    return y, value, calls, residual, residual > tol


def _evaluate(
    oracle: CellOracle, a: FloatArray, rhs: FloatArray, y: FloatArray
) -> tuple[float, FloatArray, FloatArray]:
    price = a @ y
    terms: tuple[float, FloatArray, FloatArray] = _kernels.dual_terms(
        a, rhs, y, price, *oracle(price)
    )
    return terms


def _log_polish(
    oracle: CellOracle, a: FloatArray, rhs: FloatArray, y: FloatArray, tol: float, max_iter: int
) -> tuple[FloatArray, int]:
    """Each positive price whose constraint is slack, and each zero price whose constraint is
    overfull (from the largest price), solved alone by a safeguarded Newton on its logarithm
    (the others held): where a price must fall many orders of magnitude (a
    cell whose creators able to move respond to a nearly flat curve), steps in the price
    itself shrink it by halves, steps in its logarithm get there in a few passes."""
    y = y.copy()
    total = oracle(a @ y)[0]
    calls = 1
    used = a.T @ total
    slack = (y > 0) & (used < rhs - tol * np.maximum(rhs, 1.0))
    # a zero price whose constraint is overfull: at zero its creators sit at their caps, and
    # any representable price may already move them by thousands (a steep curve's caps),
    # which steps in the price itself cannot find (they see no curvature at zero)
    overfull = (y == 0) & (used > rhs + tol * np.maximum(rhs, 1.0))
    level = float(np.log(y.max())) if (y > 0).any() else 0.0
    for i in np.flatnonzero(slack | overfull):
        t, low, high = (float(np.log(y[i])) if y[i] > 0 else level), -np.inf, np.inf
        for _ in range(max_iter):
            y[i] = np.exp(t)
            price = a @ y
            total, slope, _ = oracle(price)
            calls += 1
            over = float(a[:, i] @ total) - rhs[i]
            if abs(over) <= 1e-12 * max(rhs[i], 1.0):
                break
            low, high = (t, high) if over > 0 else (low, t)
            share = np.divide(y[i], price, out=np.zeros_like(price), where=price > 0)
            s = float(a[:, i] @ (slope * share))  # -d usage / d ln(price i)
            nxt = t + (over / max(s, abs(over) / 50.0) if s > 0 else np.sign(over) * 2.0)
            if np.isfinite(low) and np.isfinite(high) and not low < nxt < high:
                nxt = 0.5 * (low + high)
            t = nxt
    return y, calls


def _pool_start(
    oracle: CellOracle, a: FloatArray, layout: CellLayout, start: FloatArray, max_iter: int
) -> tuple[FloatArray, float, int]:
    """All prices with groups at zero and pools from :func:`_pool_prices`, the price scale
    for the step limits, and the oracle calls made."""
    pool_price, calls = _pool_prices(oracle, a, layout, start, max_iter)
    n_capped = a.shape[1] - layout.n_pools
    scale = max(float(np.exp(start).max()), float(pool_price.max()), 1e-300)
    return np.concatenate([pool_price, np.zeros(n_capped)]), scale, calls


def _pool_prices(
    oracle: CellOracle, a: FloatArray, layout: CellLayout, start: FloatArray, max_iter: int
) -> tuple[FloatArray, int]:
    """Pool prices with groups uncapped: a safeguarded Newton on ``ln lambda`` per pool."""
    pools = a[:, : layout.n_pools]
    budgets = layout.budgets
    total = pools.T @ oracle(np.zeros(layout.n_cells))[0]
    binding = total > budgets * (1 + 1e-12)
    price = np.zeros(layout.n_pools)
    t = start.astype(np.float64)
    low = np.full(layout.n_pools, -np.inf)
    high = np.full(layout.n_pools, np.inf)
    calls = 1
    for _ in range(max_iter if binding.any() else 0):
        cell_total, slope, _ = oracle(pools @ np.where(binding, np.exp(t), 0.0))
        calls += 1
        over = pools.T @ cell_total - budgets
        if np.all(~binding | (np.abs(over) <= 1e-9 * np.maximum(budgets, 1.0))):
            break
        low = np.where(over > 0, t, low)
        high = np.where(over <= 0, t, high)
        s = pools.T @ slope
        step = np.where(s > 0, over / np.maximum(s, 1e-300), np.sign(over) * 2.0)
        nxt = t + np.clip(step, -3.0, 3.0)
        bracketed = np.isfinite(low) & np.isfinite(high)
        outside = bracketed & ((nxt <= low) | (nxt >= high))
        t = np.where(outside, 0.5 * (low + high), nxt)
    price[binding] = np.exp(t[binding])
    return price, calls
