"""Predicted performance on the synthetic platform's held-out works.

``python -m bench diagnosis [--creators N] [--days D] [--holdout-days H] [--seed S]``

Generates a platform, trains the diagnosis model as the cycle would on the works whose
outcome window ended ``H`` days before the last day, and scores it on the works published
after that cut (whose outcomes it never saw): Spearman rank correlation of predicted with
actual plays in the first days, overall and within verticals, beside two naive rankings an
operator might use (the creator's follower count; the creator's median outcome so far).
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    return float(pd.Series(a).rank().corr(pd.Series(b).rank()))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench diagnosis")
    parser.add_argument("--creators", type=int, default=3_000)
    parser.add_argument("--days", type=int, default=45)
    parser.add_argument("--holdout-days", type=int, default=10)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)

    from guanghe.diagnosis.model import OUTCOME_DAYS, fit_model, training_set
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.sim import generate_platform

    with tempfile.TemporaryDirectory(prefix="guanghe-diagnosis-") as data_dir:
        settings = Settings(data_dir=Path(data_dir), database_url="")
        with Runtime(settings) as runtime:
            summary = generate_platform(
                runtime, creators=args.creators, days=args.days, seed=args.seed
            )
            cut = summary.last_date - dt.timedelta(days=args.holdout_days)
            with runtime.sessions() as session:
                train = training_set(session, runtime.event_log, cut)
                everything = training_set(session, runtime.event_log, summary.last_date)
            started = time.perf_counter()
            model = fit_model(train, cut, seed=args.seed)
            fit_s = time.perf_counter() - started
    assert model is not None, "too little history to train"
    held = ~np.isin(everything.work_id, train.work_id)
    x, y = everything.x[held], everything.y[held]
    verticals = everything.vertical_id[held]
    predicted = model.regressor.predict(x)
    followers = x[:, 6]  # log followers
    prior = x[:, 7]  # the creator's median outcome over earlier works
    print(
        f"platform: {args.creators:,} creators, {args.days} days; trained on {train.y.size:,} "
        f"works up to {cut} in {fit_s:.1f} s; held out {held.sum():,} works published after "
        f"(outcome: log plays in the first {OUTCOME_DAYS} days)"
    )
    print(f"\n{'ranking':38} {'Spearman (all)':>15} {'median within verticals':>24}")
    for name, score in (
        ("diagnosis model (product)", predicted),
        ("creator follower count", followers),
        ("creator's median outcome so far", prior),
    ):
        within = [
            _spearman(score[verticals == v], y[verticals == v])
            for v in np.unique(verticals)
            if (verticals == v).sum() >= 30
        ]
        print(f"{name:38} {_spearman(score, y):15.3f} {float(np.median(within)):24.3f}")
    return 0
