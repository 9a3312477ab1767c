"""The quality score against the synthetic platform's hidden latent quality.

``python -m bench quality_score [--creators N] [--days D] [--seed S]``

Generates a platform into a temporary data directory, runs the cycle's feature and growth steps
for its last day, and prints the Spearman rank correlation of the score with the hidden latent
quality, side by side with the naive proxies an operator would otherwise use (follower count,
and follows gained over the last 28 days), overall and per stage; then each signal's estimate
behind the score (``rank_<signal>``), and whether the score beats follower count overall and
within every stage.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd


def _spearman(a: pd.Series, b: pd.Series) -> float:
    return float(a.rank().corr(b.rank()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench quality_score")
    parser.add_argument("--creators", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from guanghe.pipelines import CycleContext, feature_step, growth_step
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform
    from guanghe.sim.truth import load_ground_truth
    from guanghe.snapshots import read_snapshot

    with tempfile.TemporaryDirectory(prefix="guanghe-quality-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url="")
        with Runtime(settings) as runtime:
            summary = generate_platform(
                runtime, creators=args.creators, days=args.days, seed=args.seed
            )
            started = time.perf_counter()
            feature_step.run(CycleContext.for_date(runtime, summary.last_date))
            growth_step.run(CycleContext.for_date(runtime, summary.last_date))
            cycle_s = time.perf_counter() - started
            root = settings.snapshots_dir
            growth = read_snapshot(root, growth_step.SNAPSHOT, summary.last_date).to_pandas()
            features = read_snapshot(root, feature_step.SNAPSHOT, summary.last_date).to_pandas()
            truth = load_ground_truth(settings).to_pandas()
    frame = growth.merge(
        truth[["creator_id", "latent_quality", "followers_final"]], on="creator_id"
    ).merge(features, on="creator_id", suffixes=("", "_f"))
    follows = "follows_28d"
    peers = {
        "quality score (product)": "quality",
        "follower count": "followers_final",
        f"{follows}": follows,
    }
    print(
        f"quality_score: {args.creators:,} creators x {args.days} days, seed {args.seed}; "
        f"features + growth steps {cycle_s:.1f} s"
    )
    peers |= {f"  signal: {c.removeprefix('rank_')}": c for c in growth if c.startswith("rank_")}
    stages = sorted(frame["stage"].unique())
    print(f"{'signal':<30}{'all':>8}" + "".join(f"{s:>10}" for s in stages))
    counts = [len(frame)] + [int((frame["stage"] == s).sum()) for s in stages]
    print(f"{'creators':<30}{counts[0]:>8,}" + "".join(f"{c:>10,}" for c in counts[1:]))
    wins = []
    for scope in ["all", *stages]:
        part = frame if scope == "all" else frame[frame["stage"] == scope]
        score = _spearman(part["quality"], part["latent_quality"])
        wins.append(score > _spearman(part["followers_final"], part["latent_quality"]))
    for label, column in peers.items():
        cells = [_spearman(frame[column], frame["latent_quality"])]
        for stage in stages:
            part = frame[frame["stage"] == stage]
            cells.append(_spearman(part[column], part["latent_quality"]))
        print(
            f"{label:<30}"
            + "".join(f"{c:>8.3f}" if i == 0 else f"{c:>10.3f}" for i, c in enumerate(cells))
        )
    verdict = "beats" if all(wins) else "does not beat"
    print(f"the quality score {verdict} follower count overall and within every stage")
    return 0
