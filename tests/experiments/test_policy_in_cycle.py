"""A running experiment's policy takes effect in the daily cycle: the traffic step gives the
treated their policy's slice of each pool and records the arms, the matching step ranks their
products by commission."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from guanghe.experiments import ExperimentPolicy, ExperimentSpec, create_experiment, treated
from guanghe.pipelines.cycle import run_cycle
from guanghe.runtime import Runtime
from guanghe.sim import generate_platform
from guanghe.snapshots import read_snapshot
from guanghe.store import Product, transaction

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
POOLS = ("new_creator", "high_quality", "institution", "general")


@pytest.mark.slow
def test_treated_creators_get_their_policy_in_the_cycle(runtime: Runtime) -> None:
    summary = generate_platform(runtime, creators=400, days=30, seed=5)
    day = summary.last_date
    plan_day = day + dt.timedelta(days=1)
    policy = ExperimentPolicy(pool_shares=dict.fromkeys(POOLS, 2.0), product_ranking="commission")
    spec = ExperimentSpec(
        key="double",
        title="Double traffic",
        hypothesis="",
        policy=policy,
        treatment_share=0.2,
        starts_on=day,
        ends_on=day + dt.timedelta(days=30),
    )
    runtime.write(lambda s: create_experiment(s, spec, pools=POOLS, actor="test", now=NOW))
    run_cycle(runtime, day)

    root = runtime.settings.snapshots_dir
    allocation = read_snapshot(root, "traffic_allocation", plan_day).to_pandas()
    is_treated = treated("double", allocation["creator_id"].to_numpy(), 0.2)
    assert ((allocation["arm"] == "double") == is_treated).all()
    for pool, part in allocation.groupby("pool"):
        mine = part["arm"] == "double"
        if mine.sum() < 5 or (~mine).sum() < 5:
            continue
        per_treated = part.loc[mine, "impressions"].mean()
        per_control = part.loc[~mine, "impressions"].mean()
        assert per_treated > 1.3 * per_control, pool

    matches = read_snapshot(root, "product_matches", day).to_pandas()
    with transaction(runtime.sessions) as session:
        per_sale = {p.id: p.price_fen * p.commission_bp for p in session.query(Product).all()}
    checked = 0
    for creator, part in matches.groupby("creator_id"):
        if not treated("double", np.array([creator]), 0.2)[0]:
            continue
        value = [per_sale[p] for p in part.sort_values("rank")["product_id"]]
        assert value == sorted(value, reverse=True), creator
        checked += 1
    assert checked > 0
