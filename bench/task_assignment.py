"""Task assignment under slot limits: our dual prices against OR-Tools' exact min-cost flow.

``python -m bench task_assignment [--sizes C:T:L ...] [--exact-up-to N] [--k K] [--seed S]
[--max-iter I]``

Each size is ``C`` creators, ``T`` tasks and ``L`` candidate tasks per creator (the dense
layout :class:`guanghe.tasks.SlotAssignment` takes). Values are P(accept) x P(complete) x
reward-like draws (gamma, larger for better-paid tasks); capacities are drawn so that slots
are scarce (about half of the ``K x C`` offers fit), a quarter of each task's slots reserved for
novices (30 % of creators). Peers, side by side, per size:

- **ours**: :class:`~guanghe.tasks.SlotAssignment` (warm-started dual prices on the slot
  limits, Polyak steps, a feasible repair with a greedy fill, stopped by its duality-gap
  certificate), its time, its certified gap and the peak memory of the process;
- **OR-Tools min-cost flow** (exact: the linear programme is a flow, so its optimum is
  integral): source -> creator (capacity ``K``) -> task, through a task's *open* node for
  non-novices (capacity ``c_j - r_j``) -> task (capacity ``c_j``) -> sink, with an arc source ->
  sink at cost 0 for the offers not made; values scaled to integers (1/1,000 of a unit).
  Run on sizes with at most ``--exact-up-to`` creators (default 100,000);
- **top-k**: every creator's ``K`` best candidates, ignoring capacity, then cut to each
  task's limits in value order (what independent lists give once slots run out).

Columns: time (s, wall clock), value, value / exact optimum, offers made; ours also prints the
CPU time it took (on a shared machine the wall clock counts other processes' turns too).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
SCALE = 1_000  # values to integer costs for the flow solver


@dataclass(frozen=True)
class Instance:
    task: IntArray
    value: FloatArray
    novice: BoolArray
    capacity: IntArray
    reserved: IntArray


def instance(creators: int, tasks: int, width: int, k: int, seed: int) -> Instance:
    """A random instance; candidate tasks distinct per creator."""
    rng = np.random.default_rng(seed)
    # Distinct candidates per row: a random offset and stride modulo the number of tasks
    # (stride coprime to it), cheap at a million rows.
    start = rng.integers(0, tasks, creators)
    strides = np.array([s for s in range(1, 64) if np.gcd(s, tasks) == 1], dtype=np.int64)
    stride = strides[rng.integers(0, strides.shape[0], creators)]
    task = (start[:, None] + stride[:, None] * np.arange(width)[None, :]) % tasks
    pay = rng.gamma(2.0, 1.0, tasks)
    value = rng.gamma(2.0, 0.5, (creators, width)) * pay[task]
    novice = rng.random(creators) < 0.3
    demand = np.bincount(task.ravel(), minlength=tasks)
    capacity = np.maximum(1, (demand * k / width * rng.uniform(0.2, 0.8, tasks)).astype(np.int64))
    reserved = (capacity // 4).astype(np.int64)
    return Instance(task.astype(np.int64), value, novice, capacity, reserved)


def ours(inst: Instance, k: int, max_iter: int) -> tuple[float, float, int]:
    from guanghe.tasks.assignment import SlotAssignment

    started, cpu = time.perf_counter(), time.process_time()
    result = SlotAssignment(max_per_creator=k, max_iter=max_iter).solve(
        inst.task, inst.value, inst.novice, inst.capacity, inst.reserved
    )
    print(
        f"# ours: {time.process_time() - cpu:.1f} s of CPU (this process, all threads), "
        f"{result.iterations} iterations, certified gap {result.gap:.4%} "
        f"(value {result.value:,.1f} <= optimum <= dual bound {result.dual_bound:,.1f})"
    )
    return time.perf_counter() - started, result.value, int(result.chosen.sum())


def exact(inst: Instance, k: int) -> tuple[float, float, int]:
    """The optimum by OR-Tools' min-cost flow (see the module)."""
    from ortools.graph.python import min_cost_flow

    started = time.perf_counter()
    n, width = inst.task.shape
    m = inst.capacity.shape[0]
    source, sink = 0, 1
    creator_node = 2 + np.arange(n, dtype=np.int64)
    task_node = 2 + n + np.arange(m, dtype=np.int64)
    open_node = 2 + n + m + np.arange(m, dtype=np.int64)
    rows = np.repeat(np.arange(n), width)
    cols = inst.task.ravel()
    through = np.where(inst.novice[rows], task_node[cols], open_node[cols])
    tails = np.concatenate(
        [np.full(n, source), creator_node[rows], open_node, task_node, [source]]
    ).astype(np.int64)
    heads = np.concatenate([creator_node, through, task_node, np.full(m, sink), [sink]]).astype(
        np.int64
    )
    caps = np.concatenate(
        [
            np.full(n, k),
            np.ones(n * width, dtype=np.int64),
            inst.capacity - inst.reserved,
            inst.capacity,
            [n * k],
        ]
    ).astype(np.int64)
    costs = np.concatenate(
        [
            np.zeros(n, dtype=np.int64),
            -np.round(inst.value.ravel() * SCALE).astype(np.int64),
            np.zeros(2 * m + 1, dtype=np.int64),
        ]
    )
    flow = min_cost_flow.SimpleMinCostFlow()
    arcs = flow.add_arcs_with_capacity_and_unit_cost(tails, heads, caps, costs)
    flow.set_node_supply(source, n * k)
    flow.set_node_supply(sink, -n * k)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise RuntimeError(f"min-cost flow ended with status {status}")
    offer = arcs[n : n + n * width]
    used = flow.flows(offer) > 0
    value = float(inst.value.ravel()[used].sum())
    return time.perf_counter() - started, value, int(used.sum())


def top_k(inst: Instance, k: int) -> tuple[float, float, int]:
    """Independent top-k lists cut to each task's limits in value order."""
    started = time.perf_counter()
    n = inst.task.shape[0]
    best = np.argsort(-inst.value, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), best.shape[1])
    cols = best.ravel()
    task, value = inst.task[rows, cols], inst.value[rows, cols]
    novice = inst.novice[rows]
    order = np.lexsort((-value, task))
    task, value, novice = task[order], value[order], novice[order]
    starts = np.searchsorted(task, task, side="left")
    rank = np.arange(task.shape[0]) - starts
    open_rank = _rank(task, ~novice)
    keep = (rank < inst.capacity[task]) & (
        novice | (open_rank < (inst.capacity - inst.reserved)[task])
    )
    return time.perf_counter() - started, float(value[keep].sum()), int(keep.sum())


def _rank(groups: IntArray, counted: BoolArray) -> IntArray:
    """Per row, how many counted rows of its group come before it (groups sorted)."""
    c: IntArray = np.cumsum(counted, dtype=np.int64) - counted
    starts = np.searchsorted(groups, groups, side="left")
    return (c - c[starts]).astype(np.int64)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench task_assignment")
    parser.add_argument(
        "--sizes", nargs="+", default=["10000:1000:20", "100000:10000:20", "1000000:10000:20"]
    )
    parser.add_argument("--exact-up-to", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-iter", type=int, default=60, help="our most price iterations")
    args = parser.parse_args(argv)
    print(
        f"# {platform.node()} {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
        f"K={args.k}, our iterations {args.max_iter}"
    )
    header = f"{'size':>22} {'peer':>14} {'time s':>9} {'value':>16} {'/ exact':>8} {'offers':>10}"
    print(header)
    for size in args.sizes:
        creators, tasks, width = (int(x) for x in size.split(":"))
        inst = instance(creators, tasks, width, args.k, args.seed)
        label = f"{creators:,}x{tasks:,}x{width}"
        found = {"ours": ours(inst, args.k, args.max_iter), "top-k": top_k(inst, args.k)}
        memory = peak_rss_mb()
        if creators <= args.exact_up_to:
            found["OR-Tools flow"] = exact(inst, args.k)
        optimum = found["OR-Tools flow"][1] if "OR-Tools flow" in found else None
        for peer, (seconds, value, offers) in found.items():
            ratio = f"{value / optimum:8.4f}" if optimum else f"{'–':>8}"
            print(f"{label:>22} {peer:>14} {seconds:9.2f} {value:16,.1f} {ratio} {offers:10,}")
        print(f"{label:>22} peak RSS after ours and top-k: {memory:,.0f} MB")
    print(f"# load {os.getloadavg()[0]:.1f} at the end")
    return 0
