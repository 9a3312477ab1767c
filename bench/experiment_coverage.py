"""Experiment intervals against a known effect: coverage and width over repeated experiments.

``python -m bench experiment_coverage [--creators N] [--days D] [--reps R] [--post-days P]
[--effect-impressions X] [--share S] [--seed S]``

Generates a platform into a temporary data directory; its event log is the pre-period (the
last ``post-days`` days before the experiment, at most 28, read with the report's own
``creator_metrics``). Each repetition is a new experiment: a new key splits the creators
(``guanghe.experiments.treated``), and the post-period's follows are drawn from the
simulator's hidden truth — ``Poisson(P × (organic + boost))`` per creator, with ``organic``
the creator's pre-period organic exposures a day times their hidden organic follow rate
(times a log-normal shock of sd 0.3, so that the pre-period does not foretell the post-period
exactly) and ``boost = a (1 - exp(-x / s))`` on their hidden curve, ``x`` their pre-period
boosted impressions a day. The policy injects the known effect: treated creators in the boost
programme get ``effect-impressions`` more a day. The true effect is the sample's average of
what those impressions buy on the hidden curves (known exactly in each repetition). The
report's estimator (``guanghe.experiments.estimate_effect``, CUPED with the pre-period's
follows) gives the interval; the plain difference of means is shown beside it, and an A/A run
(no injected effect) counts false alarms.

The issue asks for this on the closed loop (``guanghe sim advance``, being built on its own
branch): there, each repetition would create the experiment through
``guanghe.experiments.create_experiment`` with a ``pool_shares`` policy, play the platform
forward with ``guanghe.sim.advance`` and take follows per creator from its
``AdvanceResult.follows``; the true effect from ``AdvanceResult.boosted`` on the hidden curves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench experiment_coverage")
    parser.add_argument("--creators", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--post-days", type=int, default=14)
    parser.add_argument("--effect-impressions", type=float, default=2_000.0)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from guanghe.experiments import creator_metrics, estimate_effect, treated
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform
    from guanghe.sim.truth import load_ground_truth

    with tempfile.TemporaryDirectory(prefix="guanghe-coverage-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url="")
        with Runtime(settings) as runtime:
            started = time.perf_counter()
            summary = generate_platform(
                runtime, creators=args.creators, days=args.days, seed=args.seed
            )
            generate_s = time.perf_counter() - started
            truth = load_ground_truth(settings).to_pandas()
            ids = truth["creator_id"].to_numpy().astype(np.int64)
            pre_days = min(args.post_days, 28)
            first = summary.last_date - dt.timedelta(days=pre_days - 1)
            pre = creator_metrics(runtime.event_log, ids, first, summary.last_date)
            organic = _organic_exposures(runtime, ids, first, summary.last_date) / pre_days
    a = truth["response_a"].to_numpy()
    s = truth["response_s"].to_numpy()
    eligible = truth["in_boost_program"].to_numpy().astype(bool)
    rate = truth["organic_follow_rate"].to_numpy()
    boosted = pre["boosted_impressions"] / pre_days
    covariate = pre["follows"] * (args.post_days / pre_days)
    p = args.post_days

    def curve(x: np.ndarray) -> np.ndarray:
        return np.asarray(a * -np.expm1(-x / s))

    lift = np.where(eligible, p * (curve(boosted + args.effect_impressions) - curve(boosted)), 0.0)
    rng = np.random.default_rng(args.seed)
    print(
        f"experiment_coverage: {args.creators:,} creators, {args.days} days generated in "
        f"{generate_s:.0f} s; {args.reps} experiments of {p} days, {args.share:.0%} treated, "
        f"+{args.effect_impressions:,.0f} boosted impressions a day to treated programme members"
    )
    rows = []
    for label, effect_on in (("known effect", True), ("A/A (no effect)", False)):
        found = []
        for rep in range(args.reps):
            arm = treated(f"coverage-{args.seed}-{rep}", ids, args.share)
            shock = rng.lognormal(0.0, 0.3, ids.shape[0])
            mean = p * (organic * rate * shock + curve(boosted))
            mean = mean + (lift * arm if effect_on else 0.0)
            follows = rng.poisson(mean)
            truth_effect = float(lift[arm].sum() / max(arm.sum(), 1)) if effect_on else 0.0
            e = estimate_effect(follows, covariate, arm)
            found.append((truth_effect, e))
        rows.append((label, found))
    header = (
        f"{'scenario':<18}{'interval':<10}{'coverage':>9}{'mean width':>12}"
        f"{'true effect':>13}{'width/effect':>14}{'var. removed':>14}{'said change':>13}"
    )
    print(header)
    for label, found in rows:
        true_mean = float(np.mean([t for t, _ in found]))
        for name, low, high in (
            ("CUPED", "ci_low", "ci_high"),
            ("plain", "unadjusted_ci_low", "unadjusted_ci_high"),
        ):
            covered = np.mean([getattr(e, low) <= t <= getattr(e, high) for t, e in found])
            width = float(np.mean([getattr(e, high) - getattr(e, low) for _, e in found]))
            change = np.mean([getattr(e, low) > 0 or getattr(e, high) < 0 for _, e in found])
            ratio = f"{width / true_mean:>14.2f}" if true_mean else f"{'-':>14}"
            removed = np.mean([e.variance_reduction for _, e in found]) if name == "CUPED" else 0.0
            print(
                f"{label:<18}{name:<10}{covered:>9.0%}{width:>12.2f}{true_mean:>13.2f}"
                f"{ratio}{removed:>14.0%}{change:>13.0%}"
            )
    return 0


def _organic_exposures(
    runtime: object, ids: np.ndarray, first: dt.date, last: dt.date
) -> np.ndarray:
    """Organic exposures per creator over ``first..last`` (aligned with ``ids``)."""
    from guanghe.runtime import Runtime

    assert isinstance(runtime, Runtime)
    with runtime.event_log.connect() as con:
        table = con.sql(
            "SELECT creator_id, sum(count) AS n FROM events WHERE type = 'exposure' "
            "AND NOT coalesce(boosted, false) AND CAST(ts AS DATE) BETWEEN ? AND ? "
            "GROUP BY creator_id",
            params=[first, last],
        ).to_arrow_table()
    found = dict(zip(table["creator_id"].to_pylist(), table["n"].to_pylist(), strict=True))
    return np.array([float(found.get(int(c), 0) or 0) for c in ids.tolist()])
