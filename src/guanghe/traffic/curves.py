"""The dual solved exactly on per-cell response curves, in log prices.

Every creator of a (pool, group) cell responds to one number, the cell's log price
``t = ln(lambda_pool + mu_group)``: ``x(t) = clip(s (ln c - t), lo, hi)``, linear in ``t``
between two breakpoints (its cap reached at ``ln c - hi / s``, its floor at ``ln c - lo / s``).
A cell's impressions ``X(t)`` are therefore piecewise linear in ``t`` with a breakpoint per
creator bound. One pass over the creators gathers each cell's breakpoints; sorted, with the
impressions at each breakpoint and the slope after it (:func:`build_curves`), ``X(t)`` of any
cell costs a binary search. On these curves the dual is solved without another pass:

* given the pools' log prices, each capped group's log price is a monotone 1-D root
  (:func:`_group_log_price`, safeguarded Newton with a bracket);
* the pools' log prices solve ``usage = budget`` (or are ``-inf``, price zero, where the pool
  is not full at price zero) with the groups solved inside: Newton on the pools with the
  groups' response eliminated (Schur complement), and where a Newton step does not shrink the
  worst residual, a Gauss-Seidel sweep of exact 1-D solves per pool (each pool's usage is
  monotone in its own log price, the groups re-solved at every trial).

Working in log prices, a price that must be ``e^-6600`` (a flat curve up to a far cap) is as
easy as any other; a price at zero is ``-inf``, no singular Newton direction is ever formed.
"""

from __future__ import annotations

import math
from functools import partial
from typing import NamedTuple

import numpy as np
from numba import njit
from numpy.typing import NDArray

from guanghe.traffic._kernels import Creators
from guanghe.traffic.dual import CellLayout, DualSolution
from guanghe.traffic.passes import SERIAL, Passes, in_order, recover

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Most Gauss-Seidel sweeps or Newton steps over the pools on the curves.
MAX_OUTER = 400
#: Most steps of one 1-D root search.
MAX_ROOT = 400
#: Breakpoints of the sample on either side of its solution that a cell's bracket spans ...
BRACKET = 48
#: ... or this many times the square root of the cell's sampled breakpoints, if more ...
SPREAD = 2.0
#: ... the most passes that gather breakpoints in brackets ...
MAX_BRACKETS = 4
#: ... and how closely the sample's own dual is solved (its prices are only a guess).
MODEL_TOL = 1e-9
#: Roundings of a sum of n terms, relative to it, allowed per square root of n (at
#: 10,000,000 identical creators the exact pass's own sums are off by 2e-12 of a budget).
ROUNDING = 4 * float(np.finfo(np.float64).eps)
#: Most exact passes that check, and polish, the prices found on the curves.
POLISH_PASSES = 4
#: Most a log price moves in one unbracketed step.
MAX_LOG_STEP = 64.0


class Curves(NamedTuple):
    """Per cell ``k`` the sorted breakpoints of ``X(t)`` on its bracket ``[low[k], high[k]]``
    (``start[k]:start[k + 1]`` in ``at``; a finite end of the bracket is a breakpoint too),
    ``X`` at each (``level``), ``-dX/dt`` just after each (``slope``) and just before the
    first (``below``), and the least and most the cell can use (``bottom``: every creator at
    its floor, ``top``: at its cap). Outside its bracket a cell's ``X`` goes on along the
    slope at the nearer end (within ``bottom`` and ``top``): a guess, which the solve checks.
    The compiled kernels take the record whole."""

    start: IntArray
    at: FloatArray
    level: FloatArray
    slope: FloatArray
    below: FloatArray
    top: FloatArray
    bottom: FloatArray
    low: FloatArray
    high: FloatArray

    def scaled(self, ratio: FloatArray) -> Curves:
        """The curves of a sample of the creators scaled up per cell by ``ratio``."""
        per_event = np.repeat(ratio, np.diff(self.start))
        return self._replace(
            level=self.level * per_event,
            slope=self.slope * per_event,
            below=self.below * ratio,
            top=self.top * ratio,
            bottom=self.bottom * ratio,
        )


def curves_of(
    creators: Creators, low: FloatArray, high: FloatArray, passes: Passes = SERIAL
) -> Curves | None:
    """The cells' curves on the brackets ``[low, high]`` (``-inf``, ``inf``: the whole line)
    from one pass (span by span, :mod:`.passes`) and a sort of the breakpoints inside per
    cell; None where a breakpoint is not finite (a scale so small that ``hi / s``
    overflows)."""
    spans = passes.run(partial(gather_span, creators, low, high), creators.cell.shape[0])
    if not all(span[0] for span in spans):
        return None
    first = spans[0]
    count, top, bottom, level_low, below, rate_low, rate_high = first[1:8]
    kept_cell, kept_at, kept_rate = first[8:]
    if len(spans) > 1:
        count, top, bottom, level_low, below, rate_low, rate_high = (
            in_order([span[k] for span in spans]) for k in range(1, 8)
        )
        kept_cell = np.concatenate([span[8] for span in spans])
        kept_at, kept_rate = (np.concatenate([span[k] for span in spans]) for k in (9, 10))
    start, at, level, slope, below = build_curves(
        low, high, count, (level_low, below, rate_low, rate_high), (kept_cell, kept_at, kept_rate)
    )
    return Curves(start, at, level, slope, below, top, bottom, low, high)


@njit(cache=True, nogil=True)
def gather_span(
    creators: Creators, low: FloatArray, high: FloatArray, first: int, stop: int
) -> tuple[
    bool,
    IntArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    FloatArray,
    IntArray,
    FloatArray,
    FloatArray,
]:
    """One pass over the creators ``first:stop``: per cell their ``X`` and slope at ``low``,
    their sums at caps (``top``) and floors (``bottom``), and the breakpoints inside
    ``(low, high)`` (a creator that cannot move, of zero gain or floor = cap, has none) with
    each cell's count of them; False first where a breakpoint is not finite. A breakpoint on
    a bracket's end (creators alike share one: all of them may) is not kept: its rate is added
    to the end's (``rate_low``, ``rate_high``), as if it were sorted next to it. Returns ``(ok,
    count, top, bottom, level_low, below, rate_low, rate_high, kept_cell, kept_at,
    kept_rate)``."""
    cell, lc, scale, lo, hi, wa = creators
    n_cells = low.shape[0]
    count = np.zeros(n_cells, np.int64)
    top = np.zeros(n_cells)
    bottom = np.zeros(n_cells)
    level_low = np.zeros(n_cells)
    below = np.zeros(n_cells)
    rate_low = np.zeros(n_cells)
    rate_high = np.zeros(n_cells)
    capacity = 1024
    kept_cell = np.empty(capacity, np.int64)
    kept_at = np.empty(capacity)
    kept_rate = np.empty(capacity)
    m = 0
    for i in range(first, stop):
        k = cell[i]
        bottom[k] += lo[i]
        if not (wa[i] > 0 and hi[i] > lo[i]):
            top[k] += lo[i]
            level_low[k] += lo[i]
            continue
        top[k] += hi[i]
        # where the breakpoints lie against the bracket, by the response at its ends
        # (a multiplication; a breakpoint's own division only for those kept)
        at_low = scale[i] * (lc[i] - low[k])
        at_high = scale[i] * (lc[i] - high[k])
        if at_low > hi[i]:
            level_low[k] += hi[i]
        elif at_low > lo[i]:
            level_low[k] += at_low
            below[k] += scale[i]
        else:
            level_low[k] += lo[i]
        keep_cap = at_low > hi[i] and at_high <= hi[i]  # low < its cap's breakpoint <= high
        keep_floor = at_low > lo[i] and at_high <= lo[i]
        if not (keep_cap or keep_floor):
            continue
        if m + 2 > capacity:
            capacity *= 2
            kept_cell = np.concatenate((kept_cell, np.empty(capacity - m, np.int64)))
            kept_at = np.concatenate((kept_at, np.empty(capacity - m)))
            kept_rate = np.concatenate((kept_rate, np.empty(capacity - m)))
        for keep, bound, rate in ((keep_cap, hi[i], scale[i]), (keep_floor, lo[i], -scale[i])):
            if keep:
                p = lc[i] - bound / scale[i]
                if not math.isfinite(p):
                    return (False, count, top, bottom, level_low, below, rate_low, rate_high,
                            kept_cell[:m], kept_at[:m], kept_rate[:m])  # fmt: skip
                if p <= low[k]:
                    rate_low[k] += rate
                elif p >= high[k]:
                    rate_high[k] += rate
                else:
                    kept_cell[m] = k
                    kept_at[m] = p
                    kept_rate[m] = rate
                    m += 1
                    count[k] += 1
    return (True, count, top, bottom, level_low, below, rate_low, rate_high,
            kept_cell[:m], kept_at[:m], kept_rate[:m])  # fmt: skip


@njit(cache=True, nogil=True)
def build_curves(
    low: FloatArray,
    high: FloatArray,
    count: IntArray,
    sums: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    kept: tuple[IntArray, FloatArray, FloatArray],
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """See :class:`Curves`: from the gathered breakpoints (:func:`gather_span`, in the
    creators' order), each cell's ``X`` and slope at ``low`` and the rates of the breakpoints
    on its bracket's ends (``sums``), a sort per cell and the levels by a running sum from
    ``low``. Returns ``(start, at, level, slope, below)``."""
    level_low, below, rate_low, rate_high = sums
    kept_cell, kept_at, kept_rate = kept
    n_cells = low.shape[0]
    start = np.zeros(n_cells + 1, np.int64)
    for k in range(n_cells):
        start[k + 1] = start[k] + count[k] + (1 if low[k] > -math.inf else 0)
        start[k + 1] += 1 if high[k] < math.inf else 0
    at = np.empty(start[n_cells])
    slope = np.empty(start[n_cells])
    fill = start[:n_cells].copy()
    for k in range(n_cells):
        if low[k] > -math.inf:
            at[fill[k]] = low[k]
            slope[fill[k]] = rate_low[k]
            fill[k] += 1
    for j in range(kept_cell.shape[0]):
        k = kept_cell[j]
        at[fill[k]] = kept_at[j]
        slope[fill[k]] = kept_rate[j]
        fill[k] += 1
    level = np.empty(start[n_cells])
    for k in range(n_cells):
        a, b = start[k], start[k + 1]
        if high[k] < math.inf:
            at[b - 1] = high[k]
            slope[b - 1] = rate_high[k]
        if a == b:
            continue
        first = a + (1 if low[k] > -math.inf else 0)
        last = b - (1 if high[k] < math.inf else 0)
        if not _ordered(at, first, last):  # creators alike share a breakpoint: no sort
            order = np.argsort(at[first:last])
            at[first:last] = at[first:last][order]
            slope[first:last] = slope[first:last][order]
        level[a] = level_low[k]
        slope[a] = max(below[k] + slope[a], 0.0)
        for j in range(a + 1, b):
            level[j] = level[j - 1] - slope[j - 1] * (at[j] - at[j - 1])
            slope[j] = max(slope[j - 1] + slope[j], 0.0)
    return start, at, level, slope, below


@njit(cache=True, nogil=True, inline="always")
def _ordered(values: FloatArray, first: int, last: int) -> bool:
    """Whether ``values[first:last]`` is already in order (one pass)."""
    j = first + 1
    while j < last and values[j] >= values[j - 1]:
        j += 1
    return j >= last


@njit(cache=True, nogil=True, inline="always")
def _cell_at(k: int, t: float, c: Curves) -> tuple[float, float]:
    """``X(t)`` and ``-dX/dt`` of cell ``k``."""
    a, b = c.start[k], c.start[k + 1]
    if a == b:
        return c.top[k], 0.0
    if t <= c.at[a]:
        if c.below[k] == 0.0:
            return c.level[a], 0.0
        return min(c.level[a] + c.below[k] * (c.at[a] - t), c.top[k]), c.below[k]
    if t > c.at[b - 1] and c.high[k] == math.inf:
        return c.bottom[k], 0.0
    j = a + np.searchsorted(c.at[a:b], t) - 1  # at[j] < t <= at[j + 1], or j = b - 1
    return max(c.level[j] - c.slope[j] * (t - c.at[j]), c.bottom[k]), c.slope[j]


@njit(cache=True, nogil=True, inline="always")
def _log_add(a: float, b: float) -> float:
    """``ln(e^a + e^b)`` (either may be ``-inf``)."""
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    high = max(a, b)
    return high + math.log1p(math.exp(-abs(a - b)))


@njit(cache=True, nogil=True, inline="always")
def _share(mine: float, other: float) -> float:
    """``e^mine / (e^mine + e^other)``: the part of a cell's price that is ``mine``."""
    if mine == -math.inf:
        return 0.0
    if other == -math.inf:
        return 1.0
    return 1.0 / (1.0 + math.exp(other - mine))


@njit(cache=True, nogil=True)
def _next_guess(
    v: float, over: float, deriv: float, low: float, high: float, reach: float
) -> tuple[float, float]:
    """The next trial of a 1-D root search of a non-increasing function in a log price: a
    Newton step, kept inside the bracket ``(low, high)`` by bisection; unbracketed, at most
    ``reach`` (doubled each time no slope shows the way). Returns it and the new reach."""
    if deriv < 0:
        nxt = v - over / deriv
        if nxt - v > MAX_LOG_STEP:
            nxt = v + MAX_LOG_STEP
        elif v - nxt > MAX_LOG_STEP:
            nxt = v - MAX_LOG_STEP
    else:
        nxt = v + (reach if over > 0 else -reach)
        reach = min(2.0 * reach, MAX_LOG_STEP)
    if low > -math.inf and high < math.inf:
        if not low < nxt < high:
            nxt = 0.5 * (low + high)
    elif low > -math.inf and nxt <= low:
        nxt = low + reach
        reach = min(2.0 * reach, MAX_LOG_STEP)
    elif high < math.inf and nxt >= high:
        nxt = high - reach
        reach = min(2.0 * reach, MAX_LOG_STEP)
    return nxt, reach


@njit(cache=True, nogil=True)
def _group_log_price(
    g: int,
    n_pools: int,
    n_groups: int,
    cap: float,
    tau: FloatArray,
    guess: float,
    tol: float,
    c: Curves,
) -> float:
    """Log price of capped group ``g`` given the pools' log prices ``tau``: ``-inf`` where the
    group is within its cap at price zero, else the root of ``usage = cap`` (on the feasible
    side where the arithmetic cannot meet it exactly)."""
    used = 0.0
    for p in range(n_pools):
        used += _cell_at(p * n_groups + g, tau[p], c)[0]
    if used <= cap:
        return -math.inf
    v = guess
    if not math.isfinite(v):  # no guess: the highest pool's log price, or price 1
        v = tau.max() if tau.max() > -math.inf else 0.0
    left, right, reach = -math.inf, math.inf, 1.0
    goal = tol * max(cap, 1.0)
    for _ in range(MAX_ROOT):
        used = 0.0
        deriv = 0.0
        for p in range(n_pools):
            t = _log_add(tau[p], v)
            x, s = _cell_at(p * n_groups + g, t, c)
            used += x
            deriv -= s * _share(v, tau[p])
        over = used - cap
        if over > 0:
            left = v
        else:
            right = v
            if over >= -goal:
                return v
        nxt, reach = _next_guess(v, over, deriv, left, right, reach)
        if nxt == v or (left > -math.inf and right < math.inf and not left < nxt < right):
            break
        v = nxt
    return right if right < math.inf else v


@njit(cache=True, nogil=True)
def _groups(
    tau: FloatArray,
    nu: FloatArray,
    caps: FloatArray,
    tol: float,
    c: Curves,
) -> None:
    """Every capped group's log price given the pools' (``nu`` updated in place)."""
    n_pools, n_groups = tau.shape[0], caps.shape[0]
    for g in range(n_groups):
        if math.isfinite(caps[g]):
            nu[g] = _group_log_price(
                g,
                n_pools,
                n_groups,
                caps[g],
                tau,
                nu[g],
                tol,
                c,
            )


@njit(cache=True, nogil=True)
def _pool_state(
    tau: FloatArray,
    nu: FloatArray,
    caps: FloatArray,
    c: Curves,
) -> tuple[FloatArray, FloatArray]:
    """Per pool its usage, and ``d usage / d tau`` (pools by pools) with every capped group
    whose price is positive held at its cap (the Schur complement of the groups' block)."""
    n_pools, n_groups = tau.shape[0], caps.shape[0]
    used = np.zeros(n_pools)
    jac = np.zeros((n_pools, n_pools))
    own = np.zeros(n_pools)  # -d X / d tau_p along each cell, per pool of the cell
    group_side = np.zeros(n_pools)  # -d X / d nu_g of each cell of the group
    for g in range(n_groups):
        total = 0.0
        for p in range(n_pools):
            t = _log_add(tau[p], nu[g])
            x, s = _cell_at(p * n_groups + g, t, c)
            used[p] += x
            a = _share(tau[p], nu[g])
            own[p] = s * a
            group_side[p] = s * (1.0 - a)
            total += group_side[p]
            jac[p, p] -= own[p]
        if nu[g] > -math.inf and total > 0:
            for p in range(n_pools):
                for r in range(n_pools):
                    jac[p, r] += group_side[p] * own[r] / total
    return used, jac


@njit(cache=True, nogil=True)
def _residual(tau: FloatArray, used: FloatArray, budgets: FloatArray) -> FloatArray:
    """Per pool ``usage - budget`` where its price is positive, the excess alone at zero,
    relative to the budget (at least 1)."""
    r = np.empty(tau.shape[0])
    for p in range(tau.shape[0]):
        over = used[p] - budgets[p]
        if tau[p] == -math.inf:
            over = max(over, 0.0)
        r[p] = over / max(budgets[p], 1.0)
    return r


@njit(cache=True, nogil=True)
def _pool_log_price(
    p: int,
    tau: FloatArray,
    nu: FloatArray,
    budgets: FloatArray,
    caps: FloatArray,
    tol: float,
    c: Curves,
) -> None:
    """Pool ``p``'s log price alone (the other pools held, the groups re-solved at each
    trial): ``-inf`` where it is within budget at price zero, else the root of
    ``usage = budget``. Updates ``tau`` and ``nu`` in place."""
    inner = tol * 1e-2
    v = tau[p]
    tau[p] = -math.inf
    _groups(tau, nu, caps, inner, c)
    used, _ = _pool_state(tau, nu, caps, c)
    if used[p] <= budgets[p]:
        return
    if not math.isfinite(v):
        v = 0.0
    left, right, reach = -math.inf, math.inf, 1.0
    goal = inner * max(budgets[p], 1.0)
    best_nu = nu.copy()
    for _ in range(MAX_ROOT):
        tau[p] = v
        _groups(tau, nu, caps, inner, c)
        used, jac = _pool_state(tau, nu, caps, c)
        over = used[p] - budgets[p]
        if over > 0:
            left = v
        else:
            right = v
            best_nu[:] = nu
            if over >= -goal:
                return
        nxt, reach = _next_guess(v, over, jac[p, p], left, right, reach)
        if nxt == v or (left > -math.inf and right < math.inf and not left < nxt < right):
            break
        v = nxt
    if right < math.inf:
        tau[p] = right
        nu[:] = best_nu


@njit(cache=True, nogil=True)
def solve_on_curves(
    budgets: FloatArray,
    caps: FloatArray,
    tau: FloatArray,
    tol: float,
    c: Curves,
) -> tuple[FloatArray, FloatArray, float]:
    """Pools' and groups' log prices on the curves from the pools' first guess ``tau``, and
    the worst pool residual reached (:func:`_residual`; the groups are solved exactly)."""
    n_pools = budgets.shape[0]
    tau = tau.copy()
    nu = np.full(caps.shape[0], -math.inf)
    inner = tol * 1e-2
    for p in range(n_pools):
        tau[p] = -math.inf
    for p in range(n_pools):  # a first sweep from price zero
        _pool_log_price(p, tau, nu, budgets, caps, tol, c)
    _groups(tau, nu, caps, inner, c)
    used, jac = _pool_state(tau, nu, caps, c)
    r = _residual(tau, used, budgets)
    worst = np.abs(r).max()
    for _ in range(MAX_OUTER):
        if worst <= tol:
            break
        moved = False
        free = np.flatnonzero(tau > -math.inf)
        if free.shape[0] > 0 and np.all(r[tau == -math.inf] <= tol):
            sub = np.empty((free.shape[0], free.shape[0]))
            rhs = np.empty(free.shape[0])
            for i in range(free.shape[0]):
                rhs[i] = -r[free[i]] * max(budgets[free[i]], 1.0)
                for j in range(free.shape[0]):
                    sub[i, j] = jac[free[i], free[j]]
            if np.all(np.isfinite(sub)) and abs(np.linalg.det(sub)) > 0:
                step = np.linalg.solve(sub, rhs)
                trial = tau.copy()
                for i in range(free.shape[0]):
                    trial[free[i]] += min(max(step[i], -MAX_LOG_STEP), MAX_LOG_STEP)
                trial_nu = nu.copy()
                _groups(trial, trial_nu, caps, inner, c)
                t_used, t_jac = _pool_state(trial, trial_nu, caps, c)
                t_r = _residual(trial, t_used, budgets)
                t_worst = np.abs(t_r).max()
                if t_worst < 0.5 * worst:
                    tau, nu, used, jac, r, worst = trial, trial_nu, t_used, t_jac, t_r, t_worst
                    moved = True
        if not moved:
            for p in range(n_pools):
                _pool_log_price(
                    p,
                    tau,
                    nu,
                    budgets,
                    caps,
                    tol,
                    c,
                )
            _groups(tau, nu, caps, inner, c)
            used, jac = _pool_state(tau, nu, caps, c)
            r = _residual(tau, used, budgets)
            worst = np.abs(r).max()
            if n_pools == 1:  # its sweep is exact: nothing more to gain
                break
    return tau, nu, worst


def dual_on_curves(
    creators: Creators,
    layout: CellLayout,
    *,
    start_log_price: FloatArray,
    tol: float,
    sample: tuple[IntArray, FloatArray] | None = None,
    passes: Passes = SERIAL,
) -> tuple[DualSolution, FloatArray, float] | None:
    """The dual solved on the cells' curves, checked by an exact pass over the creators that
    also recovers the primal: the solution, the relaxed allocation and its objective; or None
    where the curves cannot be built or do not lead to prices that the exact pass finds
    within ``tol`` (the caller then solves it with :func:`.dual.solve_dual`).

    Without a ``sample`` the curves span every breakpoint (a sort of two per creator). With
    one (rows of a sample and each cell's count over its sampled count), the dual is first
    solved on the sample's curves scaled up; each cell's curve over all creators is then
    gathered only within a bracket around that log price holding some of the sample's
    breakpoints on either side (:func:`_brackets`), widened by another pass where the solution on
    those curves leaves a bracket (at the last try, to the whole line).

    The curves' levels carry the rounding of their running sums (a cell whose creators sit
    at caps of 1e6 starts from a sum of caps far above its usage), so the exact pass may find
    a binding constraint off by some 1e-11 of it: then Newton steps on the positive log
    prices with the exact pass's slopes (:func:`_polish`, one pass each) finish it.
    ``iterations`` counts the passes: those that gather breakpoints and the exact ones. The
    passes over all the creators run on ``passes``'s threads.
    """
    n_cells = layout.n_cells
    whole = np.full(n_cells, -math.inf), np.full(n_cells, math.inf)
    pass_count = 0
    if sample is None:
        low, high = whole
    else:
        rows, ratio = sample
        model = curves_of(creators.take(rows), *whole)
        if model is None:
            return None
        tau, nu, _ = solve_on_curves(
            layout.budgets,
            layout.group_caps,
            start_log_price,
            MODEL_TOL,
            model.scaled(ratio),
        )
        low, high = _brackets(model, np.logaddexp.outer(tau, nu).ravel(), BRACKET)
        pass_count += 1  # the sample's rows
    for attempt in range(MAX_BRACKETS):
        curves = curves_of(creators, low, high, passes)
        pass_count += 1
        if curves is None:
            return None
        tau, nu, _ = solve_on_curves(
            layout.budgets, layout.group_caps, start_log_price, tol, curves
        )
        t = np.logaddexp.outer(tau, nu).ravel()
        outside = (t < low) | (t > high)
        if not outside.any():
            break
        if attempt == MAX_BRACKETS - 2:  # the last try: the whole line where it left
            low = np.where(outside, -math.inf, low)
            high = np.where(outside, math.inf, high)
        else:
            width = np.where(np.isfinite(high - low), high - low, 1.0)
            low = np.where(outside, np.minimum(low, t) - width, low)
            high = np.where(outside, np.maximum(high, t) + width, high)
    else:
        return None
    capped = np.isfinite(layout.group_caps)
    for _ in range(POLISH_PASSES):
        log_price = np.logaddexp.outer(tau, nu).ravel()
        price = np.exp(log_price)
        x, objective, total, slope, conj = recover(creators, price, log_price, passes)
        pass_count += 1
        by_cell = total.reshape(layout.n_pools, layout.n_groups)
        over = np.concatenate([by_cell.sum(axis=1), by_cell.sum(axis=0)[capped]]) - np.concatenate(
            [layout.budgets, layout.group_caps[capped]]
        )
        level = np.concatenate([tau, nu[capped]])
        limits = np.concatenate([layout.budgets, layout.group_caps[capped]])
        off = np.where(np.isfinite(level), np.abs(over), np.maximum(over, 0.0))
        # a sum of n impressions is itself only exact to about sqrt(n) roundings
        noise = ROUNDING * math.sqrt(creators.cell.shape[0]) * np.abs(over + limits)
        if (off <= np.maximum(tol * np.maximum(limits, 1.0), noise)).all():
            break
        if (np.isinf(level) & (off > 0)).any():
            return None  # a zero price the curves left at zero is short: not a rounding error
        tau, nu = _polish(tau, nu, capped, over, slope.reshape(by_cell.shape))
    else:
        return None
    pool_price = np.exp(tau)
    group_price = np.where(capped, np.exp(nu), 0.0)
    dual_objective = math.fsum(
        [
            float(conj.sum()),
            float(pool_price @ layout.budgets),
            float(group_price[capped] @ layout.group_caps[capped]),
        ]
    )
    solution = DualSolution(
        pool_price=pool_price,
        group_price=group_price,
        cell_price=price,
        dual_objective=dual_objective,
        iterations=pass_count,
    )
    return solution, x, float(objective)


def _polish(
    tau: FloatArray, nu: FloatArray, capped: NDArray[np.bool_], over: FloatArray, slope: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """One Newton step on the positive log prices (pools, then capped groups) towards
    ``usage = limit``, from the excesses ``over`` and the cells' slopes ``-dX/dt`` of an exact
    pass; the zero prices stay zero."""
    n_pools = tau.shape[0]
    groups = np.flatnonzero(capped)
    level = np.concatenate([tau, nu[groups]])
    free = np.flatnonzero(np.isfinite(level))
    log_price = np.logaddexp.outer(tau, nu)
    with np.errstate(invalid="ignore"):  # -inf - -inf: a cell of two zero prices
        pool_share = np.exp(tau[:, None] - log_price)  # d t / d tau of each cell
    pool_share[~np.isfinite(pool_share)] = 0.0
    group_share = np.where(np.isfinite(nu)[None, :], 1.0 - pool_share, 0.0)
    jac = np.zeros((level.shape[0], level.shape[0]))
    jac[:n_pools, :n_pools] = -np.diag((slope * pool_share).sum(axis=1))
    jac[:n_pools, n_pools:] = -(slope * group_share)[:, groups]
    jac[n_pools:, :n_pools] = -(slope * pool_share)[:, groups].T
    jac[n_pools:, n_pools:] = -np.diag((slope * group_share).sum(axis=0)[groups])
    sub = jac[np.ix_(free, free)]
    step = np.zeros(level.shape[0])
    step[free] = np.linalg.lstsq(sub, -over[free], rcond=None)[0]
    level = level + np.clip(step, -MAX_LOG_STEP, MAX_LOG_STEP)
    new_nu = nu.copy()
    new_nu[groups] = level[n_pools:]
    return level[:n_pools], new_nu


def _brackets(model: Curves, t: FloatArray, least: int) -> tuple[FloatArray, FloatArray]:
    """Per cell the breakpoints of ``model`` some places below and above ``t`` (at least
    ``least``, or :data:`SPREAD` times the square root of the cell's count; ``-inf``, ``inf``
    where there are fewer: the bracket goes on to the end)."""
    n_cells = t.shape[0]
    low = np.full(n_cells, -math.inf)
    high = np.full(n_cells, math.inf)
    for k in range(n_cells):
        at = model.at[model.start[k] : model.start[k + 1]]
        j = int(np.searchsorted(at, t[k]))
        # a sample's count below a log price is off by about its square root
        span = max(least, int(SPREAD * math.sqrt(at.shape[0])))
        if j - span >= 0:
            low[k] = at[j - span]
        if j + span < at.shape[0]:
            high[k] = at[j + span]
    return low, high
