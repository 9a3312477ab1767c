"""``guanghe cycle --engine spark`` on a real standalone cluster equals the DuckDB cycle.

Two copies of one synthetic platform run the same day's cycle, one on DuckDB with the
in-process solver, one with ``GUANGHE_SPARK_MASTER`` pointing at a master and worker started
from the PySpark distribution; the features and the period's allocation must be the same.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from bench._spark_cluster import Cluster, standalone_cluster

from guanghe.pipelines import run_cycle
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.sim import generate_platform
from guanghe.snapshots import read_snapshot, snapshot_dates

pytestmark = pytest.mark.spark

DAY = dt.date(2026, 11, 20)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with standalone_cluster(tmp_path_factory.mktemp("spark-logs")) as running:
        yield running


def guanghe(data_dir: Path, *args: str, **env: str) -> str:
    """Run the ``guanghe`` command on ``data_dir``'s embedded store; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "guanghe", *args],
        env={**os.environ, "GUANGHE_DATA_DIR": str(data_dir), "GUANGHE_DATABASE_URL": "", **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"guanghe {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_spark_cycle_on_a_cluster_equals_the_duckdb_cycle(cluster: Cluster, tmp_path: Path) -> None:
    on_duckdb, on_spark = tmp_path / "duckdb", tmp_path / "spark"
    # The platform and the DuckDB cycle are made in this process (what `guanghe init`, `sim
    # generate` and `cycle` call, less an interpreter and its imports each); the Spark cycle is
    # the command, in a process of its own, as it must reach the cluster, not this session.
    with Runtime(Settings(data_dir=on_duckdb, database_url="")) as runtime:
        runtime.init()
        generate_platform(runtime, creators=300, days=14, seed=5, end_date=DAY)
    shutil.copytree(on_duckdb, on_spark)

    with Runtime(Settings(data_dir=on_duckdb, database_url="")) as runtime:
        runtime.init()
        assert not run_cycle(runtime, DAY).money_problems
    apps = cluster.completed_apps()
    guanghe(on_spark, "cycle", "--date", DAY.isoformat(), "--engine", "spark",
            GUANGHE_SPARK_MASTER=cluster.master_url)  # fmt: skip
    assert cluster.completed_apps() > apps, "the Spark cycle did not run on the cluster"

    for snapshot in ("creator_features", "traffic_allocation"):
        left_root, right_root = (Settings(data_dir=d).snapshots_dir for d in (on_duckdb, on_spark))
        (day,) = snapshot_dates(left_root, snapshot)
        assert snapshot_dates(right_root, snapshot) == [day]
        a, b = read_snapshot(left_root, snapshot, day), read_snapshot(right_root, snapshot, day)
        assert a.num_rows > 0
        if snapshot == "traffic_allocation":
            for column in ("creator_id", "pool", "impressions"):
                assert a.column(column).equals(b.column(column)), column
        else:
            assert a.equals(b)
