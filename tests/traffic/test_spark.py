"""The solver on Spark (local mode) against the in-process solver on the same creators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanghe.errors import InvalidInput
from guanghe.traffic import AllocationProblem, TrafficAllocator
from guanghe.traffic import spark as spark_module
from guanghe.traffic.rounding import NO_CAP
from guanghe.traffic.spark import SparkTrafficAllocator, _quotas, solve_on_spark, to_arrow

POOLS = {"hq": 9_000.0, "new": 6_000.0, "institution": 4_000.5}
GROUPS = {"food": 3_500.0, "games": 2_000.0}
_PER_CREATOR = ("creator_id", "pool", "group", "weight", "saturation", "scale", "floor", "cap")


def creators(n: int = 300, seed: int = 11) -> pa.Table:
    rng = np.random.default_rng(seed)
    floor = np.where(rng.random(n) < 0.15, np.round(rng.uniform(0, 10, n), 1), 0.0)
    return pa.table(
        {
            "creator_id": pa.array(np.arange(5_000, 5_000 + n), pa.int64()),
            "pool": rng.choice(list(POOLS), n).tolist(),
            "group": rng.choice(["food", "games", "travel", "music"], n).tolist(),
            "weight": np.where(rng.random(n) < 0.02, 0.0, rng.uniform(0.5, 2, n)),
            "saturation": rng.pareto(1.5, n) * 50 + 5,
            "scale": rng.lognormal(4, 1, n),
            "floor": floor,
            "cap": floor + np.where(rng.random(n) < 0.2, rng.uniform(0, 80, n), 5_000.0),
        }
    )


def in_process(table: pa.Table) -> Any:
    c = {name: table.column(name).to_pylist() for name in table.column_names}
    problem = AllocationProblem.from_labels(**c, pool_budgets=POOLS, group_caps=GROUPS)
    return problem, TrafficAllocator().solve(problem)


def spark_frame(spark: Any, tmp_path: Path, table: pa.Table, partitions: int) -> Any:
    path = tmp_path / "C.parquet"
    pq.write_table(table, path)
    return spark.read.parquet(str(path)).repartition(partitions)


def test_spark_matches_in_process(spark: Any, tmp_path: Path) -> None:
    table = creators()
    problem, local = in_process(table)
    r = SparkTrafficAllocator().solve(spark_frame(spark, tmp_path, table, 3), POOLS, GROUPS)
    assert r.rounded_on_driver
    assert r.table is not None
    assert r.objective == pytest.approx(local.objective, rel=1e-9)
    assert r.dual_objective == pytest.approx(local.dual_objective, rel=1e-9)
    assert abs(r.duality_gap) <= 1e-9
    assert r.max_violation <= 1e-9
    np.testing.assert_allclose(r.pool_prices, local.pool_prices, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(r.group_prices, local.group_prices, rtol=1e-7, atol=1e-12)
    assert r.table.column("creator_id").to_pylist() == problem.creator_id.tolist()
    np.testing.assert_allclose(r.table.column("x").to_numpy(), local.relaxed, atol=1e-6)
    assert r.table.column("impressions").to_numpy().tolist() == local.impressions.tolist()
    assert r.rounded_objective == pytest.approx(local.rounded_objective, rel=1e-12)
    rows = to_arrow(r.frame.orderBy("creator_id").select("impressions"))
    assert rows.column("impressions").to_pylist() == local.impressions.tolist()


@pytest.mark.parametrize("model_rows", [100_000, 120])
def test_the_dual_is_solved_on_the_driver_before_the_cluster_steps(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_rows: int
) -> None:
    """Every creator, or a sample of 120 of 400, solved on the driver first: the cluster's
    passes only finish it (each pass is a Spark job; from the pools' guess they were dozens)."""
    monkeypatch.setattr(spark_module, "MODEL_ROWS", model_rows)
    table = creators(400, seed=8)
    _, local = in_process(table)
    r = SparkTrafficAllocator().solve(spark_frame(spark, tmp_path, table, 3), POOLS, GROUPS)
    assert r.objective == pytest.approx(local.objective, rel=1e-9)
    np.testing.assert_allclose(r.pool_prices, local.pool_prices, rtol=1e-7, atol=1e-12)
    assert r.iterations <= (3 if model_rows > 400 else 8), r.iterations


def test_distributed_rounding_breaks_no_budget(spark: Any, tmp_path: Path) -> None:
    table = creators(400, seed=5)
    problem, local = in_process(table)
    frame = spark_frame(spark, tmp_path, table, 4)
    r = SparkTrafficAllocator(driver_limit=0).solve(frame, POOLS, GROUPS)
    assert not r.rounded_on_driver
    assert r.objective == pytest.approx(local.objective, rel=1e-9)
    rows = to_arrow(r.frame.orderBy("creator_id"))
    assert rows.column("creator_id").to_pylist() == problem.creator_id.tolist()
    z = rows.column("impressions").to_numpy()
    assert np.all(z >= np.ceil(problem.floor))
    assert np.all(z <= np.floor(problem.cap))
    assert np.all(np.bincount(problem.pool, z, 3) <= np.floor(problem.pool_budgets))
    assert np.all(np.bincount(problem.group, z, len(problem.group_names)) <= problem.group_caps)
    assert r.rounded_objective <= r.objective * (1 + 1e-12)
    assert r.rounded_objective == pytest.approx(local.rounded_objective, rel=1e-3)


def test_spark_infeasible_floors_name_the_pool(spark: Any, tmp_path: Path) -> None:
    table = creators(50).set_column(6, "floor", pa.array(np.full(50, 500.0)))
    table = table.set_column(7, "cap", pa.array(np.full(50, 600.0)))
    frame = spark_frame(spark, tmp_path, table, 2)
    with pytest.raises(InvalidInput, match="infeasible: floors of pool"):
        SparkTrafficAllocator().solve(frame, POOLS, GROUPS)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 30))
def test_quotas_fit_every_limit(seed: int, entries: int) -> None:
    rng = np.random.default_rng(seed)
    pool, group = rng.integers(0, 3, entries), rng.integers(0, 4, entries)
    low = rng.integers(0, 5, entries)
    high = low + rng.integers(0, 20, entries)
    used = np.minimum(high, low + rng.integers(0, 25, entries))
    frac = rng.uniform(0, 6, entries)
    need_p, need_g = np.bincount(pool, low, 3), np.bincount(group, low, 4)
    limits = (
        need_p + rng.integers(0, 40, 3),
        np.where(rng.random(4) < 0.5, need_g + rng.integers(0, 30, 4), NO_CAP),
    )
    names = (("a", "b", "c"), ("w", "x", "y", "z"))
    quota = _quotas(used, low, high, frac, (pool, group), limits, names)
    assert np.all(quota >= low)
    assert np.all(quota <= np.maximum(high, used))
    assert np.all(np.bincount(pool, quota, 3) <= limits[0])
    assert np.all(np.bincount(group, quota, 4) <= limits[1])


def test_a_period_problem_solved_on_spark_equals_the_in_process_solve(
    spark: Any, tmp_path: Path
) -> None:
    problem, local = in_process(creators(400, seed=3))
    shuffled = np.random.default_rng(1).permutation(problem.n_creators)
    problem = AllocationProblem(
        **{
            name: getattr(problem, name)[shuffled] if name in _PER_CREATOR else value
            for name, value in ((n, getattr(problem, n)) for n in AllocationProblem.__slots__)
        }
    )
    solved = solve_on_spark(problem, spark, tmp_path / "scratch")
    assert solved.impressions.tolist() == local.impressions[shuffled].tolist()
    assert solved.objective == pytest.approx(local.objective, rel=1e-9)
    assert not list((tmp_path / "scratch").iterdir())
