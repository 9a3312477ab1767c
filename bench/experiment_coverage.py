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

``--closed-loop`` runs the experiments on the closed loop instead (:func:`closed_loop`): the
platform is generated once; each repetition copies it, creates the experiment through
``guanghe.experiments.create_experiment`` (a ``pool_shares`` policy: treated creators get
``--pool-share`` times their head-count share of every pool's budget, the control the rest),
plays it forward ``--post-days`` days with ``guanghe.sim.advance`` (the cycle's ``features``,
``growth`` and ``traffic`` steps between days, so the traffic step solves the period's
allocation with the experiment's arms), and reads the intervals from the report
(``guanghe.experiments.experiment_report``, as the API gives them): ``follows`` and
``follows_per_1k_followers`` (post-stratified CUPED with 28 pre-period days), beside the
report's previous estimator recomputed from the log (CUPED on ``follows`` with as many
pre-period days as analysed) and the plain differences. ``--save FILE`` appends each
repetition as a JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from dataclasses import dataclass
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
    parser.add_argument("--closed-loop", action="store_true")
    parser.add_argument("--pool-share", type=float, default=1.5)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--save", type=Path, help="closed loop: also write each rep as JSON lines")
    args = parser.parse_args(argv)
    if args.closed_loop:
        return closed_loop(args)

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


def closed_loop(args: argparse.Namespace) -> int:
    """Coverage of the report's interval over experiments played on the closed loop.

    The true effect of a repetition is the average over all its creators of what being treated
    rather than control changes in their expected follows over the post-period, on the hidden
    truth: organic follows do not depend on the arm, so it is the difference of the hidden
    boost curve ``a (1 - exp(-x / s))`` at the creator's daily boost in either arm. A creator's
    boost in their own arm is their period allocation (``traffic_allocation``) over the
    period's days; in the other arm it is what the same solver gives them at that arm's price
    (the allocation's optimality condition: ``x = S ln(w A / (S q))`` on their fitted period
    curve ``A, S``, at the other arm's pool price plus their vertical's price ``q``, within
    their floor, scaled as the other arm's floors are, and their cap). Exploration is off in
    these runs (``exploration_share = 0``) so that the allocation is the solver's optimum.
    """
    import shutil
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from multiprocessing import get_context

    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform

    with tempfile.TemporaryDirectory(prefix="guanghe-coverage-loop-") as scratch:
        template = Path(scratch) / "template"
        started = time.perf_counter()
        with Runtime(Settings(data_dir=template, database_url="")) as runtime:
            generate_platform(runtime, creators=args.creators, days=args.days, seed=args.seed)
        programme = template / "traffic.toml"
        from guanghe.traffic.programs import DEFAULT_PROGRAMS

        text = DEFAULT_PROGRAMS.read_text()
        programme.write_text(text.replace("exploration_share = 0.05", "exploration_share = 0.0"))
        generate_s = time.perf_counter() - started
        print(
            f"experiment_coverage --closed-loop: {args.creators:,} creators, {args.days} days "
            f"generated in {generate_s:.0f} s; {args.reps} experiments of {args.post_days} "
            f"days, {args.share:.0%} treated with pool_shares x{args.pool_share:g}",
            flush=True,
        )
        print("| rep | metric | true effect | old interval | new interval | s |")
        print("|---:|---|---:|---|---|---:|", flush=True)
        found: list[_LoopRep] = []
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            jobs = {
                pool.submit(_loop_rep, str(template), scratch, rep, args): rep
                for rep in range(args.reps)
            }
            for job in as_completed(jobs):
                rep = job.result()
                found.append(rep)
                if args.save is not None:
                    with args.save.open("a") as out:
                        out.write(json.dumps(_as_json(jobs[job], rep)) + "\n")
                for metric, truth in (
                    ("follows", rep.truth),
                    ("follows_per_1k_followers", rep.truth_per_1k),
                ):
                    old = rep.intervals.get((metric, "old"))
                    new = rep.intervals[(metric, "new")]
                    print(
                        f"| {jobs[job]} | {metric} | {truth:.2f} | "
                        f"{_words(old) if old else '-'} | {_words(new)} | {rep.seconds:.0f} |",
                        flush=True,
                    )
        shutil.rmtree(template)
    print()
    print(
        "| metric | interval | coverage | coverage (planned truth) | mean width "
        "| mean true effect | width / effect | said changed | said increase |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for (metric, which), label in _INTERVALS.items():
        raw = metric == "follows"
        truths = np.array([r.truth if raw else r.truth_per_1k for r in found])
        planned = np.array([r.planned_truth if raw else r.planned_truth_per_1k for r in found])
        lows = np.array([r.intervals[(metric, which)][1] for r in found])
        highs = np.array([r.intervals[(metric, which)][2] for r in found])
        width = float(np.mean(highs - lows))
        print(
            f"| {metric} | {label} | {np.mean((lows <= truths) & (truths <= highs)):.0%} | "
            f"{np.mean((lows <= planned) & (planned <= highs)):.0%} | {width:,.2f} | "
            f"{truths.mean():,.2f} | {width / truths.mean():,.2f} | "
            f"{np.mean((lows > 0) | (highs < 0)):.0%} | {np.mean(lows > 0):.0%} |"
        )
    return 0


#: (metric, interval) → how the summary names it. "old": the report's estimator before
#: post-stratification and the 28-day pre-period (CUPED with as many pre-period days as
#: analysed); "new": the report's; "plain": the difference of means.
_INTERVALS: dict[tuple[str, str], str] = {
    ("follows", "old"): "old: CUPED, pre-period = analysed days",
    ("follows", "plain"): "plain difference",
    ("follows", "new"): "new: post-stratified CUPED, 28-day pre-period",
    ("follows_per_1k_followers", "plain"): "plain difference",
    ("follows_per_1k_followers", "new"): "new: post-stratified CUPED, 28-day pre-period",
}


@dataclass(frozen=True, slots=True)
class _LoopRep:
    """One closed-loop experiment: the true effects (per creator over the post-period, on the
    raw and the normalised metric) and each interval as ``(estimate, low, high)``."""

    truth: float
    truth_per_1k: float
    planned_truth: float
    planned_truth_per_1k: float
    intervals: dict[tuple[str, str], tuple[float, float, float]]
    seconds: float


def _as_json(index: int, rep: _LoopRep) -> dict[str, object]:
    return {
        "rep": index,
        "truth": rep.truth,
        "truth_per_1k": rep.truth_per_1k,
        "planned_truth": rep.planned_truth,
        "planned_truth_per_1k": rep.planned_truth_per_1k,
        "intervals": {f"{m}/{w}": list(v) for (m, w), v in rep.intervals.items()},
        "seconds": rep.seconds,
    }


def _words(interval: tuple[float, float, float]) -> str:
    return f"{interval[1]:,.2f} to {interval[2]:,.2f}"


def _loop_rep(template: str, scratch: str, rep: int, args: argparse.Namespace) -> _LoopRep:
    """One closed-loop experiment, read from the report (new) and from the event log with the
    report's previous estimator (old)."""
    import shutil

    from guanghe.experiments import (
        ExperimentPolicy,
        ExperimentSpec,
        assignments,
        create_experiment,
        creator_metrics,
        estimate_effect,
        experiment_report,
    )
    from guanghe.experiments.report import MIN_FOLLOWERS_COUNTED, followers_at_start
    from guanghe.pipelines import CYCLE_STEPS
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import advance
    from guanghe.sim.truth import load_ground_truth
    from guanghe.snapshots import read_snapshot
    from guanghe.traffic.programs import load_programs, programs_path

    started = time.perf_counter()
    data_dir = Path(scratch) / f"rep-{rep}"
    shutil.copytree(template, data_dir)
    with Runtime(Settings(data_dir=data_dir, database_url="")) as runtime:
        runtime.init()
        last = dt.date.fromisoformat(runtime.event_log.dates()[-1])
        programs = load_programs(programs_path(data_dir))
        first = last + dt.timedelta(days=1)
        spec = ExperimentSpec(
            key=f"loop-{args.seed}-{rep}",
            title=f"closed-loop coverage {rep}",
            hypothesis="a larger share of every pool buys treated creators more follows",
            policy=ExperimentPolicy(
                pool_shares=dict.fromkeys(programs.pool_names, args.pool_share)
            ),
            treatment_share=args.share,
            starts_on=first,
            ends_on=first + dt.timedelta(days=args.post_days - 1),
        )
        now = dt.datetime.combine(last, dt.time(12), tzinfo=dt.UTC)
        experiment = runtime.write(
            lambda s: create_experiment(s, spec, pools=programs.pool_names, actor="bench", now=now)
        )
        steps = tuple(s for s in CYCLE_STEPS if s.name in ("features", "growth", "traffic"))
        advance(runtime, args.post_days, seed=args.seed * 1_000 + rep, steps=steps)
        end = spec.ends_on
        log = runtime.event_log
        with runtime.sessions() as session:
            report = experiment_report(session, log, experiment.id)
            ids, arm = assignments(session, experiment.id)
            followers = followers_at_start(session, log, ids, first, end)
        old_pre_first = last - dt.timedelta(days=min(args.post_days, 28) - 1)
        post = creator_metrics(log, ids, first, end)["follows"]
        old_pre = creator_metrics(log, ids, old_pre_first, last)["follows"]
        old = estimate_effect(post, old_pre * (args.post_days / min(args.post_days, 28)), arm)
        allocation = read_snapshot(runtime.settings.snapshots_dir, "traffic_allocation", first)
        truth = load_ground_truth(runtime.settings).to_pandas().set_index("creator_id")
        delivered = _daily_boosted(runtime, ids, first, args.post_days)
        planned, gain = _true_gains(
            allocation, truth, spec.key, programs.period.days, ids, delivered
        )
    shutil.rmtree(data_dir)
    metrics = {m.metric: m.effect for m in report.metrics}
    raw, per_1k = metrics["follows"], metrics["follows_per_1k_followers"]
    weight = 1_000.0 / np.maximum(followers, MIN_FOLLOWERS_COUNTED)
    return _LoopRep(
        truth=float(gain.mean()),
        truth_per_1k=float(np.mean(weight * gain)),
        planned_truth=float(planned.mean()),
        planned_truth_per_1k=float(np.mean(weight * planned)),
        intervals={
            ("follows", "old"): (old.effect, old.ci_low, old.ci_high),
            ("follows", "plain"): (
                raw.unadjusted_effect,
                raw.unadjusted_ci_low,
                raw.unadjusted_ci_high,
            ),
            ("follows", "new"): (raw.effect, raw.ci_low, raw.ci_high),
            ("follows_per_1k_followers", "plain"): (
                per_1k.unadjusted_effect,
                per_1k.unadjusted_ci_low,
                per_1k.unadjusted_ci_high,
            ),
            ("follows_per_1k_followers", "new"): (per_1k.effect, per_1k.ci_low, per_1k.ci_high),
        },
        seconds=time.perf_counter() - started,
    )


def _daily_boosted(runtime: object, ids: np.ndarray, first: dt.date, days: int) -> np.ndarray:
    """Boosted impressions delivered per creator of ``ids`` (sorted) and day from ``first``:
    shape ``(len(ids), days)``."""
    from guanghe.runtime import Runtime

    assert isinstance(runtime, Runtime)
    with runtime.event_log.connect() as con:
        table = con.sql(
            "SELECT creator_id, CAST(ts AS DATE) - CAST(? AS DATE) AS day, sum(count) AS n "
            "FROM events WHERE type = 'exposure' AND boosted AND CAST(ts AS DATE) BETWEEN ? AND ? "
            "GROUP BY ALL",
            params=[first, first, first + dt.timedelta(days=days - 1)],
        ).to_arrow_table()
    out = np.zeros((ids.shape[0], days))
    rows = np.searchsorted(ids, table["creator_id"].to_numpy().astype(np.int64))
    day = table["day"].to_numpy().astype(np.int64)
    found = (rows < ids.shape[0]) & (
        ids[np.minimum(rows, ids.shape[0] - 1)] == table["creator_id"].to_numpy()
    )
    np.add.at(out, (rows[found], day[found]), table["n"].to_numpy().astype(np.float64)[found])
    return out


def _true_gains(
    allocation: object,
    truth: object,
    arm_name: str,
    period_days: int,
    ids: np.ndarray,
    delivered: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per creator of ``ids`` (sorted), treated minus control expected follows over the
    post-period on the hidden curves (see :func:`closed_loop`), ``(as planned, as delivered)``;
    a creator without an allocation row gains nothing from either arm.

    As planned: each arm's period allocation spread evenly over the period's days. As
    delivered: the creator's own arm as ``delivered`` (boosted impressions per creator and
    day, ``(len(ids), post_days)``), the other arm's allocation at that arm's delivery that day
    (its delivered impressions over its planned ones): the boost path does not deliver all
    of a plan, and what it does not deliver buys nothing."""
    import pandas as pd
    import pyarrow as pa

    assert isinstance(allocation, pa.Table)
    assert isinstance(truth, pd.DataFrame)
    t = allocation.to_pandas()
    treated = (t["arm"] == arm_name).to_numpy()
    price = t["pool_price"].to_numpy()
    floor = t["floor"].to_numpy()
    other_price = np.zeros(len(t))
    floor_ratio = np.ones(len(t))
    for pool in t["pool"].unique():
        here = (t["pool"] == pool).to_numpy()
        for mine, other in ((here & treated, here & ~treated), (here & ~treated, here & treated)):
            if not mine.any() or not other.any():
                other_price[mine] = price[mine]
                continue
            other_price[mine] = float(np.median(price[other]))
            own_floor, other_floor = np.median(floor[mine]), np.median(floor[other])
            floor_ratio[mine] = other_floor / own_floor if own_floor > 0 else 1.0
    q = other_price + t["group_price"].to_numpy()
    sat, scale, w = t["saturation"].to_numpy(), t["scale"].to_numpy(), t["weight"].to_numpy()
    cap = t["cap"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = w * sat / (scale * q)
        interior = np.where(ratio > 1.0, scale * np.log(ratio), 0.0)
    other_x = np.where(q > 0, interior, cap)
    other_x = np.clip(other_x, np.minimum(floor * floor_ratio, cap), cap)
    own_x = t["impressions"].to_numpy().astype(np.float64)
    row_ids = t["creator_id"].to_numpy().astype(np.int64)
    at = np.searchsorted(ids, row_ids)
    a = truth.loc[row_ids, "response_a"].to_numpy()[:, None]
    s = truth.loc[row_ids, "response_s"].to_numpy()[:, None]
    days = delivered.shape[1]
    planned_path = np.repeat(own_x[:, None] / period_days, days, axis=1)
    other_planned = np.repeat(other_x[:, None] / period_days, days, axis=1)
    creator_planned = np.bincount(at, weights=own_x, minlength=ids.shape[0])[at]
    share = np.divide(own_x, creator_planned, out=np.zeros_like(own_x), where=creator_planned > 0)
    own_path = delivered[at] * share[:, None]
    rate = np.ones((2, days))  # each arm's delivered share of its plan, by day
    for k, arm in enumerate((treated, ~treated)):
        plan = planned_path[arm].sum(axis=0)
        rate[k] = np.divide(own_path[arm].sum(axis=0), plan, out=rate[k], where=plan > 0)
    other_delivered = other_planned * np.where(treated[:, None], rate[1], rate[0])

    def gain(own: np.ndarray, other: np.ndarray) -> np.ndarray:
        x_treated = np.where(treated[:, None], own, other)
        x_control = np.where(treated[:, None], other, own)
        row_gain = (a * (np.expm1(-x_control / s) - np.expm1(-x_treated / s))).sum(axis=1)
        return np.bincount(at, weights=row_gain, minlength=ids.shape[0])

    return gain(planned_path, other_planned), gain(own_path, other_delivered)
