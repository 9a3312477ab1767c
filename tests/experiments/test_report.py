"""The report: a pre-period of 28 days whatever the analysed length, each creator's followers at
the start recovered from the log, the normalised metric and the estimator it states."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from sqlalchemy import select

from guanghe.experiments import assignments, create_experiment, experiment_report
from guanghe.experiments.report import (
    FOLLOWS_PER_1K_FOLLOWERS,
    MIN_FOLLOWERS_COUNTED,
    follower_stratum,
)
from guanghe.runtime import Runtime
from guanghe.store import Creator, transaction
from tests.experiments.test_catalog import NOW, POOLS, spec
from tests.pipelines.sample import AS_OF, log_sample_events
from tests.seed import SeedPlatform


def test_a_short_experiment_is_adjusted_with_28_days_and_reports_follows_per_follower(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    log_sample_events(runtime)  # every third day from AS_OF - 39 to AS_OF: c follows, 1 unfollow
    starts_on = AS_OF - dt.timedelta(days=2)
    short = dataclasses.replace(spec(), starts_on=starts_on, ends_on=AS_OF)
    with transaction(runtime.sessions) as session:
        experiment = create_experiment(session, short, pools=POOLS, actor="test", now=NOW)
    with transaction(runtime.sessions) as session:
        report = experiment_report(session, runtime.event_log, experiment.id)
        ids, _ = assignments(session, experiment.id)
        now = dict(session.execute(select(Creator.id, Creator.follower_count)).all())
    # 3 days analysed; the covariate still covers the 28 days before (it was 3 before).
    assert report.analysed_from == starts_on
    assert report.pre_to == starts_on - dt.timedelta(days=1)
    assert report.pre_from == starts_on - dt.timedelta(days=28)
    metrics = {m.metric: m for m in report.metrics}
    per_1k = metrics[FOLLOWS_PER_1K_FOLLOWERS]
    assert "per 1,000 followers at the start" in per_1k.definition
    # Creator c followed c on AS_OF (the only sample day analysed) and net c - 1 then, so
    # they had follower_count - (c - 1) followers at the start.
    start = np.array([max(now[c] - (c - 1), 0) for c in ids.tolist()], float)
    expected = ids * 1_000.0 / np.maximum(start, MIN_FOLLOWERS_COUNTED)
    e = per_1k.effect
    assert e.control_creators + e.treatment_creators == ids.size == 6
    total = e.control_mean * e.control_creators + e.treatment_mean * e.treatment_creators
    assert np.isclose(total, expected.sum())
    for m in report.metrics:
        assert m.effect.estimator in ("cuped", "post-stratified cuped")
        assert m.definition
        assert "CUPED on the pre-period" in m.sentence or m.sentence.startswith("Too small")


def test_follower_strata_are_decades() -> None:
    followers = np.array([0, 99, 100, 999, 1_000, 250_000, 5_000_000], float)
    assert follower_stratum(followers).tolist() == [0, 0, 1, 1, 2, 4, 5]
