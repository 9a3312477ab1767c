"""Boosted impressions rewarded by tasks and incentive programmes become floors of the next
traffic period, claimed from the creators' reward accounts into their pools' accounts."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from guanghe.ledger import (
    TransferRequest,
    find_account,
    open_accounts,
    post_transfers,
    reconcile,
)
from guanghe.pipelines import feature_step, growth_step, traffic_step
from guanghe.pipelines.cycle import CycleStep, run_cycle
from guanghe.runtime import Runtime
from guanghe.snapshots import read_snapshot
from guanghe.traffic.budgets import ISSUANCE, pool_account
from guanghe.traffic.floors import claimed_floors, reward_account
from guanghe.traffic.planning import Period
from guanghe.traffic.programs import load_programs, programs_path

DAY = dt.date(2026, 11, 20)
PLAN_DAY = DAY + dt.timedelta(days=1)
NOW = dt.datetime(2026, 11, 20, 12, tzinfo=dt.UTC)
STEPS = (
    CycleStep("features", feature_step.run),
    CycleStep("growth", growth_step.run),
    CycleStep("traffic", traffic_step.run),
)
#: Creator 6 won a task's boosted impressions, creator 4 an incentive's, creator 2 both.
REWARDS = {(6, "task_boost"): 40_000, (4, "incentive_traffic"): 20_000, (2, "task_boost"): 5_000}
OWED = {6: 40_000, 4: 20_000, 2: 5_000 + 7_000}


def _reward(session: Session) -> None:
    rewards = {**REWARDS, (2, "incentive_traffic"): 7_000}
    keys = [reward_account(c, purpose) for c, purpose in rewards]
    ids = open_accounts(session, [ISSUANCE, *keys], now=NOW)
    requests = [
        TransferRequest(
            f"reward:{c}:{purpose}",
            "task_reward" if purpose == "task_boost" else "incentive_traffic",
            debit_account_id=ids[ISSUANCE],
            credit_account_id=ids[reward_account(c, purpose)],
            amount=amount,
        )
        for (c, purpose), amount in rewards.items()
    ]
    assert all(r.ok for r in post_transfers(session, requests, business_day=DAY, now=NOW))


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_rewarded_impressions_are_floors_the_pools_accounts_back(runtime: Runtime) -> None:
    from tests.conftest import insert_seed_platform

    insert_seed_platform(runtime)
    runtime.write(_reward)
    run_cycle(runtime, DAY, steps=STEPS)
    root = runtime.settings.snapshots_dir
    allocation = read_snapshot(root, "traffic_allocation", PLAN_DAY).to_pandas()
    allocated = allocation.set_index("creator_id")["impressions"]
    for creator, owed in OWED.items():
        assert allocated[creator] >= owed  # the floor is honoured, past the pool's usual cap
    programs = load_programs(programs_path(runtime.settings.data_dir))
    pool_of = allocation.set_index("creator_id")["pool"]
    default_total = 1_500 * 6 * 7
    with runtime.sessions() as session:
        assert reconcile(session) == []
        period = Period(PLAN_DAY, PLAN_DAY + dt.timedelta(days=6))
        floors = claimed_floors(session, programs, period)
        # Every reward account is emptied into the pool the creator is planned in.
        for creator, purpose in (*REWARDS, (2, "incentive_traffic")):
            account = find_account(session, reward_account(creator, purpose))
            assert account is not None
            assert account.balance == 0
        pools = {name: find_account(session, pool_account(programs, name)) for name in set(pool_of)}
    assert floors.by_creator == OWED
    claimed_by_pool: dict[str, int] = {}
    for creator, owed in OWED.items():
        claimed_by_pool[pool_of[creator]] = claimed_by_pool.get(pool_of[creator], 0) + owed
    assert floors.by_pool == claimed_by_pool
    funded = {name: (a.credits_posted if a else 0) for name, a in pools.items()}
    # The pools' budgets grew by the claims, and the allocation spends no more than funded.
    assert sum(funded.values()) == default_total + sum(OWED.values())
    for name, total in allocation.groupby("pool")["impressions"].sum().items():
        assert total <= funded[str(name)]
    plan = read_snapshot(root, "traffic_plan", PLAN_DAY).to_pandas().set_index("creator_id")
    # Pacing spreads the floor over the period's seven days.
    assert plan.loc[6, "quota"] >= OWED[6] // 7

    run_cycle(runtime, DAY, steps=STEPS)  # a re-run claims nothing twice
    with runtime.sessions() as session:
        assert claimed_floors(session, programs, period).by_creator == OWED
        assert reconcile(session) == []
