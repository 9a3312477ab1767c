"""The daily cycle end to end: every step's time from its report, with peak memory.

``python -m bench cycle [--creators 100000 1000000] [--days 60] [--engine duckdb|spark]
[--spark-master URL] [--seed S] [--data-dir DIR]``

For each size: generate a synthetic platform into a fresh temporary data directory (embedded
SQLite store), then run ``guanghe cycle`` twice in child processes, as a deployment does:

* **catch-up** for the day before the last: the store has never been cycled, so this run
  settles every earlier day's revenue (the backlog a new deployment or a long outage leaves);
* **daily** for the last day: one day's events on a store cycled up to yesterday.

Each step's duration comes from the run's kept report (``GET /v1/cycle/runs/{date}``); peak
memory is the child's ``ru_maxrss``. Prints one table per run with each step's share, so the
slowest step is known, and the generation time beside it, then the problems the steps
reported, counted by step, object kind and reason.

``--data-dir`` (one size only) keeps the platform: it is generated there, or, where the directory
already holds a platform that was never cycled (``guanghe sim generate`` run beforehand, which
can take an hour at 1,000,000 creators), cycled as it is.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from guanghe.pipelines.reports import list_runs, load_run
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.sim.truth import PLATFORM_FILE


def _cycle(data_dir: Path, day: dt.date, engine: str, master: str) -> dict[str, Any]:
    """Run ``guanghe cycle`` for ``day`` in a child; its report, wall time and peak RSS."""
    env = {
        **os.environ,
        "GUANGHE_DATA_DIR": str(data_dir),
        "GUANGHE_DATABASE_URL": "",
        "GUANGHE_SPARK_MASTER": master,
    }
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "guanghe", "cycle", "--date", day.isoformat(), "--engine", engine],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall_s = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: money problems, which the report lists
        raise SystemExit(f"guanghe cycle failed ({done.returncode}):\n{done.stderr[-3000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    run = load_run(Settings(data_dir=data_dir).snapshots_dir, day)
    return {
        "wall_s": wall_s,
        "peak_rss_mb": max(peak, before) / 1024,  # the largest child so far: this one or earlier
        "steps": [(r.step, r.duration_s, dict(r.counts)) for r in run.reports],
        "problems": len(run.problems),
        "problem_kinds": Counter(
            (r.step, p.kind, p.reason, p.affects_money) for r in run.reports for p in r.problems
        ),
    }


def _print_run(title: str, run: dict[str, Any]) -> None:
    total = sum(s for _, s, _ in run["steps"]) or 1.0
    print(
        f"\n{title}: {run['wall_s']:.1f} s from start to exit, steps {total:.1f} s, "
        f"peak RSS {run['peak_rss_mb']:,.0f} MB, {run['problems']} problems reported"
    )
    print(f"{'step':<14}{'seconds':>10}{'share':>8}  counts")
    for step, seconds, counts in run["steps"]:
        shown = ", ".join(f"{k}={v:,}" for k, v in counts.items())
        print(f"{step:<14}{seconds:>10.2f}{seconds / total:>8.1%}  {shown}")
    for (step, kind, reason, money), count in run["problem_kinds"].most_common():
        print(f"  problem x{count:,}: {step}, {kind}: {reason}{' (money)' if money else ''}")


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


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cycle")
    parser.add_argument("--creators", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    parser.add_argument("--spark-master", default="local[*]")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data-dir", type=Path, help="keep the platform here (one size)")
    args = parser.parse_args(argv)
    if args.data_dir is not None and len(args.creators) != 1:
        parser.error("--data-dir takes one --creators size")

    print(
        f"bench cycle on {platform.node()} ({os.cpu_count()} CPUs), {dt.date.today()}, "
        f"engine {args.engine}" + (f" on {args.spark_master}" if args.engine == "spark" else "")
    )
    for creators in args.creators:
        with tempfile.TemporaryDirectory(prefix="guanghe-bench-cycle-") as tmp:
            data_dir = args.data_dir or Path(tmp)
            last = _platform(data_dir, creators, args.days, args.seed)
            catch_up = _cycle(data_dir, last - dt.timedelta(days=1), args.engine, args.spark_master)
            _print_run(f"catch-up cycle for {last - dt.timedelta(days=1)}", catch_up)
            daily = _cycle(data_dir, last, args.engine, args.spark_master)
            _print_run(f"daily cycle for {last}", daily)
    return 0
