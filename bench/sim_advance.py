"""``sim advance`` speed: wall time per advanced day, by phase, with the cycle between days.

``python -m bench sim_advance [--creators N] [--history-days H] [--days D] [--seed S]
[--steps all|traffic] [--platform DIR] [--keep DIR]``

Generates a platform (not timed), then times :func:`guanghe.sim.advance` over ``D`` days: the
first cycle (of the last generated day, which also catches up on the history), then per day
the boost delivery (the simulated ranker's boost calls and recorded deliveries), the audience's
answer (drawn, appended to the event log, follower counts updated) and each cycle step. With
``--steps traffic`` only the steps the traffic decisions need run (features, growth,
originality, traffic); ``all`` runs the whole cycle. Prints the median of each phase over the
days (wall and CPU time of this process) and the whole-run projection ``first cycle + 56 x
median day``, with the peak resident memory; then each day's CPU and the CPU seconds of its
costliest cycle steps (this process's, so a busy machine's other work does not count), which
show how a day's cost grows with the platform's age.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from guanghe.pipelines import CycleContext, StepReport
    from guanghe.sim import DayOutcome


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench sim_advance")
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--history-days", type=int, default=60)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", choices=("all", "traffic"), default="all")
    parser.add_argument(
        "--platform",
        type=Path,
        default=None,
        help="a generated data directory to copy instead of generating one",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="advance in this new directory and leave it there (default: a temporary one)",
    )
    args = parser.parse_args(argv)

    from guanghe.pipelines import CYCLE_STEPS, CycleStep
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import advance, generate_platform

    names = ("features", "growth", "originality", "traffic")
    chosen = (
        CYCLE_STEPS if args.steps == "all" else tuple(s for s in CYCLE_STEPS if s.name in names)
    )
    step_cpu: dict[tuple[dt.date, str], float] = {}

    def timed(step: CycleStep) -> CycleStep:
        def run(ctx: CycleContext) -> StepReport:
            started = time.process_time()
            try:
                return step.run(ctx)
            finally:
                step_cpu[ctx.date, step.name] = time.process_time() - started

        return CycleStep(step.name, run)

    steps = tuple(timed(s) for s in chosen)
    with _data_dir(args.keep) as data_dir:
        if args.platform is not None:
            shutil.copytree(args.platform, data_dir, dirs_exist_ok=True)
        else:
            with Runtime(Settings(data_dir=Path(data_dir), database_url="")) as runtime:
                generate_platform(
                    runtime, creators=args.creators, days=args.history_days, seed=args.seed
                )
        with Runtime(Settings(data_dir=Path(data_dir), database_url="")) as runtime:
            started, started_cpu = time.perf_counter(), time.process_time()
            result = advance(runtime, args.days, seed=args.seed, steps=steps)
            total_s = time.perf_counter() - started
            total_cpu_s = time.process_time() - started_cpu
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    per_day = []
    phases: dict[str, list[float]] = {"delivery": [], "answer": []}
    cpu: dict[str, list[float]] = {"delivery": [], "answer": [], "cycle": []}
    cpu_days: list[float] = []
    for day in result.days:
        assert day.cycle is not None
        phases["delivery"].append(day.delivery_s)
        phases["answer"].append(day.response_s)
        cpu["delivery"].append(day.delivery_cpu_s)
        cpu["answer"].append(day.response_cpu_s)
        cpu["cycle"].append(day.cycle_cpu_s)
        cpu_days.append(day.delivery_cpu_s + day.response_cpu_s + day.cycle_cpu_s)
        for report in day.cycle.reports:
            phases.setdefault(f"cycle: {report.step}", []).append(report.duration_s)
        per_day.append(
            day.delivery_s + day.response_s + sum(r.duration_s for r in day.cycle.reports)
        )
    first_cycle = total_s - sum(per_day)
    median_day = statistics.median(per_day)
    print(
        f"# sim_advance: {args.creators:,} creators, {args.history_days} days of history, "
        f"{args.days} days advanced, steps {args.steps}, seed {args.seed}\n"
    )
    print("| phase | median wall s per day | median CPU s per day |")
    print("|---|---:|---:|")
    for name, values in phases.items():
        spent = f"{statistics.median(cpu[name]):.2f}" if name in cpu else ""
        print(f"| {name} | {statistics.median(values):.2f} | {spent} |")
    print(f"| cycle (all steps) | | {statistics.median(cpu['cycle']):.2f} |")
    print(f"| **day** | **{median_day:.2f}** | **{statistics.median(cpu_days):.2f}** |")
    first_cpu = total_cpu_s - sum(cpu_days)
    boosted = statistics.median(d.boosted_impressions for d in result.days)
    calls = statistics.median(d.boost_calls for d in result.days)
    events = statistics.median(d.events for d in result.days)
    works = statistics.median(d.works_published for d in result.days)
    print(
        f"\nfirst cycle (catch-up, numba compilation included) {first_cycle:.1f} s wall, "
        f"{first_cpu:.1f} s CPU; per day: {calls:,.0f} boost calls, "
        f"{boosted:,.0f} boosted impressions, {works:,.0f} works published, {events:,.0f} "
        f"events; whole run {total_s:.1f} s wall, {total_cpu_s:.1f} s CPU, peak RSS "
        f"{peak_mib:,.0f} MiB; 56 days projected {first_cycle + 56 * median_day:,.0f} s wall, "
        f"{first_cpu + 56 * statistics.median(cpu_days):,.0f} s CPU"
    )
    _print_days(result.days, step_cpu)
    return 0


@contextlib.contextmanager
def _data_dir(keep: Path | None) -> Iterator[str]:
    """A temporary data directory, or ``keep`` (made new, and left in place)."""
    if keep is None:
        with tempfile.TemporaryDirectory(prefix="guanghe-advance-") as data_dir:
            yield data_dir
        return
    keep.mkdir(parents=True)
    yield str(keep)


_DAY_STEPS = ("traffic", "incentives", "settlement", "features", "diagnosis")


def _print_days(days: Sequence[DayOutcome], step_cpu: dict[tuple[dt.date, str], float]) -> None:
    """One row per advanced day: its CPU, its cycle's CPU and that of the costliest steps (the
    rest summed as ``other``), all in seconds."""
    names = " | ".join(_DAY_STEPS)
    print(f"\n| day | date | day CPU s | cycle CPU s | {names} | other |")
    print("|---:|---|---:|---:|" + "---:|" * (len(_DAY_STEPS) + 1))
    for number, day in enumerate(days, 1):
        assert day.cycle is not None
        spent = {r.step: step_cpu.get((day.day, r.step), 0.0) for r in day.cycle.reports}
        cycle = day.cycle_cpu_s
        shown = [spent.get(name, 0.0) for name in _DAY_STEPS]
        cpu = day.delivery_cpu_s + day.response_cpu_s + day.cycle_cpu_s
        cells = " | ".join(f"{value:.1f}" for value in shown)
        print(
            f"| {number} | {day.day} | {cpu:.1f} | {cycle:.1f} | {cells} | "
            f"{cycle - sum(shown):.1f} |"
        )
