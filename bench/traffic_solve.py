"""Traffic allocation: our dual Newton solver against CVXPY+Clarabel, HiGHS, PDLP and L-BFGS-B.

``python -m bench traffic_solve [--sizes 10000 100000] [--alone 1000000 10000000]
[--skip PEER ...]``

Instances have 4 pools and 20 groups (half capped), heavy-tailed saturation and scale, 10 %
of creators with floors and 20 % with tight caps. Peers run side by side at ``--sizes``
(CVXPY+Clarabel only up to 20,000 creators); ``--alone`` sizes run our solver only, each in a
child process so its peak RSS is its own. Prints objective, gap to the best objective of the
row, max relative violation, seconds (median of up to 7 runs; one run for a peer that takes
over a second) and each solver's time over ours.
"""

from __future__ import annotations

import argparse
import multiprocessing
import platform
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from guanghe.traffic import AllocationProblem, TrafficAllocator

Array = np.ndarray[Any, np.dtype[np.float64]]
SEGMENTS = 8


def instance(n: int, seed: int = 0, pools: int = 4, groups: int = 20) -> AllocationProblem:
    """A random instance of ``n`` creators (see the module docstring)."""
    rng = np.random.default_rng(seed)
    floor = np.where(rng.random(n) < 0.1, np.round(rng.uniform(0, 200, n)), 0.0)
    cap = floor + np.where(rng.random(n) < 0.2, np.round(rng.uniform(1, 2000, n)), 1e5)
    total = 300.0 * n
    return AllocationProblem(
        creator_id=np.arange(n, dtype=np.int64),
        pool=rng.integers(0, pools, n),
        group=rng.integers(0, groups, n),
        weight=np.where(rng.random(n) < 0.01, 0.0, rng.uniform(0.5, 2.0, n)),
        saturation=rng.pareto(1.5, n) * 100 + 1,
        scale=rng.lognormal(6, 1, n),
        floor=floor,
        cap=cap,
        pool_names=tuple(f"pool{k}" for k in range(pools)),
        pool_budgets=total / pools * rng.uniform(0.5, 1.5, pools),
        group_names=tuple(f"group{k}" for k in range(groups)),
        group_caps=np.where(
            rng.random(groups) < 0.5, total / groups * rng.uniform(0.3, 1, groups), np.inf
        ),
    )


def objective(p: AllocationProblem, x: Array) -> float:
    return float(np.sum(p.weight * p.saturation * -np.expm1(-x / p.scale)))


def violation(p: AllocationProblem, x: Array) -> float:
    worst = float(np.max(np.maximum(p.floor - x, x - p.cap) / np.maximum(p.cap, 1.0)))
    for codes, limits in ((p.pool, p.pool_budgets), (p.group, p.group_caps)):
        used = np.bincount(codes, x, limits.size)
        ok = np.isfinite(limits)
        worst = max(worst, float(np.max((used[ok] - limits[ok]) / np.maximum(limits[ok], 1))))
    return max(worst, 0.0)


def constraint_matrix(p: AllocationProblem, columns: np.ndarray[Any, Any]) -> tuple[Any, Array]:
    """Sparse rows (pools, capped groups) over ``columns`` creators' variables, and limits."""
    from scipy import sparse

    capped = np.flatnonzero(np.isfinite(p.group_caps))
    gmap = np.full(len(p.group_names), -1)
    gmap[capped] = len(p.pool_names) + np.arange(capped.size)
    rows = np.concatenate([p.pool[columns], gmap[p.group[columns]]])
    cols = np.concatenate([np.arange(columns.size)] * 2)
    keep = rows >= 0
    shape = (len(p.pool_names) + capped.size, columns.size)
    a = sparse.csr_matrix((np.ones(keep.sum()), (rows[keep], cols[keep])), shape=shape)
    floors = np.bincount(p.pool, p.floor, len(p.pool_names))
    gfloors = np.bincount(p.group, p.floor, len(p.group_names))[capped]
    return a, np.concatenate([p.pool_budgets - floors, p.group_caps[capped] - gfloors])


def ours(p: AllocationProblem) -> Array:
    return TrafficAllocator().solve(p).relaxed


def clarabel(p: AllocationProblem) -> Array:
    import cvxpy

    cp: Any = cvxpy

    unit = float(np.median(p.scale))  # impressions rescaled, as Clarabel needs
    a, rhs = constraint_matrix(p, np.arange(p.n_creators))
    d = cp.Variable(p.n_creators)
    span = (p.cap - p.floor) / unit
    gain = p.weight * p.saturation * np.exp(-p.floor / p.scale)
    problem = cp.Problem(
        cp.Maximize(gain @ (1 - cp.exp(-cp.multiply(unit / p.scale, d)))),
        [d >= 0, d <= span, a @ d <= rhs / unit],
    )
    problem.solve(solver=cp.CLARABEL)
    return np.clip(p.floor + unit * np.asarray(d.value), p.floor, p.cap)


def pwl_lp(p: AllocationProblem) -> tuple[Array, Any, Array, Array, Array]:
    """8 equal segments on ``[floor, min(cap, floor + 6 s)]``: costs, rows, limits, bounds."""
    top = np.minimum(p.cap, p.floor + 6 * p.scale)
    width = (top - p.floor) / SEGMENTS
    k = np.arange(SEGMENTS)
    start = p.floor[:, None] + width[:, None] * k
    gain = p.weight * p.saturation
    f = lambda x: gain[:, None] * -np.expm1(-x / p.scale[:, None])  # noqa: E731
    slope = (f(start + width[:, None]) - f(start)) / np.maximum(width[:, None], 1e-300)  # type: ignore[no-untyped-call]
    a, rhs = constraint_matrix(p, np.repeat(np.arange(p.n_creators), SEGMENTS))
    return -slope.ravel(), a, rhs, np.zeros(slope.size), np.repeat(width, SEGMENTS)


def highs(p: AllocationProblem) -> Array:
    from scipy.optimize import linprog

    c, a, rhs, low, high = pwl_lp(p)
    res: Any = linprog(c, A_ub=a, b_ub=rhs, bounds=np.c_[low, high], method="highs")
    return np.asarray(p.floor + res.x.reshape(-1, SEGMENTS).sum(axis=1), dtype=np.float64)


def pdlp(p: AllocationProblem) -> Array:
    from ortools.pdlp import solve_log_pb2, solvers_pb2
    from ortools.pdlp.python import pdlp as ortools_pdlp

    c, a, rhs, low, high = pwl_lp(p)
    lp = ortools_pdlp.QuadraticProgram()
    lp.objective_vector = c
    lp.constraint_matrix = a.tocsc()
    lp.constraint_lower_bounds = np.full(rhs.size, -np.inf)
    lp.constraint_upper_bounds = rhs
    lp.variable_lower_bounds = low
    lp.variable_upper_bounds = high
    params = solvers_pb2.PrimalDualHybridGradientParams()
    params.termination_criteria.simple_optimality_criteria.eps_optimal_relative = 1e-8
    result = ortools_pdlp.primal_dual_hybrid_gradient(lp, params)
    assert result.solve_log.termination_reason == solve_log_pb2.TERMINATION_REASON_OPTIMAL
    x = np.clip(result.primal_solution, low, high).reshape(-1, SEGMENTS).sum(axis=1)
    return np.asarray(p.floor + x, dtype=np.float64)


def lbfgs_dual(p: AllocationProblem) -> Array:
    from scipy.optimize import minimize

    gain = p.weight * p.saturation
    capped = np.flatnonzero(np.isfinite(p.group_caps))
    rhs = np.concatenate([p.pool_budgets, p.group_caps[capped]])
    gmap = np.full(len(p.group_names), -1)
    gmap[capped] = np.arange(capped.size)
    n_pools = len(p.pool_names)

    def primal(y: Array) -> tuple[Array, Array]:
        mu = np.r_[y[n_pools:], 0.0][gmap[p.group]]
        q = y[:n_pools][p.pool] + mu
        with np.errstate(divide="ignore"):
            x = np.clip(p.scale * np.log(gain / (p.scale * q)), p.floor, p.cap)
        return x, q

    def dual(y: Array) -> tuple[float, Array]:
        x, q = primal(y)
        used = np.concatenate(
            [np.bincount(p.pool, x, n_pools), np.bincount(p.group, x, len(p.group_names))[capped]]
        )
        value = float(np.sum(gain * -np.expm1(-x / p.scale) - q * x) + y @ rhs)
        return value, rhs - used

    y0 = np.full(rhs.size, float(np.median(gain / p.scale)) * 0.1)
    res = minimize(
        dual,
        y0,
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * rhs.size,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000},
    )
    return primal(res.x)[0]


PEERS: dict[str, tuple[Callable[[AllocationProblem], Array], int]] = {
    "ours (dual Newton)": (ours, 10**9),
    "CVXPY + Clarabel": (clarabel, 20_000),
    "HiGHS (8-seg PWL)": (highs, 10**9),
    "OR-Tools PDLP (8-seg PWL)": (pdlp, 10**9),
    "L-BFGS-B dual": (lbfgs_dual, 10**9),
}


def timed(run: Callable[[AllocationProblem], Array], p: AllocationProblem) -> tuple[Array, float]:
    """The result and the median wall time of up to 7 runs (one run if it takes over 1 s)."""
    times: list[float] = []
    while True:
        started = time.perf_counter()
        x = run(p)
        times.append(time.perf_counter() - started)
        if len(times) == 7 or sum(times) > 1.0:
            return x, float(np.median(times))


def side_by_side(n: int, skip: frozenset[str] = frozenset()) -> None:
    p = instance(n)
    ours(instance(100))  # Numba compile (cached on disk after the first run)
    rows: list[tuple[str, float | None, float | None, float | None]] = []
    for name, (run, limit) in PEERS.items():
        if n > limit or name.split()[0] in skip:
            rows.append((name, None, None, None))
            continue
        try:
            x, seconds = timed(run, p)
        except Exception as exc:  # a peer that fails is reported, not fatal
            print(f"{name} failed at {n:,}: {type(exc).__name__}: {exc}")
            rows.append((name, None, None, None))
            continue
        rows.append((name, objective(p, x), violation(p, x), seconds))
    best = max(r[1] for r in rows if r[1] is not None)
    own = rows[0][3] or float("nan")
    print(f"\n{n:,} creators (seconds: median of up to 7 runs)")
    print(
        f"{'solver':<28}{'objective':>20}{'gap to best':>13}{'violation':>11}{'seconds':>9}"
        f"{'x ours':>8}"
    )
    for name, obj, viol, sec in rows:
        if obj is None or sec is None:
            print(f"{name:<28}{'skipped or failed':>20}")
            continue
        print(
            f"{name:<28}{obj:>20.6f}{(best - obj) / best:>13.1e}{viol:>11.1e}{sec:>9.4f}"
            f"{sec / own:>8.1f}"
        )


def alone(n: int) -> None:
    p = instance(n)
    ours(instance(100))
    started = time.perf_counter()
    r = TrafficAllocator().solve(p)
    wall = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{n:>12,}{wall:>9.2f}{r.seconds:>9.2f}{rss:>10.0f}{r.duality_gap:>12.1e}"
        f"{r.max_violation:>11.1e}{r.iterations:>7}"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench traffic_solve")
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--alone", type=int, nargs="*", default=[1_000_000, 10_000_000])
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=sorted({name.split()[0] for name in list(PEERS)[1:]}),
        help="peers not to run (by first word; HiGHS takes minutes at 100,000)",
    )
    args = parser.parse_args(argv)
    print(f"traffic_solve on {platform.machine()} {platform.system()}, {time.strftime('%Y-%m-%d')}")
    for n in args.sizes:
        side_by_side(n, frozenset(args.skip))
    if args.alone:
        print(
            f"\n{'creators':>12}{'wall s':>9}{'solve s':>9}{'RSS MB':>10}{'rel gap':>12}"
            f"{'violation':>11}{'passes':>7}"
        )
    context = multiprocessing.get_context("spawn")
    for n in args.alone:
        child = context.Process(target=alone, args=(n,))
        child.start()
        child.join()
    return 0
