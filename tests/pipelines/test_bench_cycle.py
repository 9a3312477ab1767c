"""``python -m bench cycle``'s options and its check that two engines wrote the same snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest
from bench.cycle import differences, parse_args

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


def _cycled(data_dir: Path, features: pa.Table, allocation: pa.Table) -> Path:
    root = Settings(data_dir=data_dir).snapshots_dir
    write_snapshot(root, "creator_features", DAY, features)
    write_snapshot(root, "traffic_allocation", DAY, allocation)
    return data_dir


def test_equal_snapshots_have_no_difference_and_a_changed_one_is_named(tmp_path: Path) -> None:
    features = pa.table({"creator_id": [1, 2, 3], "plays_7d": [10, 0, 4]})
    allocation = pa.table(
        {"creator_id": [1, 2, 3], "pool": ["a", "a", "b"], "impressions": [5, 0, 7],
         "dual": [0.5, 0.25, 0.125]}
    )  # fmt: skip
    left = _cycled(tmp_path / "duckdb", features, allocation)
    assert differences(left, _cycled(tmp_path / "same", features, allocation)) == []

    moved = allocation.set_column(3, "dual", pa.array([0.5, 0.25, 0.375]))
    fewer = features.slice(0, 2)
    found = differences(left, _cycled(tmp_path / "spark", fewer, moved))
    assert len(found) == 2
    assert found[0].startswith("creator_features of 2026-11-20: 3 rows")
    assert found[1] == "traffic_allocation of 2026-11-20: dual differs in 1 rows, by up to 0.25"


def test_a_snapshot_one_engine_did_not_write_is_a_difference(tmp_path: Path) -> None:
    table = pa.table({"creator_id": [1]})
    left = _cycled(tmp_path / "duckdb", table, table)
    right = tmp_path / "spark"
    write_snapshot(Settings(data_dir=right).snapshots_dir, "creator_features", DAY, table)
    assert differences(left, right) == ["traffic_allocation: written for 2026-11-20 against none"]
