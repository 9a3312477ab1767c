"""Traffic allocation: our dual Newton solver against CVXPY+Clarabel, HiGHS, PDLP and L-BFGS-B.

``python -m bench traffic_solve [--sizes 10000 100000] [--alone 1000000 10000000]
[--skip PEER ...] [--shape bench programme ...] [--files 10000000] [--repeat 3]``

Instances have 4 pools and 20 groups (half capped), heavy-tailed saturation and scale, 10 %
of creators with floors and 20 % with tight caps. Peers run side by side at ``--sizes``
(CVXPY+Clarabel only up to 20,000 creators); ``--alone`` sizes run our solver only, each in a
child process so its peak RSS is its own. Prints objective, gap to the best objective of the
row, max relative violation, seconds (median of up to 7 runs; one run for a peer that takes
over a second) and each solver's time over ours.

``--shape`` draws the ``--alone`` instances from other generators too (``_traffic_shapes``:
distributions independent of the benchmark's). ``--files N`` times the whole command
``guanghe traffic solve`` on a fresh instance of ``N`` creators of each shape, written as the
files an operator would give it (creators Parquet with string pools and groups, budgets JSON):
wall time from start to exit, the child's peak RSS, and the phases of its summary line
(median of ``--repeat`` runs).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from bench._traffic_shapes import SHAPES
from guanghe.traffic import AllocationProblem, TrafficAllocator
from guanghe.traffic.allocation import load_kernels

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


def alone(n: int, shape: str = "instance") -> None:
    p = instance(n) if shape == "instance" else SHAPES[shape](n, np.random.default_rng(n + 7))
    load_kernels()
    started, cpu = time.perf_counter(), time.process_time()
    r = TrafficAllocator().solve(p)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{shape:<10}{n:>12,}{wall:>9.2f}{r.seconds:>9.2f}{cpu:>8.2f}{rss:>10.0f}"
        f"{r.duality_gap:>12.1e}{r.max_violation:>11.1e}{r.iterations:>7}"
        f"{r.rounded_objective:>20.4f}",
        flush=True,
    )


def write_files(p: AllocationProblem, folder: Path) -> tuple[Path, Path]:
    """``p`` as an operator's files: creators Parquet (string pools and groups), budgets JSON."""
    pools = pa.DictionaryArray.from_arrays(pa.array(p.pool.astype(np.int32)), p.pool_names)
    groups = pa.DictionaryArray.from_arrays(pa.array(p.group.astype(np.int32)), p.group_names)
    table = pa.table(
        {
            "creator_id": p.creator_id,
            "pool": pools.cast(pa.string()),
            "group": groups.cast(pa.string()),
            **{c: getattr(p, c) for c in ("weight", "saturation", "scale", "floor", "cap")},
        }
    )
    creators, budgets = folder / "creators.parquet", folder / "budgets.json"
    pq.write_table(table, creators)
    capped = np.isfinite(p.group_caps)
    budgets.write_text(
        json.dumps(
            {
                "pools": dict(zip(p.pool_names, p.pool_budgets.tolist(), strict=True)),
                "groups": {
                    g: c
                    for g, c, ok in zip(p.group_names, p.group_caps.tolist(), capped, strict=True)
                    if ok
                },
            }
        )
    )
    return creators, budgets


def solve_command(folder: Path, creators: Path, budgets: Path) -> tuple[float, float, Any]:
    """Run ``guanghe traffic solve`` in a child: wall seconds, peak RSS (MB), summary line.

    The child may write bytecode caches (``PYTHONDONTWRITEBYTECODE`` unset), as an installed
    command has them: without, each start compiles every imported module (seconds)."""
    command = [sys.executable, "-m", "guanghe", "traffic", "solve", "--creators"]
    command += [str(creators), "--budgets", str(budgets), "--out", str(folder / "r.parquet")]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"guanghe traffic solve failed: {out}")
    return wall, usage.ru_maxrss / 1024, json.loads(out.splitlines()[-1])


def end_to_end(n: int, shape: str, repeat: int) -> None:
    """Time ``guanghe traffic solve`` on a fresh ``shape`` instance of ``n`` creators, after
    one untimed run on 1,000 creators (bytecode and kernel caches in place)."""
    with tempfile.TemporaryDirectory(prefix="guanghe-solve-") as tmp:
        folder = Path(tmp)
        small = write_files(SHAPES[shape](1_000, np.random.default_rng(1)), folder)
        solve_command(folder, *small)
        creators, budgets = write_files(SHAPES[shape](n, np.random.default_rng(n + 11)), folder)
        runs = [solve_command(folder, creators, budgets) for _ in range(repeat)]
        wall = float(np.median([r[0] for r in runs]))
        rss = max(r[1] for r in runs)
        phases = {
            k: float(np.median([r[2]["phases"][k] for r in runs])) for k in runs[0][2]["phases"]
        }
        last = runs[-1][2]
        shown = "  ".join(f"{k} {v:.2f}" for k, v in phases.items())
        print(
            f"{shape:<10}{n:>12,}{wall:>9.2f}{rss:>9.0f}{last['duality_gap']:>10.1e}"
            f"{last['max_violation']:>10.1e}{last['iterations']:>7}  {shown}",
            flush=True,
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
    parser.add_argument(
        "--shape",
        nargs="*",
        default=["instance"],
        choices=["instance", *SHAPES],
        help="generators of the --alone and --files instances (instance: the benchmark's own)",
    )
    parser.add_argument("--files", type=int, nargs="*", default=[])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(
        f"traffic_solve on {platform.machine()} {platform.system()}, {os.cpu_count()} CPUs, "
        f"{time.strftime('%Y-%m-%d')}, load average {os.getloadavg()[0]:.1f}"
    )
    for n in args.sizes:
        side_by_side(n, frozenset(args.skip))
    if args.alone:
        print(
            f"\n{'shape':<10}{'creators':>12}{'wall s':>9}{'solve s':>9}{'cpu s':>8}{'RSS MB':>10}"
            f"{'rel gap':>12}{'violation':>11}{'passes':>7}{'whole objective':>20}"
        )
    context = multiprocessing.get_context("spawn")
    for n in args.alone:
        for shape in args.shape:
            child = context.Process(target=alone, args=(n, shape))
            child.start()
            child.join()
    if args.files:
        print(
            f"\nguanghe traffic solve, end to end (median of {args.repeat})\n"
            f"{'shape':<10}{'creators':>12}{'wall s':>9}{'RSS MB':>9}{'rel gap':>10}"
            f"{'violation':>10}{'passes':>7}  phases (s)"
        )
    for n in args.files:
        for shape in args.shape:
            end_to_end(n, "bench" if shape == "instance" else shape, args.repeat)
    return 0
