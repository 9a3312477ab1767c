"""The demo's experiment: created once before the demo's cycles, applied by them, reported."""

from __future__ import annotations

from pathlib import Path

from guanghe.experiments import experiment_report
from guanghe.sim import generate_platform
from guanghe.sim.demo_cycle import run_demo_operations
from guanghe.sim.demo_experiment import DEMO_KEY, start_demo_experiment
from guanghe.snapshots import read_snapshot
from tests.sim.conftest import make_runtime


def test_the_demo_experiment_is_applied_and_reported(tmp_path: Path) -> None:
    runtime = make_runtime(tmp_path)
    summary = generate_platform(runtime, creators=200, days=14, seed=7)
    first, last = summary.first_date, summary.last_date
    experiment = start_demo_experiment(runtime, first, last)
    assert experiment is not None
    assert experiment.key == DEMO_KEY
    assert experiment.treatment_creators + experiment.control_creators == 200
    assert start_demo_experiment(runtime, first, last) is None  # once
    run_demo_operations(runtime, first, last)
    planned = read_snapshot(
        runtime.settings.snapshots_dir, "traffic_allocation", experiment.starts_on
    )
    assert DEMO_KEY in planned["arm"].to_pylist()
    with runtime.sessions() as session:
        report = experiment_report(session, runtime.event_log, experiment.id)
    assert report.analysed_to == last
    assert {m.metric for m in report.metrics} >= {"follows", "orders"}
    assert all(m.sentence for m in report.metrics)
    runtime.engine.dispose()
