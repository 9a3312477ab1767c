"""Closed-loop traffic support: follows the boosts buy, week by week, against the oracle.

``python -m bench closed_loop [--creators N] [--history-days H] [--weeks W] [--seed S]
[--jobs J]``

Generates one platform (``H`` days of history, whose random boost programme is all the curve
fits start from), copies it once per policy, and plays each copy forward ``7 * W`` days with
:func:`guanghe.sim.advance` — boosts delivered through the boost service, the audience drawn
from the hidden truth with the same seed for every policy, and the cycle's ``features``,
``growth`` and ``traffic`` steps between days (curves re-fitted daily, a period's allocation
solved on its first day). The policies differ only in the period allocation the traffic step
writes:

- **ours, exploring**: the programme's default (``exploration_share = 0.05``);
- **ours, exploiting**: ``exploration_share = 0``;
- **oracle**: the same solver on the hidden curves (an upper bound no learner reaches);
- **uniform**: each pool's budget split evenly over its members;
- **proportional**: each pool's budget split in proportion to followers.

Every policy faces the same delivery constraint: a creator without a boostable work (no work,
or only duplicates) gets nothing — the traffic step's planning gives ours and the oracle's
solver cap 0 for them, and uniform and proportional split only over the others — so every
policy's planned quota is deliverable and the oracle is an upper bound on the hidden curves.
The run also prints each policy's impressions planned and delivered.

The score is the follows the delivered boosts buy on the hidden curves (each creator-day's
``a * (1 - exp(-x / s))``), summed per week and cumulatively, as a share of the oracle's.
With ``--jobs J`` up to ``J`` policies play at once, each in its own process (the policies'
times then overlap).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

POLICIES = ("oracle", "ours, exploring", "ours, exploiting", "uniform", "proportional")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench closed_loop")
    parser.add_argument("--creators", type=int, default=1_000)
    parser.add_argument("--history-days", type=int, default=60)
    parser.add_argument("--weeks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args(argv)

    from concurrent.futures import ProcessPoolExecutor

    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform

    weekly: dict[str, list[float]] = {}
    realised: dict[str, int] = {}
    planned: dict[str, int] = {}
    delivered: dict[str, int] = {}
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="guanghe-closed-loop-") as scratch:
        template = Path(scratch) / "template"
        started = time.perf_counter()
        with Runtime(Settings(data_dir=template, database_url="")) as runtime:
            generate_platform(
                runtime, creators=args.creators, days=args.history_days, seed=args.seed
            )
        generate_s = time.perf_counter() - started
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=context) as pool:
            jobs = {
                policy: pool.submit(
                    _run_policy, str(template), scratch, policy, args.weeks, args.seed
                )
                for policy in POLICIES
            }
            for policy, job in jobs.items():
                outcome = json.loads(job.result())
                weekly[policy] = outcome["weekly"]
                realised[policy] = outcome["realised"]
                planned[policy] = outcome["planned"]
                delivered[policy] = outcome["delivered"]
                seconds[policy] = outcome["seconds"]
                print(f"  {policy}: {seconds[policy]:.0f} s", flush=True)

    oracle = np.array(weekly["oracle"])
    print(
        f"\n# closed_loop: {args.creators:,} creators, {args.history_days} days of history, "
        f"{args.weeks} weeks advanced, seed {args.seed}; generation {generate_s:.0f} s\n"
    )
    print("Follows bought by the delivered boosts (hidden curves), cumulative share of the oracle:")
    print()
    print("| week | " + " | ".join(POLICIES) + " |")
    print("|---|" + "---:|" * len(POLICIES))
    for week in range(args.weeks):
        cells = [
            f"{np.sum(weekly[p][: week + 1]) / oracle[: week + 1].sum():.1%}" for p in POLICIES
        ]
        print(f"| {week + 1} | " + " | ".join(cells) + " |")
    print()
    print(
        "| policy | boost follows (hidden curves) | share of oracle | all follows drawn "
        "| impressions planned | delivered | s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for p in POLICIES:
        total = float(np.sum(weekly[p]))
        print(
            f"| {p} | {total:,.0f} | {total / oracle.sum():.1%} | {realised[p]:,} "
            f"| {planned[p]:,} | {delivered[p]:,} | {seconds[p]:.0f} |"
        )
    return 0


def _run_policy(template: str, scratch: str, policy: str, weeks: int, seed: int) -> str:
    """Play a copy of the template under ``policy``; its weekly figures as JSON."""
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings

    data_dir = Path(scratch) / policy.replace(", ", "-")
    shutil.copytree(template, data_dir)
    if policy != "ours, exploring":
        _write_programme(data_dir, exploration_share=0.0)
    started = time.perf_counter()
    with Runtime(Settings(data_dir=data_dir, database_url="")) as runtime:
        result = _play(runtime, policy, weeks * 7, seed)
        planned = sum(_planned(runtime, d.day) for d in result.days)
    expected = np.array([d.boost_follows_expected for d in result.days])
    shutil.rmtree(data_dir)
    return json.dumps(
        {
            "weekly": expected.reshape(weeks, 7).sum(axis=1).tolist(),
            "realised": sum(d.follows for d in result.days),
            "planned": planned,
            "delivered": sum(d.boosted_impressions for d in result.days),
            "seconds": time.perf_counter() - started,
        }
    )


def _planned(runtime: Any, day: dt.date) -> int:
    """The impressions the traffic plan of ``day`` planned (its quotas' sum)."""
    from guanghe.snapshots import read_snapshot

    plan = read_snapshot(runtime.settings.snapshots_dir, "traffic_plan", day)
    return int(plan["quota"].to_numpy().sum())


def _write_programme(data_dir: Path, *, exploration_share: float) -> None:
    """The default programme with another exploration share, as the deployment's override."""
    from guanghe.traffic.programs import DEFAULT_PROGRAMS

    text = DEFAULT_PROGRAMS.read_text()
    text = text.replace("exploration_share = 0.05", f"exploration_share = {exploration_share}")
    (data_dir / "traffic.toml").write_text(text)


def _play(runtime: Any, policy: str, days: int, seed: int) -> Any:
    from guanghe.pipelines import CYCLE_STEPS, CycleStep
    from guanghe.sim import advance

    names = ("features", "growth", "traffic")
    steps = tuple(s for s in CYCLE_STEPS if s.name in names)
    if policy in ("oracle", "uniform", "proportional"):
        steps = tuple(
            CycleStep(s.name, _overriding(s.run, policy)) if s.name == "traffic" else s
            for s in steps
        )
    return advance(runtime, days, seed=seed, steps=steps)


def _overriding(run: Callable[[Any], Any], policy: str) -> Callable[[Any], Any]:
    """The traffic step, with each newly solved period allocation replaced by ``policy``'s
    split of the same pool budgets, and the next day's plan paced from it."""

    def step(ctx: Any) -> Any:
        report = run(ctx)
        if report.counts.get("allocation_solved"):
            _replace_allocation(ctx, policy)
        return report

    return step


def _replace_allocation(ctx: Any, policy: str) -> None:
    import pyarrow as pa

    from guanghe.pipelines import traffic_step
    from guanghe.sim.truth import load_ground_truth
    from guanghe.snapshots import read_snapshot, write_snapshot
    from guanghe.traffic.deliveries import delivered_by_creator
    from guanghe.traffic.planning import Period, period_problem, solve_period
    from guanghe.traffic.programs import load_programs, programs_path
    from guanghe.traffic.response import ResponseCurves

    runtime, date, root = ctx.runtime, ctx.date, ctx.snapshots
    next_day = date + dt.timedelta(days=1)
    plan = read_snapshot(root, traffic_step.PLAN, next_day)
    meta = plan.schema.metadata or {}
    period = Period(
        dt.date.fromisoformat(meta[b"period_starts_on"].decode()),
        dt.date.fromisoformat(meta[b"period_ends_on"].decode()),
    )
    allocated = read_snapshot(root, traffic_step.ALLOCATION, period.starts_on)
    members = traffic_step.load_members(runtime, date)
    ids = allocated["creator_id"].to_numpy()
    assert np.array_equal(ids, members.creator_id)
    pool = np.asarray(allocated["pool"].to_pylist())
    budgets = {
        name: int(allocated["impressions"].to_numpy()[pool == name].sum())
        for name in dict.fromkeys(pool.tolist())
    }
    programs = load_programs(programs_path(runtime.settings.data_dir))
    if policy == "oracle":
        truth = load_ground_truth(runtime.settings).to_pandas().set_index("creator_id").loc[ids]
        hidden = ResponseCurves(
            ids,
            truth["response_a"].to_numpy(),
            truth["response_s"].to_numpy(),
            np.zeros(ids.shape[0]),
            np.zeros(ids.shape[0], np.int64),
        )
        problem = period_problem(programs, members, hidden, budgets, period.days)
        impressions = solve_period(problem).impressions
    else:
        features = read_snapshot(root, "creator_features", date).to_pandas()
        followers = features.set_index("creator_id")["follower_count"].reindex(ids).fillna(0)
        weight = (
            np.ones(ids.shape[0])
            if policy == "uniform"
            else followers.to_numpy().astype(np.float64) + 1.0
        )
        # The same delivery constraint as ours and the oracle: no share for a creator without
        # a boostable work (the feed could not deliver it).
        weight = weight * allocated["boostable"].to_numpy(zero_copy_only=False).astype(bool)
        impressions = np.zeros(ids.shape[0], np.int64)
        for name, budget in budgets.items():
            mask = pool == name
            total = weight[mask].sum()
            if total > 0:
                impressions[mask] = np.floor(budget * weight[mask] / total)
    table = allocated.set_column(
        allocated.schema.get_field_index("impressions"),
        "impressions",
        pa.array(impressions.astype(np.int64)),
    )
    write_snapshot(root, traffic_step.ALLOCATION, period.starts_on, table)
    with runtime.sessions() as session:
        delivered = delivered_by_creator(session, period.starts_on, date)
    write_snapshot(
        root,
        traffic_step.PLAN,
        next_day,
        traffic_step.day_plan(programs, table, delivered, budgets, period, next_day),
    )
