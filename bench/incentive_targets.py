"""Personal incentive targets against one fixed target, on the synthetic platform's hidden truth.

``python -m bench incentive_targets [--creators N] [--seed S] [--reward-fen R]``

Generates a platform of ``28 + 14`` days; a programme's window is its last 14 days, and each
creator's baseline is their plays of the 28 days before. What a creator can reach with effort
comes from the hidden truth: their realised plays in the window (the world without the
incentive) times ``1 + headroom``, with ``headroom = 0.2 + 0.8 * latent_quality`` (a creator
of higher latent quality gains more from more and better work). Each scheme pays ``R`` fen to
every creator who reaches their target, in order, until the same total budget (``R`` for half
the eligible creators) runs out. Peers, side by side, per default programme:

- **personal**: our targets (``guanghe.incentives.personal_targets``: the trend-adjusted
  median of the creator's four baseline weeks, raised by the stage's uplift scaled up by the
  creator's own week-to-week spread, floored and capped per stage);
- **fixed (mean)**: everyone gets the mean personal target (the same total ask);
- **fixed (median)**: everyone gets the median personal target.

Columns: eligible creators, share who reach their target, creators paid (and per 10,000 fen
of the budget: the budget is the same for every scheme, so more paid is more creators reached
per fen), *effort per 10,000 fen* (paid creators who needed the effort, i.e. whose realised
plays fell short of the target, per 10,000 fen of the budget: what the money bought), and
*deadweight*: the share of payments to creators who would have reached the target with no
effort.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

WINDOW_DAYS = 14


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench incentive_targets")
    parser.add_argument("--creators", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reward-fen", type=int, default=10_000)
    args = parser.parse_args(argv)

    from guanghe.creators import vertical_ids
    from guanghe.incentives import (
        DEFAULT_PROGRAMMES,
        DailyPlays,
        fixed_target,
        load_programmes,
        personal_targets,
        window_activity,
    )
    from guanghe.pipelines import CycleContext, feature_step, growth_step, incentives_step
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform
    from guanghe.sim.truth import load_ground_truth

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="guanghe-incentives-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url="")
        with Runtime(settings) as runtime:
            summary = generate_platform(
                runtime, creators=args.creators, days=28 + WINDOW_DAYS, seed=args.seed
            )
            window_start = summary.last_date - dt.timedelta(days=WINDOW_DAYS - 1)
            assessed_on = window_start - dt.timedelta(days=1)
            ctx = CycleContext.for_date(runtime, assessed_on)
            feature_step.run(ctx)
            growth_step.run(ctx)
            candidates = incentives_step.load_candidates(ctx)
            with runtime.event_log.connect() as con:
                plays = DailyPlays.from_arrow(
                    con.sql(
                        incentives_step.PLAYS_SQL, params=[summary.first_date, summary.last_date]
                    ).to_arrow_table()
                )
            activity = window_activity(plays, window_start, summary.last_date, set())
            truth = load_ground_truth(settings).to_pandas().set_index("creator_id")
            programmes = load_programmes(DEFAULT_PROGRAMMES)
            with runtime.sessions() as session:
                verticals = {
                    p.name: vertical_ids(session, p.eligibility.verticals, field="verticals")
                    for p in programmes
                }
    setup_s = time.perf_counter() - started

    from guanghe.incentives import eligible

    print(
        f"incentive_targets: {args.creators} creators, seed {args.seed}, window {WINDOW_DAYS} "
        f"days from {window_start}, reward {args.reward_fen} fen; {platform.node()}, "
        f"{dt.date.today()}; setup {setup_s:.1f} s"
    )
    header = (
        f"{'programme':<26} {'scheme':<16} {'eligible':>8} {'reach':>7} {'paid':>6} "
        f"{'paid/10k fen':>12} {'effort/10k fen':>14} {'deadweight':>10}"
    )
    print(header)
    print("-" * len(header))
    for programme in programmes:
        mask = eligible(programme.eligibility, candidates, verticals[programme.name])
        ids = candidates.creator_id[mask]
        if ids.shape[0] == 0:
            continue
        history = activity.histories(ids)
        realised = np.array([activity.plays.get(int(c), 0) for c in ids], np.float64)
        headroom = 0.2 + 0.8 * truth.loc[ids, "latent_quality"].to_numpy()
        reachable = realised * (1.0 + headroom)
        personal = personal_targets(
            history, candidates.stage[mask], programme.rules.targets, WINDOW_DAYS
        )
        budget = args.reward_fen * (ids.shape[0] // 2)
        schemes = {
            "personal": personal,
            "fixed (mean)": np.full(ids.shape[0], fixed_target(personal)),
            "fixed (median)": np.full(ids.shape[0], int(np.median(personal))),
        }
        for scheme, target in schemes.items():
            reach = reachable >= target
            paid = min(int(reach.sum()), budget // args.reward_fen)
            # Paid in creator-id order until the budget runs out.
            paid_mask = reach & (np.cumsum(reach) <= paid)
            free = realised[paid_mask] >= target[paid_mask]
            deadweight = float(free.mean()) if paid else 0.0
            per_10k = float((~free).sum()) / budget * 10_000 if budget else 0.0
            print(
                f"{programme.name:<26} {scheme:<16} {ids.shape[0]:>8} {reach.mean():>7.1%} "
                f"{paid:>6} {paid / budget * 10_000:>12.3f} {per_10k:>14.3f} {deadweight:>10.1%}"
            )
    return 0
