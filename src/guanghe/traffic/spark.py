"""The allocation solver on Spark: per-partition primal passes, driver-side dual steps.

For creator sets beyond one machine. Creators are a Spark DataFrame with the columns of the
creators Parquet file (``creator_id, pool, group, weight, saturation, scale, floor, cap``; see
:mod:`.files`). Every dual step is one Spark job: each partition runs the same fused Numba pass
as the in-process solver (:func:`._kernels.cell_sums`) and sends back one row per
(pool, group) cell; the driver adds the partial sums and takes the step of
:func:`.dual.solve_dual`, which first solves the dual on the driver over a sample of the
creators (every one of them on a small problem, :func:`_model`), so that the cluster's steps
start near the prices. The primal is recovered per partition at the final prices.

Whole impressions: when the creators fit on the driver (``driver_limit``), the relaxed optimum
is collected and rounded exactly as in process (:func:`.rounding.round_allocation`, ties in
``creator_id`` order). Beyond that the rounding is distributed and budget-safe by
construction: each partition floors its creators, the driver turns the per (partition, cell)
totals into whole unit quotas whose sums never exceed a pool budget or group cap (taking units
back first where floors at whole impressions overshoot, then handing out leftover units by the
largest fractional remainders), and each partition rounds within its quotas with
:func:`.rounding.round_allocation`. The distributed result may differ from the driver's in
where the last leftover units go, never in feasibility.

PySpark is imported only when a session is used; callers bring their own session.
"""

from __future__ import annotations

import gc
import math
import time
import uuid
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from guanghe.errors import InvalidInput
from guanghe.traffic import _kernels, passes
from guanghe.traffic.allocation import Allocation, cell_oracle
from guanghe.traffic.dual import CellLayout, CellOracle, solve_dual
from guanghe.traffic.problem import AllocationProblem
from guanghe.traffic.rounding import (
    NO_CAP,
    check_whole_feasible,
    round_allocation,
    whole_limits,
)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

_FLOATS = ("weight", "saturation", "scale", "floor", "cap")
#: Most creators the driver solves the dual on before the cluster's passes (:func:`_model`).
MODEL_ROWS = 200_000
_PREPARED = (
    "creator_id long, pool long, group long, cell long, lc double, wa double, scale double, "
    "lo double, hi double, f_lo double, f_hi double, bad long"
)
_SUMS = "cell long, total double, slope double, conj double"
_RELAXED = (
    "part long, creator_id long, pool long, group long, cell long, x double, wa double, "
    "scale double, low long, high long"
)
_IMPRESSIONS = "creator_id long, x double, impressions long"
_BAD = (
    "a null or unknown pool or group",
    "a value that is not finite",
    "a negative value, a scale <= 0 or a cap below its floor",
    "no creator_id",
)


@dataclass(frozen=True, slots=True)
class SparkAllocation:
    """A solved allocation on Spark; the fields of :class:`.Allocation` plus the rows.

    ``frame`` is a Spark DataFrame ``(creator_id, x, impressions)``: the relaxed optimum and
    whole impressions per creator. ``table`` holds the same rows as Arrow (ordered by
    ``creator_id``) when they were rounded on the driver, else ``None``.
    """

    frame: Any
    table: pa.Table | None
    objective: float
    rounded_objective: float
    dual_objective: float
    duality_gap: float
    max_violation: float
    pool_prices: FloatArray
    group_prices: FloatArray
    iterations: int
    seconds: float
    rounded_on_driver: bool


class SparkTrafficAllocator:
    """:class:`.TrafficAllocator` over a Spark DataFrame of creators.

    Each dual step costs one Spark job (a pass over the creators plus one row per cell and
    partition to the driver); the driver holds only per-cell arrays. The prepared creators are
    persisted for the duration of :meth:`solve`.

    Parameters
    ----------
    tol, max_iter : as :class:`.TrafficAllocator`.
    driver_limit : int
        Round on the driver (identically to the in-process solver) when there are at most this
        many creators; above it, round distributed.
    """

    def __init__(
        self, *, tol: float = 1e-12, max_iter: int = 100, driver_limit: int = 5_000_000
    ) -> None:
        self.tol = tol
        self.max_iter = max_iter
        self.driver_limit = driver_limit

    def solve(
        self,
        creators: Any,
        pool_budgets: Mapping[str, float],
        group_caps: Mapping[str, float] | None = None,
    ) -> SparkAllocation:
        """Solve over ``creators`` (a Spark DataFrame); :class:`InvalidInput` if infeasible."""
        if not (0 < self.tol < 1) or self.max_iter < 1 or self.driver_limit < 0:
            raise InvalidInput("tol must lie in (0, 1), max_iter be >= 1, driver_limit >= 0")
        started = time.perf_counter()
        layout, names = _layout(creators, pool_budgets, group_caps or {})
        pool_index = {name: k for k, name in enumerate(names[0])}
        group_index = {name: k for k, name in enumerate(names[1])}
        prepared = creators.mapInArrow(
            _prepare_fn(pool_index, group_index, layout.n_groups), _PREPARED
        ).persist()
        try:
            start, counts = _check(prepared, layout, names)

            def oracle(price: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
                sums = to_arrow(prepared.mapInArrow(_sums_fn(price), _SUMS))
                cell = sums.column("cell").to_numpy()
                total, slope, conj = (
                    np.bincount(cell, sums.column(c).to_numpy(), layout.n_cells).astype(np.float64)
                    for c in ("total", "slope", "conj")
                )
                return total, slope, conj

            dual = solve_dual(
                oracle,
                layout,
                start_log_price=start,
                tol=self.tol,
                max_iter=self.max_iter,
                model=_model(prepared, counts, layout),
            )
            relaxed = prepared.mapInArrow(_recover_fn(dual.cell_price), _RELAXED).persist()
            objective, violation, n = _relaxed_stats(relaxed, layout)
            limits = whole_limits(layout.budgets, layout.group_caps)
            if n <= self.driver_limit:
                table: pa.Table | None
                table, rounded = _round_on_driver(relaxed, layout, limits, names)
                relaxed.unpersist()
                frame = creators.sparkSession.createDataFrame(table)
            else:
                table = None
                frame, rounded = _round_distributed(relaxed, layout, limits, names)
        finally:
            prepared.unpersist()
        gap = (dual.dual_objective - objective) / max(abs(dual.dual_objective), 1e-300)
        return SparkAllocation(
            frame=frame,
            table=table,
            objective=objective,
            rounded_objective=rounded,
            dual_objective=dual.dual_objective,
            duality_gap=float(gap),
            max_violation=violation,
            pool_prices=dual.pool_price,
            group_prices=dual.group_price,
            iterations=dual.iterations,
            seconds=time.perf_counter() - started,
            rounded_on_driver=table is not None,
        )


def to_arrow(frame: Any) -> pa.Table:
    """``frame.toArrow()``; PySpark leaves its result socket to the garbage collector."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        table: pa.Table = frame.toArrow()
        gc.collect()
    return table


def _layout(
    creators: Any, budgets: Mapping[str, float], caps: Mapping[str, float]
) -> tuple[CellLayout, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Pools in budget order, groups as :meth:`.AllocationProblem.from_labels` orders them."""
    missing = sorted({*_FLOATS, "creator_id", "pool", "group"} - set(creators.columns))
    if missing:
        raise InvalidInput(f"creators have no column {missing[0]!r}")
    seen = to_arrow(creators.select("group").distinct()).column("group").to_pylist()
    group_names = tuple(dict.fromkeys([*caps, *sorted(str(g) for g in seen if g is not None)]))
    pool_names = tuple(budgets)
    pool_budgets = np.array([budgets[p] for p in pool_names], dtype=np.float64)
    group_caps = np.array([caps.get(g, np.inf) for g in group_names], dtype=np.float64)
    for names, values, what in (
        (pool_names, pool_budgets, "budget of pool"),
        (group_names, group_caps, "cap of group"),
    ):
        bad = np.flatnonzero(np.isnan(values) | (values < 0))
        if bad.size:
            raise InvalidInput(f"{what} {names[bad[0]]!r} must be >= 0, not {values[bad[0]]}")
    if not pool_names or np.isinf(pool_budgets).any():
        raise InvalidInput("pool budgets must be given and finite")
    layout = CellLayout(len(pool_names), len(group_names), pool_budgets, group_caps)
    return layout, (pool_names, group_names)


def _prepare_fn(pool_index: dict[str, int], group_index: dict[str, int], n_groups: int) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            yield _prepare_batch(batch, pool_index, group_index, n_groups)

    return run


def _prepare_batch(
    batch: pa.RecordBatch, pool_index: dict[str, int], group_index: dict[str, int], n_groups: int
) -> pa.RecordBatch:
    """Codes, kernel inputs and a bad-row flag (index into ``_BAD`` plus one; 0 if fine)."""
    pool = _code(batch.column("pool"), pool_index)
    group = _code(batch.column("group"), group_index)
    floats = {
        c: np.asarray(batch.column(c).cast(pa.float64()).fill_null(math.nan), dtype=np.float64)
        for c in _FLOATS
    }
    bad = np.zeros(batch.num_rows, dtype=np.int64)
    stacked = np.stack(list(floats.values()))
    negative = (
        (stacked < 0).any(axis=0) | (floats["scale"] <= 0) | (floats["cap"] < floats["floor"])
    )
    bad[negative] = 3
    bad[~np.isfinite(stacked).all(axis=0)] = 2
    bad[(pool < 0) | (group < 0)] = 1
    ids_column = batch.column("creator_id")
    bad[np.asarray(ids_column.is_null(), dtype=bool)] = 4
    ids = np.asarray(ids_column.cast(pa.int64()).fill_null(-1), np.int64)
    ok = bad == 0
    scale = np.where(ok, floats["scale"], 1.0)
    lo = np.where(ok, floats["floor"], 0.0)
    hi = np.where(ok, floats["cap"], 0.0)
    weight = np.where(ok, floats["weight"], 0.0)
    known = (np.maximum(pool, 0), np.maximum(group, 0))
    cell, lc, wa, _, _ = passes.prepare(
        weight, floats["saturation"], scale, (*known, len(pool_index), n_groups)
    )
    f_lo, f_hi = _kernels.bound_gains(wa, scale, lo, hi)
    columns = [ids, pool, group, cell, lc, wa, scale, lo, hi, f_lo, f_hi, bad]
    names = [f.split()[0] for f in _PREPARED.split(", ")]
    return pa.RecordBatch.from_arrays([pa.array(c) for c in columns], names=names)


def _code(values: pa.Array, index: dict[str, int]) -> IntArray:
    """Codes of names in ``index``; -1 for a null or unknown name."""
    names = values.cast(pa.string()).to_pylist()
    return np.fromiter(
        (index.get(v, -1) if v is not None else -1 for v in names), np.int64, len(names)
    )


def _check(
    prepared: Any, layout: CellLayout, names: tuple[tuple[str, ...], ...]
) -> tuple[FloatArray, IntArray]:
    """Raise :class:`InvalidInput` on a bad row, a repeated id or floors above a limit.

    Returns the first log price per pool, as the in-process solver's, and each cell's
    creators.
    """
    from pyspark.sql import functions as f

    bad = to_arrow(prepared.where("bad > 0").select("creator_id", "bad").limit(1)).to_pylist()
    if bad:
        row = bad[0]
        raise InvalidInput(f"creator {row['creator_id']} has {_BAD[row['bad'] - 1]}")
    dup = to_arrow(prepared.groupBy("creator_id").count().where("count > 1").limit(1))
    if dup.num_rows:
        raise InvalidInput(f"creator_id {dup.column('creator_id')[0]} appears more than once")
    finite = f.col("lc") > float("-inf")
    per_cell = to_arrow(
        prepared.groupBy("cell").agg(
            f.sum("lo").alias("lo"),
            f.sum(f.when(finite, f.col("lc")).otherwise(0.0)).alias("lc"),
            f.sum(f.when(finite, 1).otherwise(0)).alias("finite"),
            f.count(f.lit(1)).alias("creators"),
        )
    )
    cell = per_cell.column("cell").to_numpy()
    sums = {
        c: np.bincount(cell, per_cell.column(c).to_numpy(), layout.n_cells)
        for c in ("lo", "lc", "finite", "creators")
    }
    for kind, axis, limits in (("pool", 1, layout.budgets), ("group", 0, layout.group_caps)):
        need = sums["lo"].reshape(layout.n_pools, layout.n_groups).sum(axis=axis)
        over = np.flatnonzero(need > limits)
        if over.size:
            k = over[0]
            what = "budget" if kind == "pool" else "cap"
            name = names[0 if kind == "pool" else 1][k]
            raise InvalidInput(
                f"infeasible: floors of {kind} {name!r} sum to {need[k]:.6g} impressions, "
                f"more than its {what} of {limits[k]:.6g}"
            )
    counts = sums["finite"].reshape(layout.n_pools, layout.n_groups).sum(axis=1)
    total = sums["lc"].reshape(layout.n_pools, layout.n_groups).sum(axis=1)
    start: FloatArray = np.where(counts > 0, total / np.maximum(counts, 1), 0.0)
    return start, sums["creators"].astype(np.int64)


def _model(prepared: Any, counts: IntArray, layout: CellLayout) -> CellOracle | None:
    """The dual sums over a sample of the creators on the driver, scaled up per cell to its
    count (``counts``): :func:`.dual.solve_dual` solves it first, so that the cluster's passes
    start from its prices (a few jobs instead of one per Newton step from the pools' guess).
    Every creator up to :data:`MODEL_ROWS`, else a sample of about that many; None where a
    cell with creators has none in it."""
    n = int(counts.sum())
    frame = prepared if n <= MODEL_ROWS else prepared.sample(fraction=MODEL_ROWS / n, seed=0)
    table = to_arrow(frame.select("cell", "lc", "scale", "lo", "hi", "wa", "f_lo", "f_hi"))
    c = {name: table.column(name).to_numpy() for name in table.column_names}
    sampled = np.bincount(c["cell"], minlength=layout.n_cells)
    if ((counts > 0) & (sampled == 0)).any():
        return None
    ratio = counts / np.maximum(sampled, 1)
    sample = cell_oracle(_creators(c), (c["f_lo"], c["f_hi"]))

    def model(price: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        total, slope, conj = sample(price)
        return total * ratio, slope * ratio, conj * ratio

    return model


def _columns(batches: Iterator[pa.RecordBatch]) -> pa.Table | None:
    tables = [pa.Table.from_batches([b]) for b in batches if b.num_rows]
    return pa.concat_tables(tables).combine_chunks() if tables else None


def _creators(c: dict[str, Any]) -> _kernels.Creators:
    """A batch's prepared columns as the kernels take them."""
    return _kernels.Creators(c["cell"], c["lc"], c["scale"], c["lo"], c["hi"], c["wa"])


def _sums_fn(price: FloatArray) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        m = price.shape[0]
        total, slope, conj = np.zeros(m), np.zeros(m), np.zeros(m)
        for b in batches:
            c = {name: b.column(name).to_numpy() for name in b.schema.names}
            t, s, j = _kernels.cell_sums(_creators(c), (c["f_lo"], c["f_hi"]), price)
            total += t
            slope += s
            conj += j
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(np.arange(m, dtype=np.int64)),
                pa.array(total),
                pa.array(slope),
                pa.array(conj),
            ],
            names=["cell", "total", "slope", "conj"],
        )

    return run


def _recover_fn(price: FloatArray) -> Any:
    log_price = _kernels.log_prices(price)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        part = context.partitionId() if context is not None else 0
        for b in batches:
            c = {name: b.column(name).to_numpy() for name in b.schema.names}
            x = _kernels.recover_with_sums(_creators(c), price, log_price)[0]
            columns = [
                np.full(b.num_rows, part, dtype=np.int64),
                c["creator_id"],
                c["pool"],
                c["group"],
                c["cell"],
                x,
                c["wa"],
                c["scale"],
                np.ceil(c["lo"]).astype(np.int64),
                np.floor(c["hi"]).astype(np.int64),
            ]
            names = [f.split()[0] for f in _RELAXED.split(", ")]
            yield pa.RecordBatch.from_arrays([pa.array(v) for v in columns], names=names)

    return run


def _relaxed_stats(relaxed: Any, layout: CellLayout) -> tuple[float, float, int]:
    """Objective, largest relative excess over a budget or cap, and the number of creators."""
    from pyspark.sql import functions as f

    gain = -f.col("wa") * f.expm1(-f.col("x") / f.col("scale"))
    per_cell = to_arrow(
        relaxed.groupBy("cell").agg(
            f.sum("x").alias("x"), f.sum(gain).alias("gain"), f.count("*").alias("n")
        )
    )
    cell = per_cell.column("cell").to_numpy()
    used = np.bincount(cell, per_cell.column("x").to_numpy(), layout.n_cells)
    used = used.reshape(layout.n_pools, layout.n_groups)
    worst = 0.0
    for limits, totals in (
        (layout.budgets, used.sum(axis=1)),
        (layout.group_caps, used.sum(axis=0)),
    ):
        finite = np.isfinite(limits)
        excess = (totals[finite] - limits[finite]) / np.maximum(limits[finite], 1.0)
        worst = max(worst, float(excess.max(initial=0.0)))
    objective = float(np.sum(per_cell.column("gain").to_numpy()))
    return objective, worst, int(np.sum(per_cell.column("n").to_numpy()))


def _round_on_driver(
    relaxed: Any,
    layout: CellLayout,
    limits: tuple[IntArray, IntArray],
    names: tuple[tuple[str, ...], tuple[str, ...]],
) -> tuple[pa.Table, float]:
    rows = to_arrow(relaxed.drop("part")).sort_by("creator_id")
    c = {name: rows.column(name).to_numpy() for name in rows.column_names}
    membership = (c["pool"], c["group"])
    check_whole_feasible(c["low"], c["high"], c["creator_id"], membership, limits, names)
    z = round_allocation(
        c["x"], c["pool"], c["group"], (c["low"], c["high"]), limits, (c["wa"], c["scale"])
    )
    rounded = float(np.sum(-c["wa"] * np.expm1(-z / c["scale"])))
    table = pa.table({"creator_id": c["creator_id"], "x": c["x"], "impressions": z})
    return table, rounded


def _round_distributed(
    relaxed: Any,
    layout: CellLayout,
    limits: tuple[IntArray, IntArray],
    names: tuple[tuple[str, ...], tuple[str, ...]],
) -> tuple[Any, float]:
    """Floor per partition, whole quotas per (partition, cell) on the driver, round per cell."""
    from pyspark.sql import functions as f

    z0 = f.least(f.greatest(f.floor(f.col("x") + 1e-9), f.col("low")), f.col("high"))
    stats = to_arrow(
        relaxed.withColumn("z0", z0)
        .groupBy("part", "cell")
        .agg(
            f.sum("z0").alias("used"),
            f.sum(f.col("low")).alias("low"),
            f.sum(f.when(f.col("wa") > 0, f.col("high")).otherwise(f.col("z0"))).alias("high"),
            f.sum(f.col("x") - f.col("z0")).alias("frac"),
            f.max(f.when(f.col("low") > f.col("high"), f.col("creator_id"))).alias("empty"),
        )
    )
    s = {name: stats.column(name).to_numpy(zero_copy_only=False) for name in stats.column_names}
    empty = [v for v in stats.column("empty").to_pylist() if v is not None]
    if empty:
        raise InvalidInput(
            f"creator {empty[0]} has no whole number of impressions between its floor and cap"
        )
    cell = s["cell"].astype(np.int64)
    pool, group = cell // layout.n_groups, cell % layout.n_groups
    quota = _quotas(
        s["used"].astype(np.int64),
        s["low"].astype(np.int64),
        s["high"].astype(np.int64),
        s["frac"].astype(np.float64),
        (pool, group),
        limits,
        names,
    )
    table = {(int(p), int(k)): int(q) for p, k, q in zip(s["part"], cell, quota, strict=True)}
    result = relaxed.mapInArrow(_round_fn(table, layout.n_cells), _IMPRESSIONS + ", gain double")
    result = result.persist()
    rounded = to_arrow(result.agg(f.sum("gain").alias("g"))).column("g")[0].as_py() or 0.0
    relaxed.unpersist()
    return result.drop("gain"), float(rounded)


def _quotas(
    used: IntArray,
    low: IntArray,
    high: IntArray,
    frac: FloatArray,
    membership: tuple[IntArray, IntArray],
    limits: tuple[IntArray, IntArray],
    names: tuple[tuple[str, ...], tuple[str, ...]],
) -> IntArray:
    """Whole units per (partition, cell) entry whose pool and group sums fit ``limits``.

    Units are first taken back where floored impressions overshoot (from entries with units
    above their floors), then leftover room is handed out, at most up to each entry's caps,
    by whole fractional mass first and then by the largest remainders. O(e log e) in the
    number of entries ``e``.
    """
    pool, group = membership
    for codes, limit, labels, kind in (
        (pool, limits[0], names[0], "pool"),
        (group, limits[1], names[1], "group"),
    ):
        need = np.bincount(codes, low, limit.size)
        over = np.flatnonzero(need > limit)
        if over.size:
            raise InvalidInput(
                f"floors of {kind} {labels[over[0]]!r} need {int(need[over[0]])} whole "
                f"impressions, more than its {'budget' if kind == 'pool' else 'cap'} of "
                f"{int(limit[over[0]])}"
            )
    quota = used.copy()
    left_p = limits[0] - np.bincount(pool, quota, limits[0].size).astype(np.int64)
    left_g = limits[1] - np.bincount(group, quota, limits[1].size).astype(np.int64)
    for e in range(quota.size):  # take back: each entry down to its floors at most
        take = min(max(-left_p[pool[e]], -left_g[group[e]], 0), quota[e] - low[e])
        quota[e] -= take
        left_p[pool[e]] += take
        left_g[group[e]] += take
    if (left_p < 0).any() or (left_g < 0).any():
        raise AssertionError("take-back left a limit broken")  # unreachable: floors fit
    whole = np.floor(np.maximum(frac, 0.0)).astype(np.int64)
    remainder = np.maximum(frac, 0.0) - whole
    for part in (whole, None):
        order = np.argsort(-remainder, kind="stable") if part is None else np.arange(quota.size)
        for e in order:
            want = int(part[e]) if part is not None else 1
            give = min(
                want,
                int(high[e] - quota[e]),
                int(left_p[pool[e]]),
                int(min(left_g[group[e]], NO_CAP)),
            )
            if give > 0:
                quota[e] += give
                left_p[pool[e]] -= give
                left_g[group[e]] -= give
    return quota


def _round_fn(quota: dict[tuple[int, int], int], n_cells: int) -> Any:
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        rows = _columns(batches)
        if rows is None:
            return
        c = {name: rows.column(name).to_numpy() for name in rows.column_names}
        context = TaskContext.get()
        part = context.partitionId() if context is not None else int(c["part"][0])
        if (c["part"] != part).any():
            raise RuntimeError("partitions moved between recovery and rounding")
        cell_limit = np.array([quota.get((part, k), 0) for k in range(n_cells)], np.int64)
        no_group = np.zeros(rows.num_rows, dtype=np.int64)
        z = round_allocation(
            c["x"],
            c["cell"],
            no_group,
            (c["low"], c["high"]),
            (cell_limit, np.array([NO_CAP])),
            (c["wa"], c["scale"]),
        )
        if (np.bincount(c["cell"], z, n_cells) > cell_limit).any():
            raise RuntimeError("rounding broke a quota")  # round_allocation never does
        gain = -c["wa"] * np.expm1(-z / c["scale"])
        yield pa.RecordBatch.from_arrays(
            [pa.array(c["creator_id"]), pa.array(c["x"]), pa.array(z), pa.array(gain)],
            names=["creator_id", "x", "impressions", "gain"],
        )

    return run


def solve_on_spark(problem: AllocationProblem, session: Any, scratch: Path) -> Allocation:
    """Solve ``problem`` with :class:`SparkTrafficAllocator` on ``session``'s cluster.

    The creators go to the cluster as a Parquet file under ``scratch``, so ``scratch`` must be
    a path the driver and the executors both read. The result is an :class:`.Allocation`
    aligned with ``problem.creator_id``, rounded on the driver as in process.
    """
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f"creators-{uuid.uuid4().hex}.parquet"
    pq.write_table(
        pa.table(
            {
                "creator_id": problem.creator_id,
                "pool": pa.array([problem.pool_names[k] for k in problem.pool.tolist()]),
                "group": pa.array([problem.group_names[k] for k in problem.group.tolist()]),
                **{name: getattr(problem, name) for name in _FLOATS},
            }
        ),
        path,
    )
    try:
        solved = SparkTrafficAllocator(driver_limit=problem.n_creators).solve(
            session.read.parquet(str(path)),
            dict(zip(problem.pool_names, problem.pool_budgets.tolist(), strict=True)),
            dict(zip(problem.group_names, problem.group_caps.tolist(), strict=True)),
        )
    finally:
        path.unlink(missing_ok=True)
    assert solved.table is not None  # rounded on the driver: driver_limit covers every creator
    ids = solved.table.column("creator_id").to_numpy()
    at = np.searchsorted(ids, problem.creator_id)
    return Allocation(
        impressions=solved.table.column("impressions").to_numpy().astype(np.int64)[at],
        relaxed=solved.table.column("x").to_numpy().astype(np.float64)[at],
        objective=solved.objective,
        rounded_objective=solved.rounded_objective,
        dual_objective=solved.dual_objective,
        duality_gap=solved.duality_gap,
        max_violation=solved.max_violation,
        pool_prices=solved.pool_prices,
        group_prices=solved.group_prices,
        iterations=solved.iterations,
        seconds=solved.seconds,
    )
