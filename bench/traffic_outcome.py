"""Traffic support on the synthetic platform, scored against its hidden truth.

``python -m bench traffic_outcome [--creators N] [--days D] [--seed S]``

Generates a platform, runs the cycle (features, growth, traffic) for its last day, then:

1. **Response curves**: the median relative error of each creator's predicted daily follows at
   ``x = s_true`` (and the rank correlation) for our empirical-Bayes fit, against no pooling
   (each creator's own maximum-likelihood curve) and complete pooling (the prior's mean);
   creators with boosted days and without, separately.
2. **Outcome**: expected follows, on the hidden curves, of a week of the default programme's
   budget split four ways: our plan (estimated curves, the cycle's allocation), the oracle (the
   same solver on the hidden curves, an upper bound), each pool's budget split uniformly over
   its creators, and split in proportion to followers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

Array = np.ndarray[Any, np.dtype[np.float64]]


def _spearman(a: Array, b: Array) -> float:
    return float(pd.Series(a).rank().corr(pd.Series(b).rank()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench traffic_outcome")
    parser.add_argument("--creators", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from guanghe.pipelines import CycleContext, feature_step, growth_step, traffic_step
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform
    from guanghe.sim.truth import load_ground_truth
    from guanghe.snapshots import read_snapshot
    from guanghe.traffic.planning import period_problem, solve_period
    from guanghe.traffic.programs import DEFAULT_PROGRAMS, load_programs
    from guanghe.traffic.response import ResponseCurves, daily_activity, fit_response

    with tempfile.TemporaryDirectory(prefix="guanghe-outcome-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url="")
        with Runtime(settings) as runtime:
            summary = generate_platform(
                runtime, creators=args.creators, days=args.days, seed=args.seed
            )
            day = summary.last_date
            feature_step.run(CycleContext.for_date(runtime, day))
            growth_step.run(CycleContext.for_date(runtime, day))
            started = time.perf_counter()
            traffic_step.run(CycleContext.for_date(runtime, day))
            step_s = time.perf_counter() - started
            members = traffic_step.load_members(runtime, day)
            activity = daily_activity(
                runtime.event_log, day - dt.timedelta(days=traffic_step.HISTORY_DAYS - 1), day
            )
            root = settings.snapshots_dir
            allocation = read_snapshot(root, traffic_step.ALLOCATION, day + dt.timedelta(days=1))
            truth = load_ground_truth(settings).to_pandas().set_index("creator_id")
            followers = (
                read_snapshot(root, "creator_features", day)
                .to_pandas()
                .set_index("creator_id")["follower_count"]
            )

    ids = members.creator_id
    truth = truth.loc[ids]
    a_true = truth["response_a"].to_numpy()
    s_true = truth["response_s"].to_numpy()
    stage = np.array([["novice", "growing", "mature"].index(s) for s in members.stage])
    cell = members.vertical_id * 3 + stage
    hidden = a_true * -np.expm1(-1.0)

    print(
        f"# traffic_outcome: {args.creators:,} creators, {args.days} days, seed {args.seed}; "
        f"traffic step {step_s:.1f} s"
    )
    print("\n## Response curves: predicted daily follows at x = s_true\n")
    print("| fit | creators | median relative error | Spearman |")
    print("|---|---|---|---|")
    for pooling in ("partial", "none", "complete"):
        curves = fit_response(
            activity, ids, cell, covariates=members.quality[:, None], pooling=pooling
        )
        boosted = curves.boosted_days > 0
        predicted = curves.expected_follows(s_true)
        error = np.abs(predicted - hidden) / hidden
        name = {
            "partial": "empirical Bayes (ours)",
            "none": "no pooling (own MLE)",
            "complete": "complete pooling (cell prior)",
        }[pooling]
        for label, mask in (("with boosted days", boosted), ("without", ~boosted)):
            if mask.any():
                print(
                    f"| {name} | {label} ({int(mask.sum()):,}) | {np.median(error[mask]):.3f} "
                    f"| {_spearman(predicted[mask], hidden[mask]):.3f} |"
                )

    programs = load_programs(DEFAULT_PROGRAMS)
    days = programs.period.days
    plan = allocation.to_pandas().set_index("creator_id").loc[ids]
    budgets = plan.groupby("pool")["impressions"].sum().to_dict()
    pool_names = plan["pool"].to_numpy()

    def follows(weekly: Array) -> float:
        # Spread evenly over the week: ``days`` times the daily curve at weekly / days.
        return float(np.sum(days * a_true * -np.expm1(-(weekly / days) / s_true)))

    oracle_curves = ResponseCurves(
        ids, a_true, s_true, np.zeros_like(a_true), np.zeros(ids.shape[0], np.int64)
    )
    problem = period_problem(programs, members, oracle_curves, budgets, days)
    oracle = solve_period(problem).impressions.astype(np.float64)
    uniform = np.zeros(ids.shape[0])
    proportional = np.zeros(ids.shape[0])
    weight = followers.reindex(ids).fillna(0).to_numpy().astype(np.float64) + 1.0
    for pool, budget in budgets.items():
        mask = pool_names == pool
        uniform[mask] = budget / mask.sum()
        proportional[mask] = budget * weight[mask] / weight[mask].sum()
    ours = plan["impressions"].to_numpy().astype(np.float64)
    rows = [
        ("oracle (hidden curves)", oracle),
        ("ours (estimated curves)", ours),
        ("uniform per pool", uniform),
        ("proportional to followers", proportional),
    ]
    base = follows(uniform)
    print(f"\n## Outcome: a week of {sum(budgets.values()):,} boosted impressions\n")
    print("| split | expected follows (hidden curves) | vs uniform | share of oracle |")
    print("|---|---|---|---|")
    best = follows(oracle)
    for name, x in rows:
        gained = follows(x)
        print(f"| {name} | {gained:,.0f} | {gained / base:.2f}x | {gained / best:.1%} |")
    return 0
