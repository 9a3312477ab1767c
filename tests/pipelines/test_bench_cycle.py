"""``python -m bench cycle``'s options and its check that two engines wrote the same snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from bench.cycle import compare, parse_args

from guanghe.settings import Settings
from guanghe.snapshots import write_snapshot

DAY = dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    "argv",
    [
        ["--standalone"],  # a cluster for no Spark run
        ["--spark-master", "spark://127.0.0.1:7077"],
        ["--engine", "spark", "--standalone", "--spark-master", "spark://127.0.0.1:7077"],
        ["--engine", "duckdb", "duckdb"],
        ["--engine", "spark", "--standalone", "--worker-cores", "0"],
        ["--creators", "100", "200", "--data-dir", "/tmp/x"],
        ["--concurrently"],  # one engine
        ["--catch-up-engine", "sqlite"],
    ],
)
def test_options_that_contradict_each_other_are_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_both_engines_on_a_standalone_cluster() -> None:
    args = parse_args(["--creators", "100000", "--engine", "duckdb", "spark", "--standalone"])
    assert args.engine == ["duckdb", "spark"]
    assert args.standalone
    assert args.spark_master is None
    assert parse_args([]).engine == ["duckdb"]
    assert parse_args([]).catch_up_engine is None


def test_a_cluster_for_the_catch_up_alone() -> None:
    args = parse_args(["--engine", "duckdb", "--catch-up-engine", "spark", "--standalone"])
    assert (args.engine, args.catch_up_engine, args.standalone) == (["duckdb"], "spark", True)


def _cycled(data_dir: Path, features: pa.Table, allocation: pa.Table) -> Path:
    root = Settings(data_dir=data_dir).snapshots_dir
    write_snapshot(root, "creator_features", DAY, features)
    write_snapshot(root, "traffic_allocation", DAY, allocation)
    return data_dir


def test_equal_snapshots_have_no_difference_and_a_changed_one_is_named(tmp_path: Path) -> None:
    features = pa.table({"creator_id": [1, 2, 3], "plays_7d": [10, 0, 4]})
    allocation = pa.table(
        {"creator_id": [1, 2, 3], "pool": ["a", "a", "b"], "impressions": [5, 0, 7],
         "pool_price": [0.5, 0.25, 0.125]}
    )  # fmt: skip
    left = _cycled(tmp_path / "duckdb", features, allocation)
    same = compare(left, _cycled(tmp_path / "same", features, allocation))
    assert same.differences == same.within_tolerance == []

    moved = allocation.set_column(3, "pool_price", pa.array([0.5, 0.25, 0.375]))
    fewer = features.slice(0, 2)
    found = compare(left, _cycled(tmp_path / "spark", fewer, moved))
    assert len(found.differences) == 2
    assert found.differences[0].startswith("creator_features of 2026-11-20: 3 rows")
    assert found.differences[1] == (
        "traffic_allocation of 2026-11-20: pool_price differs in 1 rows, by up to 0.25"
    )
    assert found.within_tolerance == []


def test_the_allocations_float_columns_may_differ_in_their_last_bits(tmp_path: Path) -> None:
    """The Spark solve sums the prices per partition: 1e-18 apart is the same allocation; an
    impression or a feature one apart is not."""
    features = pa.table({"creator_id": [1, 2], "quality": [0.5, 0.25]})
    allocation = pa.table({"creator_id": [1, 2], "impressions": [5, 7], "pool_price": [2e-9, 3e-9]})
    left = _cycled(tmp_path / "duckdb", features, allocation)
    last_bits = allocation.set_column(2, "pool_price", pa.array([2e-9 + 1.7e-18, 3e-9]))
    found = compare(left, _cycled(tmp_path / "spark", features, last_bits))
    assert found.differences == []
    assert found.within_tolerance == [
        "traffic_allocation of 2026-11-20: pool_price differs in 1 rows, by up to 1.7e-18 "
        "(within rtol 1e-07)"
    ]

    one_more = allocation.set_column(1, "impressions", pa.array([6, 7]))
    nudged = features.set_column(1, "quality", pa.array([0.5, 0.25 + 1e-16]))
    found = compare(left, _cycled(tmp_path / "both", nudged, one_more))
    assert found.differences == [
        "creator_features of 2026-11-20: quality differs",
        "traffic_allocation of 2026-11-20: impressions differs",
    ]


def test_a_snapshot_one_engine_did_not_write_is_a_difference(tmp_path: Path) -> None:
    table = pa.table({"creator_id": [1]})
    left = _cycled(tmp_path / "duckdb", table, table)
    right = tmp_path / "spark"
    write_snapshot(Settings(data_dir=right).snapshots_dir, "creator_features", DAY, table)
    assert compare(left, right).differences == [
        "traffic_allocation: written for 2026-11-20 against none"
    ]
