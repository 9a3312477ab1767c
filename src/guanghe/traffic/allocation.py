"""The allocation solver: exact prices by a dual Newton method, then whole impressions."""

from __future__ import annotations

import math
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.traffic import _kernels
from guanghe.traffic._kernels import Creators
from guanghe.traffic.curves import dual_on_curves
from guanghe.traffic.dual import CellLayout, CellOracle, solve_dual
from guanghe.traffic.passes import SERIAL, Passes, available_threads, prepare, recover
from guanghe.traffic.passes import whole_objective as passes_whole_objective
from guanghe.traffic.problem import AllocationProblem
from guanghe.traffic.rounding import round_whole, whole_limits

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
#: The dual is first solved on a sample: at most every this-many-th creator of a cell ...
SAMPLE_EVERY = 16
#: ... and at least this many of each cell.
MIN_SAMPLED = 48
#: The curves' sample only brackets each cell's log price: at most one creator in this many.
CURVES_SAMPLE_EVERY = 64


@dataclass(frozen=True, slots=True)
class Allocation:
    """A solved allocation.

    ``impressions`` (int64, shape ``(n,)``) are whole and break no budget, cap or floor;
    ``relaxed`` is the exact fractional optimum they round. ``objective`` and
    ``dual_objective`` belong to ``relaxed``; ``duality_gap`` is their difference relative to
    the dual objective, ``max_violation`` the largest excess of ``relaxed`` over a pool budget
    or group cap relative to that budget (at least 1 impression).
    """

    impressions: IntArray
    relaxed: FloatArray
    objective: float
    rounded_objective: float
    dual_objective: float
    duality_gap: float
    max_violation: float
    pool_prices: FloatArray
    group_prices: FloatArray
    iterations: int
    seconds: float


class TrafficAllocator:
    """Split impression budgets over creators to maximise predicted fan gain.

    Solves ``max sum_i w_i a_i (1 - exp(-x_i / s_i))`` subject to pool budgets, group caps and
    ``floor <= x <= cap``. The Lagrangian separates over creators; with pool and group prices
    ``lambda, mu`` each creator takes ``clip(s ln(w a / (s q)), floor, cap)`` at
    ``q = lambda_pool + mu_group``. Each cell's impressions are piecewise linear in its log
    price, so the dual (one variable per pool and capped group) is solved exactly on per-cell
    curves gathered in one pass (:mod:`.curves`; on large problems only near each cell's
    price, bracketed on a sample), then one exact pass checks the prices (polishing them
    where the curves' rounding left a constraint off by more than ``tol``) and recovers the
    primal: 2 to 4 passes over the creators whatever their distributions. Where that does
    not reach ``tol``, a safeguarded projected Newton method whose every step is one fused
    pass (:func:`.dual.solve_dual`, first solved on a sample of each cell) solves it. Then
    one O(n) rounding. Memory is about 12 arrays of ``n`` floats. The passes over all the
    creators run span by span on ``threads`` threads (:mod:`.passes`): the same answer
    whatever their number.

    Parameters
    ----------
    tol : float
        Stop when every constraint's projected dual gradient is below ``tol`` times its
        right-hand side.
    max_iter : int
        Most Newton iterations per phase of the projected Newton fallback.
    threads : int or None
        Threads the passes over the creators use where a problem has more than one span of
        them (:data:`.passes.SPAN_ROWS`); None: the CPUs this process may run on.
    """

    def __init__(
        self, *, tol: float = 1e-12, max_iter: int = 100, threads: int | None = None
    ) -> None:
        self.tol = tol
        self.max_iter = max_iter
        self.threads = threads

    def solve(self, problem: AllocationProblem) -> Allocation:
        """Solve ``problem``; :class:`~guanghe.errors.InvalidInput` if it is infeasible.

        Pools that share no capped group are independent blocks (an uncapped group has no
        price, so it joins nothing): each block is solved apart over its own creators, as a
        problem of its pools and groups alone would be, so a problem of many pools costs what
        a solve per pool costs and allocates the same. ``iterations`` is then the most any
        block took.
        """
        if not (0 < self.tol < 1) or self.max_iter < 1:
            raise InvalidInput("tol must lie in (0, 1) and max_iter be at least 1")
        threads = available_threads() if self.threads is None else self.threads
        if threads < 1:
            raise InvalidInput("threads must be at least 1")
        started = time.perf_counter()
        check_feasible(problem)
        spans = threads > 1 and problem.n_creators > Passes().rows  # more than one span
        executor = ThreadPoolExecutor(threads, thread_name_prefix="traffic-pass") if spans else None
        with executor or nullcontext():
            passes = Passes(executor)
            blocks = independent_blocks(problem)
            if blocks is None:
                solved = self._solve_block(problem, passes)
            else:
                solved = _join(
                    problem,
                    [(block, self._solve_block(block.problem, passes)) for block in blocks],
                )
        return replace(solved, seconds=time.perf_counter() - started)

    def _solve_block(self, problem: AllocationProblem, passes: Passes) -> Allocation:
        p = problem
        layout = CellLayout(len(p.pool_names), len(p.group_names), p.pool_budgets, p.group_caps)
        cell, lc, wa, start, count = prepare(
            p.weight,
            p.saturation,
            p.scale,
            (p.pool, p.group, layout.n_pools, layout.n_groups),
            passes,
        )
        creators = Creators(cell, lc, p.scale, p.floor, p.cap, wa)
        exact = dual_on_curves(
            creators,
            layout,
            start_log_price=start,
            tol=self.tol,
            sample=sample_of(cell, count, layout, CURVES_SAMPLE_EVERY),
            passes=passes,
        )
        if exact is not None:
            dual, x, objective = exact
        else:
            gains = _kernels.bound_gains(wa, p.scale, p.floor, p.cap)
            dual = solve_dual(
                cell_oracle(creators, gains),
                layout,
                start_log_price=start,
                tol=self.tol,
                max_iter=self.max_iter,
                model=sampled_oracle(creators, count, gains, layout),
            )
            price = dual.cell_price
            x, objective, *_ = recover(creators, price, _kernels.log_prices(price), passes)
        impressions, used = whole_impressions(p, x, (wa, lc), passes)
        rounded = passes_whole_objective(impressions, wa, p.scale, passes)
        gap = (dual.dual_objective - objective) / max(abs(dual.dual_objective), 1e-300)
        return Allocation(
            impressions=impressions,
            relaxed=x,
            objective=float(objective),
            rounded_objective=rounded,
            dual_objective=dual.dual_objective,
            duality_gap=float(gap),
            max_violation=max_violation(p, used),
            pool_prices=dual.pool_price,
            group_prices=dual.group_price,
            iterations=dual.iterations,
            seconds=0.0,
        )


@dataclass(frozen=True, slots=True)
class Block:
    """An independent part of a problem: its creators' rows, its pools and groups (indices
    into the whole problem's, ascending) and the problem of those alone."""

    rows: IntArray
    pools: IntArray
    groups: IntArray
    problem: AllocationProblem


def independent_blocks(problem: AllocationProblem) -> list[Block] | None:
    """The blocks of pools joined by shared capped groups that have creators, each as a
    problem of its own (creators in their order, pools and groups in theirs); None when
    fewer than two blocks have creators. O(n) (:func:`~guanghe.traffic._kernels.pool_blocks`,
    :func:`~guanghe.traffic._kernels.block_rows`)."""
    p = problem
    n_pools, n_groups = len(p.pool_names), len(p.group_names)
    if n_pools < 2 or p.n_creators == 0:
        return None
    capped = np.isfinite(p.group_caps)
    block, count = _kernels.pool_blocks(p.pool, p.group, capped, n_pools)
    if count < 2:
        return None
    rows, row_start, groups, group_start = _kernels.block_rows(
        p.pool, p.group, block, count, n_groups
    )
    filled = np.flatnonzero(row_start[1:] > row_start[:-1])
    if filled.size < 2:
        return None
    pool_order = np.argsort(block, kind="stable")
    pool_start = np.zeros(count + 1, np.int64)
    np.cumsum(np.bincount(block, minlength=count), out=pool_start[1:])
    local_pool = np.empty(n_pools, np.int64)
    local_pool[pool_order] = np.arange(n_pools) - pool_start[block[pool_order]]
    local_group = np.empty(n_groups, np.int64)
    blocks = []
    for b in filled.tolist():
        r = rows[row_start[b] : row_start[b + 1]]
        pools = pool_order[pool_start[b] : pool_start[b + 1]]
        in_block = np.sort(groups[group_start[b] : group_start[b + 1]])
        local_group[in_block] = np.arange(in_block.size)
        sub = AllocationProblem(
            creator_id=p.creator_id[r],
            pool=local_pool[p.pool[r]],
            group=local_group[p.group[r]],
            weight=p.weight[r],
            saturation=p.saturation[r],
            scale=p.scale[r],
            floor=p.floor[r],
            cap=p.cap[r],
            pool_names=tuple(p.pool_names[k] for k in pools.tolist()),
            pool_budgets=p.pool_budgets[pools],
            group_names=tuple(p.group_names[g] for g in in_block.tolist()),
            group_caps=p.group_caps[in_block],
        )
        blocks.append(Block(r, pools, in_block, sub))
    return blocks


def _join(problem: AllocationProblem, solved: list[tuple[Block, Allocation]]) -> Allocation:
    """The allocation of the whole problem from those of its blocks (a pool or capped group
    without creators is in no block: its price is zero)."""
    p = problem
    impressions = np.zeros(p.n_creators, np.int64)
    relaxed = np.zeros(p.n_creators)
    pool_prices = np.zeros(len(p.pool_names))
    group_prices = np.zeros(len(p.group_names))
    capped = np.isfinite(p.group_caps)
    for block, r in solved:
        impressions[block.rows] = r.impressions
        relaxed[block.rows] = r.relaxed
        pool_prices[block.pools] = r.pool_prices
        own = capped[block.groups]  # an uncapped group may span blocks; its price is zero
        group_prices[block.groups[own]] = r.group_prices[own]
    objective = math.fsum(r.objective for _, r in solved)
    dual_objective = math.fsum(r.dual_objective for _, r in solved)
    return Allocation(
        impressions=impressions,
        relaxed=relaxed,
        objective=objective,
        rounded_objective=math.fsum(r.rounded_objective for _, r in solved),
        dual_objective=dual_objective,
        duality_gap=(dual_objective - objective) / max(abs(dual_objective), 1e-300),
        max_violation=max(r.max_violation for _, r in solved),
        pool_prices=pool_prices,
        group_prices=group_prices,
        iterations=max(r.iterations for _, r in solved),
        seconds=0.0,
    )


def load_kernels() -> None:
    """Load every compiled kernel into this process (Numba caches them on disk; a machine's
    first call compiles them) by solving a tiny problem that runs each one, so that a timed
    solve does not pay for it: about 0.5 s, once per process. Its two pools share no capped
    group, so the split into independent blocks runs too. Then the same creators as one
    block (whose rounding hands units out), as built in memory and read-only as
    :func:`.files.read_columns` gives them (Numba compiles a kernel apart for read-only
    arrays: else the first solve of a problem read from files loads those)."""
    tiny = AllocationProblem(
        creator_id=np.array([4, 1, 3, 2], np.int64),
        pool=np.array([0, 0, 1, 1], np.int64),
        group=np.array([0, 0, 1, 1], np.int64),
        weight=np.ones(4),
        saturation=np.array([10.0, 20.0, 30.0, 0.0]),
        scale=np.array([3.0, 5.0, 7.0, 1.0]),
        floor=np.array([0.0, 1.0, 0.0, 0.0]),
        cap=np.full(4, 10.0),
        pool_names=("pool", "other"),
        pool_budgets=np.array([10.0, 10.0]),
        group_names=("a", "b"),
        group_caps=np.array([6.5, 2.5]),
    )
    TrafficAllocator().solve(tiny)
    read: dict[str, Any] = {c: _read_only(getattr(tiny, c)) for c in FILE_READ_ONLY}
    joined = np.array([0, 0, 0, 1], np.int64)  # one block: its columns reach the kernels whole
    for columns in ({}, read):
        TrafficAllocator().solve(replace(tiny, group=joined, **columns))


#: The columns of a problem read from files that come as read-only arrays (pyarrow's).
FILE_READ_ONLY = ("creator_id", "weight", "saturation", "scale", "floor", "cap")


def _read_only(values: NDArray[Any]) -> NDArray[Any]:
    view = values.view()
    view.flags.writeable = False
    return view


def check_feasible(problem: AllocationProblem) -> None:
    """Raise :class:`InvalidInput` naming the first pool or group whose floors exceed it."""
    p = problem
    needs = _kernels.floor_sums(p.floor, p.pool, p.group, p.pool_budgets.size, p.group_caps.size)
    for kind, need, limits, names in (
        ("pool", needs[0], p.pool_budgets, p.pool_names),
        ("group", needs[1], p.group_caps, p.group_names),
    ):
        over = np.flatnonzero(need > limits)
        if over.size:
            k = over[0]
            what = "budget" if kind == "pool" else "cap"
            raise InvalidInput(
                f"infeasible: floors of {kind} {names[k]!r} sum to {need[k]:.6g} impressions, "
                f"more than its {what} of {limits[k]:.6g}"
            )


def whole_impressions(
    problem: AllocationProblem,
    x: FloatArray,
    gain: tuple[FloatArray, FloatArray],
    passes: Passes = SERIAL,
) -> tuple[IntArray, tuple[FloatArray, FloatArray, float]]:
    """Round the fractional optimum ``x`` to whole impressions (see :mod:`.rounding`);
    ``gain`` is each creator's ``w * a`` and ``ln c`` (:func:`.passes.prepare`).
    Returns them and the usage of ``x`` measured on the way (:func:`.rounding.round_whole`)."""
    p = problem
    limits = whole_limits(p.pool_budgets, p.group_caps)
    names = (p.pool_names, p.group_names)
    membership = (p.pool, p.group)
    wa, lc = gain
    return round_whole(
        x, p.floor, p.cap, p.creator_id, membership, limits, names, (wa, p.scale, lc), passes
    )


def max_violation(problem: AllocationProblem, used: tuple[FloatArray, FloatArray, float]) -> float:
    """Largest excess of an allocation over a budget, cap, floor or creator cap, relative to
    it, from its ``used`` impressions per pool and group and its largest excess over a
    creator's floor or cap (:func:`.rounding.round_whole` measures them)."""
    p = problem
    used_pool, used_group, worst = used
    for sums, limits in ((used_pool, p.pool_budgets), (used_group, p.group_caps)):
        finite = np.isfinite(limits)
        excess = (sums[finite] - limits[finite]) / np.maximum(limits[finite], 1.0)
        worst = max(worst, float(excess.max(initial=0.0)))
    return float(worst)


def cell_oracle(creators: Creators, gains: tuple[FloatArray, FloatArray]) -> CellOracle:
    """The dual sums per cell at given cell prices, one fused pass over the creators
    (:func:`~guanghe.traffic._kernels.cell_sums`, ``gains`` at their floors and caps)."""

    def oracle(price: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        result: tuple[FloatArray, FloatArray, FloatArray] = _kernels.cell_sums(
            creators, gains, price
        )
        return result

    return oracle


def sample_of(
    cell: IntArray, count: IntArray, layout: CellLayout, most: int = SAMPLE_EVERY
) -> tuple[IntArray, FloatArray] | None:
    """Rows of a sample of each cell and the cell's count over its sampled count: every k-th
    of a cell's creators, k up to ``most`` while at least :data:`MIN_SAMPLED` remain; None
    when that would keep more than half of all creators. ``count`` is each cell's creators
    (:func:`.passes.prepare` counts them)."""
    every = np.clip(count // MIN_SAMPLED, 1, most)
    take = _kernels.sample_rows(cell, every)
    if 2 * take.size > cell.size:
        return None
    ratio = count / np.maximum(np.bincount(cell[take], minlength=layout.n_cells), 1)
    return take, ratio


def sampled_oracle(
    creators: Creators,
    count: IntArray,
    gains: tuple[FloatArray, FloatArray],
    layout: CellLayout,
) -> CellOracle | None:
    """The cell sums over a sample of the creators (:func:`sample_of`, ``count`` creators in
    each cell), scaled up per cell to its full count; None without a sample."""
    sampled = sample_of(creators.cell, count, layout)
    if sampled is None:
        return None
    take, ratio = sampled
    sample = cell_oracle(creators.take(take), (gains[0][take], gains[1][take]))

    def model(price: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        total, slope, conj = sample(price)
        return total * ratio, slope * ratio, conj * ratio

    return model
