"""Fused passes over the creators (Numba): per-cell dual sums and the primal recovery; and
the dual Newton step's small linear algebra, compiled so that a step costs microseconds.

A creator with price ``q`` takes ``x(q) = clip(s * (ln c - ln q), lo, hi)`` where
``c = w * a / s`` is its marginal gain at zero impressions; ``q = 0`` sends every creator with
``c > 0`` to its cap, and a creator with ``c = 0`` stays at its floor.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit, types
from numba.extending import overload
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@njit(cache=True, nogil=True)
def prepare_span(
    weight: FloatArray,
    saturation: FloatArray,
    scale: FloatArray,
    membership: tuple[IntArray, IntArray, int, int],
    out: tuple[IntArray, FloatArray, FloatArray],
    start: int,
    stop: int,
) -> tuple[FloatArray, FloatArray, IntArray]:
    """``(cell, ln c, w * a)`` of the creators ``start:stop`` written into ``out``; their
    count and sum of finite ``ln c`` per pool and their count per cell. ``membership`` is
    ``(pool, group, n_pools, n_groups)``; ``ln c = -inf`` where ``c = 0``, a creator's cell is
    ``pool * n_groups + group`` (:func:`guanghe.traffic.passes.prepare`)."""
    pool, group, n_pools, n_groups = membership
    cell, lc, wa = out
    count = np.zeros(n_pools)
    total = np.zeros(n_pools)
    per_cell = np.zeros(n_pools * n_groups, np.int64)
    for i in range(start, stop):
        cell[i] = pool[i] * n_groups + group[i]
        per_cell[cell[i]] += 1
        gain = weight[i] * saturation[i]
        wa[i] = gain
        if gain > 0:
            lc[i] = math.log(gain / scale[i])
            if lc[i] > -math.inf:
                count[pool[i]] += 1.0
                total[pool[i]] += lc[i]
        else:
            lc[i] = -math.inf
    return count, total, per_cell


@njit(cache=True, nogil=True)
def empty_floats(n: int) -> FloatArray:
    """An uninitialised array of ``n`` floats from the compiled side's allocator (see
    :func:`guanghe.traffic.passes.fresh`)."""
    return np.empty(n)


@njit(cache=True, nogil=True)
def empty_ints(n: int) -> IntArray:
    """An uninitialised array of ``n`` int64 from the compiled side's allocator."""
    return np.empty(n, np.int64)


@njit(cache=True, nogil=True)
def bound_gains(
    wa: FloatArray, scale: FloatArray, lo: FloatArray, hi: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``(f(lo), f(hi))`` per creator in one pass (:func:`_gain`): the gains at its floor and
    cap that :func:`cell_sums` takes (:func:`recover_with_sums` computes them where it needs
    them)."""
    n = wa.shape[0]
    f_lo = np.empty(n)
    f_hi = np.empty(n)
    for i in range(n):
        f_lo[i] = _gain(wa[i], lo[i] / scale[i])
        f_hi[i] = _gain(wa[i], hi[i] / scale[i])
    return f_lo, f_hi


#: Scales of impressions past which ``1 - exp(-x / s)`` is 1 in double precision
#: (``exp(-40)`` is 4e-18, below half the spacing of doubles at 1).
SATURATED = 40.0


@njit(cache=True, nogil=True, inline="always")
def _gain(gain: float, units: float) -> float:
    """``gain * (1 - exp(-units))``, bit for bit, skipping ``expm1`` where it is 0 or 1."""
    if units == 0.0:
        return 0.0
    if units > SATURATED:
        return gain
    return -gain * math.expm1(-units)


class Creators(NamedTuple):
    """What the passes over the creators read of each, as one record the kernels take whole:
    its cell, ``ln c``, scale ``s``, floor ``lo``, cap ``hi`` and ``w * a``."""

    cell: IntArray
    lc: FloatArray
    scale: FloatArray
    lo: FloatArray
    hi: FloatArray
    wa: FloatArray

    def take(self, rows: IntArray) -> Creators:
        """The record of the creators ``rows``."""
        cell, lc, scale, lo, hi, wa = self
        return Creators(cell[rows], lc[rows], scale[rows], lo[rows], hi[rows], wa[rows])


@njit(cache=True, nogil=True)
def log_prices(price: FloatArray) -> FloatArray:
    """``ln q`` per cell, ``-inf`` at a zero price."""
    log_price = np.empty(price.shape[0])
    for k in range(price.shape[0]):
        log_price[k] = math.log(price[k]) if price[k] > 0 else -math.inf
    return log_price


@njit(cache=True, nogil=True)
def cell_sums(
    c: Creators, bound_gain: tuple[FloatArray, FloatArray], price: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Per cell at its price: impressions ``X``, ``-dX/d ln q`` and ``sum max_x f(x) - q x``,
    with the gains at floors and caps ``bound_gain`` (:func:`bound_gains`).

    One pass, O(n); ``price`` has shape ``(n_cells,)``.
    """
    f_lo, f_hi = bound_gain
    m = price.shape[0]
    total = np.zeros(m)
    slope = np.zeros(m)
    conj = np.zeros(m)
    log_price = log_prices(price)
    for i in range(c.lc.shape[0]):
        k = c.cell[i]
        q = price[k]
        if c.wa[i] <= 0:
            x = c.lo[i]
            conj[k] += f_lo[i] - q * x
        else:
            t = c.scale[i] * (c.lc[i] - log_price[k])
            if t >= c.hi[i]:
                x = c.hi[i]
                conj[k] += f_hi[i] - q * x
            elif t <= c.lo[i]:
                x = c.lo[i]
                conj[k] += f_lo[i] - q * x
            else:
                x = t
                slope[k] += c.scale[i]
                conj[k] += c.wa[i] - q * (c.scale[i] + t)
        total[k] += x
    return total, slope, conj


@njit(cache=True, nogil=True)
def recover_with_sums(
    c: Creators, price: FloatArray, log_price: FloatArray
) -> tuple[FloatArray, float, FloatArray, FloatArray, FloatArray]:
    """The primal ``x`` at the cells' prices and log prices, its objective and
    :func:`cell_sums`'s sums, in one pass (:func:`recover_span` over every creator)."""
    x = np.empty(c.lc.shape[0])
    objective, total, slope, conj = recover_span(c, price, log_price, x, 0, x.shape[0])
    return x, objective, total, slope, conj


@njit(cache=True, nogil=True)
def recover_span(
    c: Creators, price: FloatArray, log_price: FloatArray, x: FloatArray, start: int, stop: int
) -> tuple[float, FloatArray, FloatArray, FloatArray]:
    """The primal of the creators ``start:stop`` at the cells' prices and log prices written
    into ``x``, and their objective and :func:`cell_sums`'s sums (a log price far below the
    smallest double still moves creators that a price of 0 would send to their caps; the
    gains at floors and caps are computed here, :func:`_gain`)."""
    m = price.shape[0]
    total = np.zeros(m)
    slope = np.zeros(m)
    conj = np.zeros(m)
    objective = 0.0
    for i in range(start, stop):
        k = c.cell[i]
        q = price[k]
        wa, scale, lo, hi = c.wa[i], c.scale[i], c.lo[i], c.hi[i]
        if wa <= 0:
            x[i] = lo
            conj[k] += _gain(wa, lo / scale) - q * lo
        else:
            t = scale * (c.lc[i] - log_price[k])
            if t >= hi:
                x[i] = hi
                f = _gain(wa, hi / scale)
                objective += f
                conj[k] += f - q * hi
            elif t <= lo:
                x[i] = lo
                f = _gain(wa, lo / scale)
                objective += f
                conj[k] += f - q * lo
            else:
                x[i] = t
                slope[k] += scale
                objective += -wa * math.expm1(-t / scale)
                conj[k] += wa - q * (scale + t)
        total[k] += x[i]
    return objective, total, slope, conj


@njit(cache=True, nogil=True)
def sample_rows(cell: IntArray, every: IntArray) -> IntArray:
    """Indices ``i`` (ascending) with ``i % every[cell[i]] == 0``, in two passes (where
    every ``every`` is a power of two, by a mask: no division per creator)."""
    n = cell.shape[0]
    mask = every - 1
    if np.all((every & mask) == 0):
        return _sample_rows_masked(cell, mask)
    m = 0
    for i in range(n):
        if i % every[cell[i]] == 0:
            m += 1
    take = np.empty(m, np.int64)
    m = 0
    for i in range(n):
        if i % every[cell[i]] == 0:
            take[m] = i
            m += 1
    return take


@njit(cache=True, nogil=True)
def _sample_rows_masked(cell: IntArray, mask: IntArray) -> IntArray:
    """:func:`sample_rows` where ``every = mask + 1`` are powers of two."""
    n = cell.shape[0]
    m = 0
    for i in range(n):
        if i & mask[cell[i]] == 0:
            m += 1
    take = np.empty(m, np.int64)
    m = 0
    for i in range(n):
        if i & mask[cell[i]] == 0:
            take[m] = i
            m += 1
    return take


@njit(cache=True, nogil=True)
def floor_sums(
    floor: FloatArray, pool: IntArray, group: IntArray, n_pools: int, n_groups: int
) -> tuple[FloatArray, FloatArray]:
    """Per pool and per group the sum of its creators' floors, in one pass (summed in the
    creators' order, as ``np.bincount`` sums them)."""
    need_pool = np.zeros(n_pools)
    need_group = np.zeros(n_groups)
    for i in range(floor.shape[0]):
        need_pool[pool[i]] += floor[i]
        need_group[group[i]] += floor[i]
    return need_pool, need_group


@njit(cache=True, nogil=True)
def whole_objective_span(
    z: IntArray, wa: FloatArray, scale: FloatArray, start: int, stop: int
) -> float:
    """``sum w a (1 - exp(-z / s))`` of the whole impressions ``z`` of creators ``start:stop``."""
    total = 0.0
    for i in range(start, stop):
        total += -wa[i] * math.expm1(-z[i] / scale[i])
    return total


@njit(cache=True, nogil=True)
def whole_start_span(
    x: FloatArray,
    floor: FloatArray,
    cap: FloatArray,
    membership: tuple[IntArray, IntArray, int, int],
    z: IntArray,
    start: int,
    stop: int,
) -> tuple[IntArray, IntArray, IntArray, IntArray, int, FloatArray, FloatArray, float]:
    """The rounding's start of the creators ``start:stop`` written into ``z`` (as
    :func:`floor_start`, within the whole floors ``ceil(floor)`` and caps ``floor(cap)``);
    their whole floors' and ``z``'s sums per pool and group, and the first of them whose whole
    floor exceeds its whole cap (``-1``: none); one pass that keeps no whole bound
    (:func:`hand_out` reads the caps as they are). ``membership`` is ``(pool, group, n_pools,
    n_groups)``. The same pass measures ``x`` itself, as it reads all that takes: per pool
    and group the impressions ``x`` uses, and the largest excess of ``x`` over its creator's
    floor or cap relative to the cap (at least 1)."""
    pool, group, n_pools, n_groups = membership
    need_pool = np.zeros(n_pools, np.int64)
    need_group = np.zeros(n_groups, np.int64)
    used_pool = np.zeros(n_pools, np.int64)
    used_group = np.zeros(n_groups, np.int64)
    x_pool = np.zeros(n_pools)
    x_group = np.zeros(n_groups)
    worst = 0.0
    bad = -1
    for i in range(start, stop):
        lo = np.int64(math.ceil(floor[i]))
        hi = np.int64(math.floor(cap[i]))
        v = min(max(np.int64(math.floor(x[i] + 1e-9)), lo), hi)
        z[i] = v
        need_pool[pool[i]] += lo
        need_group[group[i]] += lo
        used_pool[pool[i]] += v
        used_group[group[i]] += v
        if lo > hi and bad < 0:
            bad = i
        x_pool[pool[i]] += x[i]
        x_group[group[i]] += x[i]
        worst = max(worst, max(floor[i] - x[i], x[i] - cap[i]) / max(cap[i], 1.0))
    return need_pool, need_group, used_pool, used_group, bad, x_pool, x_group, worst


def whole_cap(cap: float) -> int:
    """A creator's whole cap, ``floor(cap)``; an integer cap as it is. Kernels use the
    compiled overload below, which keeps an integer cap's type."""
    return math.floor(cap)


@overload(whole_cap, inline="always")
def _whole_cap(cap):  # type: ignore[no-untyped-def]  # numba matches the names, untyped
    if isinstance(cap, types.Integer):
        return lambda cap: cap
    return lambda cap: np.int64(math.floor(cap))


@njit(cache=True, nogil=True)
def first_repeat(ids: IntArray, low: int, span: int) -> int:
    """Index of the first id seen before (``-1``: none); every id lies in ``[low, low + span)``.
    One pass with a bitmap of ``span`` bytes."""
    seen = np.zeros(span, np.bool_)
    for i in range(ids.shape[0]):
        k = ids[i] - low
        if seen[k]:
            return i
        seen[k] = True
    return -1


@njit(cache=True, nogil=True)
def floor_start(
    x: FloatArray,
    low: IntArray,
    high: IntArray,
    pool: IntArray,
    group: IntArray,
    n_pools: int,
    n_groups: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """The rounding's start in one pass: ``z = clip(floor(x + 1e-9), low, high)`` and the
    units it uses per pool and per group."""
    n = x.shape[0]
    z = np.empty(n, np.int64)
    used_pool = np.zeros(n_pools, np.int64)
    used_group = np.zeros(n_groups, np.int64)
    for i in range(n):
        v = min(max(np.int64(math.floor(x[i] + 1e-9)), low[i]), high[i])
        z[i] = v
        used_pool[pool[i]] += v
        used_group[group[i]] += v
    return z, used_pool, used_group


#: Levels the log gain of a unit is bucketed into for the hand-out order.
GAIN_LEVELS = 1 << 16
#: The hand-out orders at first the candidates of the best levels that hold this many times
#: the units left to hand out (more levels follow while units are left).
HAND_OUT_MARGIN = 1.5
#: Each further span's margin is this many times the last one's, so that a hand-out whose
#: groups fill early scans the creators a few times, not once per span of the same size.
HAND_OUT_GROWTH = 4.0
#: The low 32 bits of a hand-out entry: the creator's cell.
CELL_BITS = (1 << 32) - 1
#: From this scale up the hand-out estimates a unit's log gain from ``ln c`` by a series
#: (:func:`_unit_log_gain_estimate`) ...
SERIES_SCALE = 4.0
#: ... within this much times ``1 + |ln c| + z / s`` of the exact one (the arithmetic's own
#: error is some 1e-15 times that; the series' is under 2e-15 at ``s = 4``).
ESTIMATE_ERROR = 1e-12
#: ``ln c`` below which the estimate is not used (the gain of a unit is near underflow).
SERIES_LOWEST = -600.0


@njit(cache=True, nogil=True, inline="always")
def _unit_log_gain(wa: float, scale: float, z: float) -> float:
    """``ln(w a (1 - exp(-1 / s))) - z / s``, the log gain of a creator's next unit at ``z``
    impressions; ``-inf`` where that unit gains nothing."""
    first = wa * -math.expm1(-1.0 / scale)
    if first > 0:
        return math.log(first) - z / scale
    return -math.inf


@njit(cache=True, nogil=True, inline="always")
def _unit_log_gain_estimate(lc: float, u: float, z: float) -> float:
    """:func:`_unit_log_gain` from ``ln c = ln(w a / s)`` and ``u = 1 / s`` without a ``log``
    or ``expm1``, for ``s >= SERIES_SCALE``: ``ln(w a (1 - e^-u)) = ln c + ln((1 - e^-u) / u)``,
    the second term by its series to ``u^8`` (the next term is ``u^10 / 479001600``)."""
    v = u * u
    series = -0.5 * u + v * (1.0 / 24 + v * (-1.0 / 2880 + v * (1.0 / 181440 - v / 9676800)))
    return lc + series - z * u


@njit(cache=True, nogil=True)
def hand_out(
    z: IntArray,
    high: IntArray | FloatArray,
    wa: FloatArray,
    scale: FloatArray,
    lc: FloatArray,
    pool: IntArray,
    group: IntArray,
    left_pool: IntArray,
    left_group: IntArray,
    space: tuple[FloatArray, IntArray],
) -> int:
    """One round of the hand-out: every creator below its cap whose pool and group have room
    gets one unit, in order of the gain of that unit, while its pool and group still have room.
    The caps ``high`` are whole, or the creators' own (:func:`whole_cap`); ``lc`` is each
    creator's ``ln(w a / s)``, to within some 1e-15 of it.

    The gain of a creator's next unit is ``w a exp(-z / s) (1 - exp(-1 / s))``, ordered by its
    logarithm ``ln(w a (1 - exp(-1 / s))) - z / s`` (none when ``w a = 0``,
    :func:`_unit_log_gain`). The order is a counting sort of the log gains bucketed into up to
    :data:`GAIN_LEVELS` levels over their range (ties by index). The level of a log gain is
    that of the exact one, but the exact one (a ``log`` and an ``expm1``) is computed only
    where it can matter: each creator's is first estimated within a known error
    (:func:`_unit_log_gain_estimate`, where ``s >= SERIES_SCALE``), computed exactly where the
    estimate could be the best or worst of all, and again wherever the estimate lies so close
    to the edge of a level that the exact one might lie in the next. Only the levels that can
    still matter are sorted and walked: the
    best ones holding :data:`HAND_OUT_MARGIN` times the units left, then the next span, its
    margin :data:`HAND_OUT_GROWTH` times larger, while units are left (the same order, a span
    at a time; creators whose pool or group filled in an earlier span are left out of the
    later ones, which would pass them by); each entry carries its pool and group, so the walk
    reads memory in order. Updates ``z``, ``left_pool`` and ``left_group`` in place; returns
    the units given. O(n + levels) per span plus the spans sorted. ``space`` is its working
    memory, two arrays of at least ``n`` floats and integers, allocated once by the caller for
    all its rounds.
    """
    n = z.shape[0]
    n_groups = left_group.shape[0]
    gain = space[0][:n]
    m = 0
    best = -math.inf  # the exact best and worst log gains of those computed exactly
    worst = math.inf
    best_below = -math.inf  # the best and worst estimates less and plus their error
    worst_above = math.inf
    slack = 0.0  # the largest error of an estimate kept
    for i in range(n):
        gain[i] = -math.inf
        if left_pool[pool[i]] > 0 and left_group[group[i]] > 0 and z[i] < whole_cap(high[i]):
            if scale[i] >= SERIES_SCALE and wa[i] > 0 and lc[i] > SERIES_LOWEST:
                u = 1.0 / scale[i]
                guess = _unit_log_gain_estimate(lc[i], u, z[i])
                error = ESTIMATE_ERROR * (1.0 + abs(lc[i]) + z[i] * u)
                # one before it gains at least max(best_below, best) (worst likewise): if this
                # gains surely less, it is not the best
                below_best = guess + error < max(best_below, best)
                above_worst = guess - error > min(worst_above, worst)
                best_below = max(best_below, guess - error)
                worst_above = min(worst_above, guess + error)
                if below_best and above_worst:
                    gain[i] = guess
                    slack = max(slack, error)
                    m += 1
                    continue
            g = _unit_log_gain(wa[i], scale[i], z[i])
            if g > -math.inf:
                gain[i] = g
                m += 1
                best = max(best, g)
                worst = min(worst, g)
    if m == 0:
        return 0
    levels = min(GAIN_LEVELS, max(1024, 4 * m))
    width = (best - worst) / (levels - 1) if best > worst else 1.0
    # an estimate within this of a level's edge (in levels) may be in the next one
    near = slack / width + 1e-9
    count = np.zeros(levels, np.int64)
    # the levels overwrite the gains already read (level i lies in gain i // 2): no fresh array
    level = gain.view(np.int32)
    for i in range(n):
        b = -1
        if gain[i] > -math.inf:
            at = (best - gain[i]) / width
            b = int(at)
            if slack > 0 and not near < at - b < 1.0 - near:  # an estimate near an edge
                b = int((best - _unit_log_gain(wa[i], scale[i], z[i])) / width)
            b = min(b, levels - 1)
            count[b] += 1
        level[i] = b
    units = 0
    for p in range(left_pool.shape[0]):
        units += max(left_pool[p], 0)
    cells = np.arange(left_pool.shape[0] * n_groups)
    cell_pool = cells // n_groups  # the walk looks them up: a division per unit is slow
    cell_group = cells % n_groups
    given = 0
    first_level = 0
    margin = HAND_OUT_MARGIN
    # one array for the spans' orders (each at most the m creators with a gain), so that a
    # later span reuses the pages an earlier one touched
    order_space = space[1]
    while first_level < levels and units > given:
        want = margin * (units - given)
        margin *= HAND_OUT_GROWTH
        last = first_level
        span = 0
        while last < levels and (span < want or span == 0):
            span += count[last]
            last += 1
        start = np.zeros(last - first_level + 1, np.int64)
        for b in range(first_level, last):
            start[b - first_level + 1] = start[b - first_level] + count[b]
        # each entry is a creator's index and cell, (i << 32) | cell (both below 2**31)
        order = order_space[:span]
        order[:] = -1
        for i in range(n):
            b = level[i]
            if first_level <= b < last:
                at = start[b - first_level]
                start[b - first_level] = at + 1
                if left_pool[pool[i]] > 0 and left_group[group[i]] > 0:
                    order[at] = (np.int64(i) << 32) | (pool[i] * n_groups + group[i])
        for j in range(span):
            if order[j] < 0:  # its pool or group filled in an earlier span
                continue
            cell = order[j] & CELL_BITS
            p = cell_pool[cell]
            g_ = cell_group[cell]
            if left_pool[p] > 0 and left_group[g_] > 0:
                z[order[j] >> 32] += 1
                left_pool[p] -= 1
                left_group[g_] -= 1
                given += 1
        first_level = last
    return given


@njit(cache=True, nogil=True)
def dual_terms(
    a: FloatArray,
    rhs: FloatArray,
    y: FloatArray,
    price: FloatArray,
    total: FloatArray,
    slope: FloatArray,
    conj: FloatArray,
) -> tuple[float, FloatArray, FloatArray]:
    """The dual's value, gradient and Hessian at prices ``y`` from the per-cell sums.

    ``a`` is the 0/1 cell-by-constraint incidence and ``price = a @ y``; a cell's curvature is
    ``slope / price`` (zero at a zero price).
    """
    m, v = a.shape
    value = 0.0
    for k in range(m):
        value += conj[k]
    grad = rhs.copy()
    for j in range(v):
        value += y[j] * rhs[j]
    hess = np.zeros((v, v))
    for k in range(m):
        curvature = slope[k] / price[k] if price[k] > 0 else 0.0
        for j in range(v):
            if a[k, j] != 0.0:
                grad[j] -= a[k, j] * total[k]
                for i in range(v):
                    hess[j, i] += curvature * a[k, j] * a[k, i]
    return value, grad, hess


@njit(cache=True, nogil=True)
def projected_residual(y: FloatArray, grad: FloatArray, rhs: FloatArray) -> float:
    """Largest projected dual gradient relative to its right-hand side (at least 1)."""
    worst = 0.0
    for j in range(y.shape[0]):
        g = grad[j] if y[j] > 0 else min(grad[j], 0.0)
        worst = max(worst, abs(g) / max(rhs[j], 1.0))
    return worst


@njit(cache=True, nogil=True)
def newton_step(hess: FloatArray, grad: FloatArray, y: FloatArray, scale: float) -> FloatArray:
    """Projected Newton step at ``y``: Newton on the free prices (positive, or at zero with a
    descent direction into the positives), zero on the others; a direction without curvature
    gets a step of the price scale. Each price moves at most four times its size (or
    ``scale``), the whole step shrunk alike."""
    v = y.shape[0]
    free = np.flatnonzero((y > 0) | (grad < 0))
    k = free.shape[0]
    if k == 0:
        return np.zeros(v)
    h = np.empty((k, k))
    g = np.empty(k)
    peak = 0.0
    for r in range(k):
        g[r] = grad[free[r]]
        for c in range(k):
            h[r, c] = hess[free[r], free[c]]
        peak = max(peak, h[r, r])
    for r in range(k):
        if h[r, r] <= 1e-12 * max(peak, 1e-300):
            ridge = abs(g[r]) / max(y[free[r]], scale)
        else:
            ridge = 1e-12 * h[r, r]
        h[r, r] += ridge if ridge > 0 else 1e-300
    solved = np.linalg.solve(h, -g)
    step = np.zeros(v)
    shrink = 1.0
    for r in range(k):
        j = free[r]
        step[j] = solved[r]
        if y[j] > 0 and solved[r] < 0:
            continue  # a fall is taken in log price: any size is a positive price
        limit = 4.0 * max(y[j], scale)
        if abs(solved[r]) * shrink > limit:
            shrink = limit / abs(solved[r])
    return step * shrink


@njit(cache=True, nogil=True)
def pool_blocks(
    pool: IntArray, group: IntArray, capped: NDArray[np.bool_], n_pools: int
) -> tuple[IntArray, int]:
    """The independent blocks of a problem: pools joined by a capped group they share.

    Union-find over the pools and the capped groups, one pass over the creators (a creator
    of an uncapped group joins nothing: that group has no price). Returns the block of each
    pool, numbered ``0..blocks-1`` in order of each block's first pool, and ``blocks``; the
    pass stops as soon as every pool is in one block (the platform's pools share vertical caps
    within their first creators).
    """
    n_groups = capped.shape[0]
    parent = np.arange(n_pools + n_groups)
    has_pool = np.zeros(n_pools + n_groups, np.bool_)
    has_pool[:n_pools] = True
    apart = n_pools  # blocks holding a pool: at one, the rest of the pass cannot split them
    for i in range(pool.shape[0]):
        if apart == 1:
            return np.zeros(n_pools, np.int64), 1
        g = group[i]
        if not capped[g]:
            continue
        a = pool[i]
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        b = n_pools + g
        while parent[b] != b:
            parent[b] = parent[parent[b]]
            b = parent[b]
        if a != b:
            if has_pool[a] and has_pool[b]:
                apart -= 1
            if a < b:
                parent[b] = a
                has_pool[a] |= has_pool[b]
            else:
                parent[a] = b
                has_pool[b] |= has_pool[a]
    label = np.full(n_pools, -1, np.int64)
    root_label = np.full(n_pools + n_groups, -1, np.int64)
    blocks = 0
    for k in range(n_pools):
        r = k
        while parent[r] != r:
            r = parent[r]
        if root_label[r] < 0:
            root_label[r] = blocks
            blocks += 1
        label[k] = root_label[r]
    return label, blocks


@njit(cache=True, nogil=True)
def block_rows(
    pool: IntArray, group: IntArray, block: IntArray, blocks: int, n_groups: int
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """The creators of each block, in their order, and the groups each block's creators
    are in, in order of first appearance: a counting sort, two passes.

    Returns ``rows`` and ``row_start`` (block ``b``'s creators are
    ``rows[row_start[b]:row_start[b + 1]]``), and ``groups`` and ``group_start`` likewise.
    """
    n = pool.shape[0]
    count = np.zeros(blocks + 1, np.int64)
    for i in range(n):
        count[block[pool[i]] + 1] += 1
    for b in range(blocks):
        count[b + 1] += count[b]
    row_start = count.copy()
    rows = np.empty(n, np.int64)
    for i in range(n):
        b = block[pool[i]]
        rows[count[b]] = i
        count[b] += 1
    seen = np.full(n_groups, -1, np.int64)
    n_pairs = 0
    for b in range(blocks):
        for j in range(row_start[b], row_start[b + 1]):
            g = group[rows[j]]
            if seen[g] != b:
                seen[g] = b
                n_pairs += 1
    groups = np.empty(n_pairs, np.int64)
    group_start = np.zeros(blocks + 1, np.int64)
    seen[:] = -1
    at = 0
    for b in range(blocks):
        for j in range(row_start[b], row_start[b + 1]):
            g = group[rows[j]]
            if seen[g] != b:
                seen[g] = b
                groups[at] = g
                at += 1
        group_start[b + 1] = at
    return rows, row_start, groups, group_start
