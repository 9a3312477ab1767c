"""The daily cycle end to end: every step's time from its report, with peak memory.

``python -m bench cycle [--creators 100000 1000000] [--days 60] [--engine duckdb [spark]]
[--spark-master URL | --standalone [--worker-cores N] [--worker-memory 4g]]
[--catch-up-engine duckdb|spark] [--seed S] [--data-dir DIR]``

For each size: generate a synthetic platform into a fresh temporary data directory (embedded
SQLite store), then, for each engine, run ``guanghe cycle`` twice in child processes, as a
deployment does:

* **catch-up** for the day before the last: the store has never been cycled, so this run
  settles every earlier day's revenue (the backlog a new deployment or a long outage leaves);
* **daily** for the last day: one day's events on a store cycled up to yesterday.

Each step's duration comes from the run's kept report (``GET /v1/cycle/runs/{date}``). Memory
and CPU are sampled from ``/proc`` every half second for each process the run involves, by role:
the cycle's own Python process, and with ``--engine spark`` the Spark driver JVM it starts,
and the standalone cluster's master, worker and executor JVMs and the executors' Python
workers (peak RSS: the largest sum of the role's resident sets, at least one process's
``VmHWM``). Prints one table per run with each step's share, so the slowest step is known, then
the problems the steps reported, counted by step, object kind and reason.

``--engine duckdb spark`` cycles a copy of the platform per engine (each starts never-cycled),
prints the steps side by side and checks that the engines wrote the same ``creator_features``
and ``traffic_allocation`` snapshots (exit status 1 when not). ``--standalone`` starts a master
and one worker on 127.0.0.1 from the PySpark distribution for the Spark runs; ``--spark-master``
names a running one (default ``local[*]``: Spark inside the cycle's driver).

``--catch-up-engine ENGINE`` runs the catch-up once, on that engine, before the copies are made,
so that only the daily cycle is timed on each ``--engine`` (at 1,000,000 creators the catch-up
is mostly settlement's backlog, which no engine choice changes).

``--data-dir`` (one size only) keeps the platform: it is generated there, or, where the directory
already holds a platform that was never cycled (``guanghe sim generate`` run beforehand, which
can take an hour at 1,000,000 creators), cycled as it is (with one engine) or copied per engine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pyarrow as pa

from bench._spark_cluster import Cluster, standalone_cluster
from guanghe.pipelines.reports import list_runs, load_run
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.sim.truth import PLATFORM_FILE
from guanghe.snapshots import read_snapshot, snapshot_dates

#: The snapshots both engines must write alike.
COMPARED = ("creator_features", "traffic_allocation")

#: Seconds between two samples of the processes' memory and CPU.
SAMPLE_S = 0.5

ROLES = (
    "cycle (Python)",
    "cycle's children",
    "driver JVM",
    "master JVM",
    "worker JVM",
    "executor JVMs",
    "executor Python",
)


def _role(process: psutil.Process, cycle_pid: int) -> str:
    """Which part of the run ``process`` is, from its command line."""
    if process.pid == cycle_pid:
        return "cycle (Python)"
    command = " ".join(process.cmdline())
    if "org.apache.spark.deploy.master.Master" in command:
        return "master JVM"
    if "org.apache.spark.deploy.worker.Worker" in command:
        return "worker JVM"
    if "CoarseGrainedExecutorBackend" in command:
        return "executor JVMs"
    if "pyspark" in command and "org.apache.spark" not in command:
        return "executor Python"  # pyspark.daemon and the workers it forks
    if "org.apache.spark" in command:
        return "driver JVM"
    return "cycle's children"


def _peak_rss(pid: int) -> int:
    """The process's own high-water mark of resident memory (bytes), 0 if gone."""
    try:
        with Path(f"/proc/{pid}/status").open() as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass
class ProcessWatch:
    """Samples the processes under some roots (and the roots) until stopped: per role, the
    peak of their summed RSS and the CPU they used since the watch started."""

    cycle_pid: int
    roots: tuple[int, ...]
    peak: dict[str, int] = field(default_factory=dict)
    cpu: dict[int, tuple[str, float]] = field(default_factory=dict)
    baseline: dict[int, float] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        resident: Counter[str] = Counter()
        for root in self.roots:
            try:
                top = psutil.Process(root)
                processes = [top, *top.children(recursive=True)]
            except psutil.Error:
                continue
            for process in processes:
                try:
                    role = _role(process, self.cycle_pid)
                    rss = process.memory_info().rss
                    times = process.cpu_times()
                except psutil.Error:
                    continue
                resident[role] += rss
                self.peak[role] = max(self.peak.get(role, 0), _peak_rss(process.pid))
                self.cpu[process.pid] = (role, times.user + times.system)
        for role, rss in resident.items():
            self.peak[role] = max(self.peak.get(role, 0), rss)

    def run(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.sample()

    def cpu_by_role(self) -> dict[str, float]:
        """CPU seconds by role, as last sampled (a process's last half second can be missed)."""
        used: dict[str, float] = {}
        for pid, (role, seconds) in self.cpu.items():
            used[role] = used.get(role, 0.0) + seconds - self.baseline.get(pid, 0.0)
        return used

    @contextmanager
    def watching(self) -> Iterator[ProcessWatch]:
        """Sample in a thread while the block runs; the long-lived roots' CPU so far is the
        baseline, and their memory high-water marks are reset (``clear_refs``)."""
        for pid in self.roots:
            if pid == self.cycle_pid:
                continue
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")
                times = psutil.Process(pid).cpu_times()
                self.baseline[pid] = times.user + times.system
            except (OSError, psutil.Error):
                pass
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def _cycle(
    data_dir: Path, day: dt.date, engine: str, master: str, cluster_pids: tuple[int, ...]
) -> dict[str, Any]:
    """Run ``guanghe cycle`` for ``day`` in a child; its report, wall time, CPU and memory."""
    env = {
        **os.environ,
        "GUANGHE_DATA_DIR": str(data_dir),
        "GUANGHE_DATABASE_URL": "",
        "GUANGHE_SPARK_MASTER": master,
    }
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-m", "guanghe", "cycle", "--date", day.isoformat(),
             "--engine", engine],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
        )  # fmt: skip
        with ProcessWatch(child.pid, (child.pid, *cluster_pids)).watching() as watch:
            # this child's own usage and that of what it waited for (the driver JVM), exact
            # even while another engine's cycle runs beside it
            _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall_s = time.perf_counter() - started
        if child.returncode not in (0, 1):  # 1: money problems, which the report lists
            stderr.seek(0)
            raise SystemExit(f"guanghe cycle failed ({child.returncode}):\n{stderr.read()[-3000:]}")
    run = load_run(Settings(data_dir=data_dir).snapshots_dir, day)
    return {
        "engine": engine,
        "wall_s": wall_s,
        "peak_mb": {role: size / 2**20 for role, size in watch.peak.items()},
        # the cycle's own CPU exactly, from the kernel (it does not wait for the driver JVM)
        "cpu_by_role": {**watch.cpu_by_role(), "cycle (Python)": usage.ru_utime + usage.ru_stime},
        "steps": [(r.step, r.duration_s, dict(r.counts)) for r in run.reports],
        "problems": len(run.problems),
        "problem_kinds": Counter(
            (r.step, p.kind, p.reason, p.affects_money) for r in run.reports for p in r.problems
        ),
    }


def _print_run(title: str, run: dict[str, Any]) -> None:
    total = sum(s for _, s, _ in run["steps"]) or 1.0
    print(
        f"\n{title} on {run['engine']}: {run['wall_s']:.1f} s from start to exit, steps "
        f"{total:.1f} s, {sum(run['cpu_by_role'].values()):.1f} s CPU in all processes, "
        f"{run['problems']} problems reported"
    )
    print(f"{'step':<14}{'seconds':>10}{'share':>8}  counts")
    for step, seconds, counts in run["steps"]:
        shown = ", ".join(f"{k}={v:,}" for k, v in counts.items())
        print(f"{step:<14}{seconds:>10.2f}{seconds / total:>8.1%}  {shown}")
    for role in ROLES:
        if role in run["peak_mb"]:
            print(
                f"  {role}: peak RSS {run['peak_mb'][role]:,.0f} MB, "
                f"{run['cpu_by_role'].get(role, 0.0):.1f} s CPU"
            )
    for (step, kind, reason, money), count in run["problem_kinds"].most_common():
        print(f"  problem x{count:,}: {step}, {kind}: {reason}{' (money)' if money else ''}")


def _print_side_by_side(runs: dict[str, dict[str, dict[str, Any]]], kinds: list[str]) -> None:
    """One row per step (and memory role), a column per run of ``kinds`` and engine."""
    columns = [(kind, engine) for kind in kinds for engine in runs]
    print("\n" + "".join(f"{'step':<18}") + "".join(f"{f'{k} {e}':>18}" for k, e in columns))
    steps = [s for s, _, _ in runs[next(iter(runs))][kinds[0]]["steps"]]
    for step in steps:
        cells = []
        for kind, engine in columns:
            seconds = {s: d for s, d, _ in runs[engine][kind]["steps"]}
            cells.append(f"{seconds.get(step, float('nan')):>18.2f}")
        print(f"{step:<18}" + "".join(cells))
    print(
        f"{'steps':<18}"
        + "".join(f"{sum(d for _, d, _ in runs[e][k]['steps']):>18.2f}" for k, e in columns)
    )
    print(f"{'to exit':<18}" + "".join(f"{runs[e][k]['wall_s']:>18.2f}" for k, e in columns))
    print(
        f"{'CPU s, cycle':<18}"
        + "".join(f"{runs[e][k]['cpu_by_role']['cycle (Python)']:>18.1f}" for k, e in columns)
    )
    print(
        f"{'CPU s, all':<18}"
        + "".join(f"{sum(runs[e][k]['cpu_by_role'].values()):>18.1f}" for k, e in columns)
    )
    for role in ROLES:
        if any(role in runs[e][k]["peak_mb"] for k, e in columns):
            cells = [runs[e][k]["peak_mb"].get(role) for k, e in columns]
            print(
                f"{('MB ' + role)[:18]:<18}"
                + "".join(f"{c:>18,.0f}" if c is not None else f"{'-':>18}" for c in cells)
            )


@dataclass(frozen=True)
class Comparison:
    """How two cycled data directories' :data:`COMPARED` snapshots differ: ``differences``
    (every integer, string and feature column must be equal) and ``within_tolerance`` (the
    allocation's float prices and relaxed values, which the Spark solve sums per partition:
    equal to :data:`RTOL`, as ``tests/traffic/test_spark.py`` holds them)."""

    differences: list[str]
    within_tolerance: list[str]


#: Relative and absolute tolerance of the allocation's float columns between engines.
RTOL, ATOL = 1e-7, 1e-12


def compare(left: Path, right: Path) -> Comparison:
    """Compare the :data:`COMPARED` snapshots of every date either directory wrote."""
    roots = [Settings(data_dir=d).snapshots_dir for d in (left, right)]
    found = Comparison([], [])
    for name in COMPARED:
        dates = [snapshot_dates(root, name) for root in roots]
        if dates[0] != dates[1] or not dates[0]:
            written = [", ".join(map(str, d)) or "none" for d in dates]
            found.differences.append(f"{name}: written for {written[0]} against {written[1]}")
            continue
        for day in dates[0]:
            a, b = (read_snapshot(root, name, day) for root in roots)
            if a.schema.names != b.schema.names or a.num_rows != b.num_rows:
                shapes = [f"{t.num_rows:,} rows of {t.schema.names}" for t in (a, b)]
                found.differences.append(f"{name} of {day}: {' against '.join(shapes)}")
                continue
            for column in a.schema.names:
                x, y = a.column(column), b.column(column)
                if x.equals(y):
                    continue
                where = f"{name} of {day}: {column}"
                if name == "creator_features" or not pa.types.is_floating(x.type):
                    found.differences.append(f"{where} differs")
                    continue
                xs, ys = x.to_numpy(), y.to_numpy()
                gap = np.abs(xs - ys)
                seen = f"{where} differs in {int((gap > 0).sum()):,} rows, by up to {gap.max():.3g}"
                if np.allclose(xs, ys, rtol=RTOL, atol=ATOL):
                    found.within_tolerance.append(f"{seen} (within rtol {RTOL:g})")
                else:
                    found.differences.append(seen)
    return found


def _platform(data_dir: Path, creators: int, days: int, seed: int) -> dt.date:
    """Generate the platform into ``data_dir`` unless it holds one already; its last day."""
    settings = Settings(data_dir=data_dir, database_url="")
    with Runtime(settings) as runtime:
        if (settings.ground_truth_dir / PLATFORM_FILE).exists():
            dates = runtime.event_log.dates()
            if not dates:
                raise SystemExit(f"the platform in {data_dir} has no events")
            if list_runs(settings.snapshots_dir, limit=1).items:
                raise SystemExit(f"the platform in {data_dir} was cycled already: copy a fresh one")
            print(f"\n== the platform already in {data_dir}: {dates[0]} to {dates[-1]}")
            return dt.date.fromisoformat(dates[-1])
        from guanghe.sim import generate_platform

        runtime.init()
        started = time.perf_counter()
        summary = generate_platform(runtime, creators=creators, days=days, seed=seed)
    took = time.perf_counter() - started
    print(
        f"\n== {creators:,} creators x {days} days: generated in {took:.0f} s "
        f"({summary.works:,} works, {summary.events:,} events)"
    )
    return summary.last_date


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The options, checked against each other (``parser.error`` exits 2)."""
    parser = argparse.ArgumentParser(prog="python -m bench cycle")
    parser.add_argument("--creators", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--engine", choices=("duckdb", "spark"), nargs="+", default=["duckdb"])
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--spark-master", help="a running Spark master (default local[*])")
    where.add_argument(
        "--standalone",
        action="store_true",
        help="start a standalone master and worker from the PySpark distribution",
    )
    parser.add_argument("--worker-cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--worker-memory", default="4g")
    parser.add_argument(
        "--concurrently",
        action="store_true",
        help="cycle the engines' copies at the same time (on a busy machine: more of its CPU)",
    )
    parser.add_argument(
        "--catch-up-engine",
        choices=("duckdb", "spark"),
        help="catch up once on this engine and time only the daily cycle on each --engine",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="keep the platform here (one size)")
    args = parser.parse_args(argv)
    if args.data_dir is not None and len(args.creators) != 1:
        parser.error("--data-dir takes one --creators size")
    if len(set(args.engine)) != len(args.engine):
        parser.error("name each --engine once")
    spark_runs = {*args.engine, args.catch_up_engine}
    if "spark" not in spark_runs and (args.standalone or args.spark_master):
        parser.error("--spark-master and --standalone need --engine spark")
    if args.concurrently and len(args.engine) < 2:
        parser.error("--concurrently needs two engines")
    if args.worker_cores < 1:
        parser.error("--worker-cores must be at least 1")
    return args


def _size(args: argparse.Namespace, creators: int, master: str, cluster: Cluster | None) -> bool:
    """Generate (or find) one platform and cycle it on each engine; whether they agree."""
    near = args.data_dir.parent if args.data_dir is not None else None
    with tempfile.TemporaryDirectory(prefix="guanghe-bench-cycle-", dir=near) as tmp:
        platform_dir = args.data_dir or Path(tmp) / "platform"
        last = _platform(platform_dir, creators, args.days, args.seed)
        days = {"catch-up": last - dt.timedelta(days=1), "daily": last}

        def pids(engine: str) -> tuple[int, ...]:
            return cluster.pids if cluster is not None and engine == "spark" else ()

        shared: dict[str, Any] | None = None
        if args.catch_up_engine is not None:  # caught up once, before the copies
            engine = args.catch_up_engine
            shared = _cycle(platform_dir, days["catch-up"], engine, master, pids(engine))
            _print_run(f"catch-up cycle for {days['catch-up']}", shared)
        data_dirs: dict[str, Path] = {}
        for engine in args.engine:
            data_dirs[engine] = platform_dir
            if len(args.engine) > 1:  # each engine starts from the same platform
                data_dirs[engine] = Path(tmp) / engine
                shutil.copytree(platform_dir, data_dirs[engine])

        def both_days(engine: str) -> dict[str, dict[str, Any]]:
            return {
                kind: shared if kind == "catch-up" and shared is not None
                else _cycle(data_dirs[engine], day, engine, master, pids(engine))
                for kind, day in days.items()
            }  # fmt: skip

        with ThreadPoolExecutor(len(args.engine) if args.concurrently else 1) as pool:
            runs = {}
            for engine, by_kind in zip(args.engine, pool.map(both_days, args.engine), strict=True):
                if shared is None:
                    _print_run(f"catch-up cycle for {days['catch-up']}", by_kind["catch-up"])
                _print_run(f"daily cycle for {last}", by_kind["daily"])
                runs[engine] = by_kind
        if len(runs) == 1:
            return True
        _print_side_by_side(runs, ["daily"] if shared is not None else list(days))
        first, *others = args.engine
        equal = True
        for other in others:
            found = compare(data_dirs[first], data_dirs[other])
            same = "NOT the same" if found.differences else "the same"
            print(f"\n{other} against {first}: {same} {' and '.join(COMPARED)} snapshots")
            for line in found.differences + found.within_tolerance:
                print(f"  {line}")
            equal &= not found.differences
        return equal


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="guanghe-spark-logs-") as logs:
        started = (
            standalone_cluster(Path(logs), cores=args.worker_cores, memory=args.worker_memory)
            if args.standalone
            else nullcontext(None)
        )
        with started as cluster:
            master: str = args.spark_master or "local[*]"
            if cluster is not None:
                master = cluster.master_url
            spark = f", Spark on {master}" if "spark" in args.engine else ""
            if cluster is not None:
                spark += (
                    f" (standalone: one worker, {args.worker_cores} cores, {args.worker_memory})"
                )
            print(
                f"bench cycle on {platform.node()} ({os.cpu_count()} CPUs), {dt.date.today()}, "
                f"engines {', '.join(args.engine)}{spark}"
            )
            equal = True
            for creators in args.creators:
                equal &= _size(args, creators, master, cluster)
    return 0 if equal else 1
