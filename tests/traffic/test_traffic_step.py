"""The cycle's traffic step on a simulated platform: curves, the period's allocation, the day's
plan, budgets, deliveries settled into the ledger, and pacing that follows delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from guanghe.app import create_app
from guanghe.ledger import list_accounts, reconcile
from guanghe.pipelines.cycle import run_cycle
from guanghe.runtime import Runtime
from guanghe.sim import generate_platform
from guanghe.snapshots import read_snapshot
from guanghe.store import TrafficBudget, Work, transaction
from guanghe.traffic.floors import claimed_floors
from guanghe.traffic.planning import Period, default_budgets
from guanghe.traffic.programs import DEFAULT_PROGRAMS, load_programs
from guanghe.traffic.serving import BoostService, InProcessCounters


@pytest.mark.slow
def test_cycle_plans_serves_settles_and_paces(
    runtime: Runtime, token_for: Callable[..., str]
) -> None:
    summary = generate_platform(runtime, creators=400, days=30, seed=5)
    day = summary.last_date
    plan_day = day + dt.timedelta(days=1)
    run_cycle(runtime, day)
    root = runtime.settings.snapshots_dir
    allocation = read_snapshot(root, "traffic_allocation", plan_day)
    meta = allocation.schema.metadata
    assert float(meta[b"duality_gap"]) < 1e-6
    plan = read_snapshot(root, "traffic_plan", plan_day).to_pandas()
    assert len(plan) == 400
    boostable = allocation["boostable"].to_numpy(zero_copy_only=False)
    assert boostable.any()
    # Every creator with a work to boost gets quota; those without get none.
    assert ((plan["quota"] > 0).to_numpy() == boostable).all()

    client = TestClient(create_app(runtime))
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    by_pool = client.get("/v1/traffic/plan", params={"by": "pool"}, headers=operator).json()
    assert by_pool["period_starts_on"] == str(plan_day)
    budgets = {g["key"]: g["allocated"] for g in by_pool["groups"]}
    assert set(budgets) <= {"new_creator", "high_quality", "institution", "general"}
    assert by_pool["unplannable"] == {}  # every pool with a budget has members
    # The allocation spends each pool's default budget and the boosted impressions its
    # creators were rewarded with (claimed as their floors), never more; the share of a pool
    # without members flows to the next pool with members.
    programs = load_programs(DEFAULT_PROGRAMS)
    with runtime.sessions() as session:
        period = Period(plan_day, plan_day + dt.timedelta(days=6))
        claimed = claimed_floors(session, programs, period).by_pool.get("new_creator", 0)
    members = plan[boostable].groupby("pool").size()
    counts = [int(members.get(name, 0)) for name in programs.pool_names]
    expected = default_budgets(programs, 400, 7, counts)
    assert budgets["new_creator"] <= expected["new_creator"] + claimed
    assert budgets["new_creator"] >= expected["new_creator"] + claimed - 1_000

    # The ranker delivers a creator's whole quota, and half again of another's.
    busy, slow = (int(c) for c in plan.sort_values("quota")["creator_id"].iloc[-2:])
    quota = dict(zip(plan["creator_id"], plan["quota"], strict=True))
    with transaction(runtime.sessions) as session:
        work_of = {
            c: session.scalars(select(Work.id).where(Work.creator_id == c).limit(1)).one()
            for c in (busy, slow)
        }
        service = BoostService(
            root,
            runtime.sessions,
            InProcessCounters(),
            clock=lambda: dt.datetime.combine(plan_day, dt.time(12), tzinfo=dt.UTC),
        )
        reports = service.record(
            session,
            [
                ("r1", busy, work_of[busy], int(quota[busy])),
                ("r2", slow, work_of[slow], int(quota[slow]) // 2),
            ],
        )
    assert [r.status for r in reports] == ["recorded", "recorded"]

    run_cycle(runtime, plan_day)
    run_cycle(runtime, plan_day)  # re-running a day posts nothing new
    with transaction(runtime.sessions) as session:
        assert reconcile(session) == []
        support = {
            a.owner_id: a.balance
            for a in list_accounts(session, owner_kind="creator")
            if a.purpose == "traffic_support"
        }
    assert support == {busy: quota[busy], slow: quota[slow] // 2}
    after = read_snapshot(root, "traffic_plan", plan_day + dt.timedelta(days=1)).to_pandas()
    after = after.set_index("creator_id")
    allocated = after["allocated"]
    # Six days are left: the slow creator catches up, the busy one is on pace.
    assert after.loc[busy, "quota"] == (allocated[busy] - quota[busy]) // 6
    assert after.loc[slow, "quota"] == (allocated[slow] - quota[slow] // 2) // 6
    assert after.loc[slow, "quota"] > quota[slow]

    creator = {"Authorization": f"Bearer {token_for('creator', busy)}"}
    own = client.get(f"/v1/creators/{busy}/traffic", headers=creator).json()
    assert own["allocated"] == allocated[busy]
    other = client.get(f"/v1/creators/{slow}/traffic", headers=creator)
    assert other.status_code in (403, 404)

    # The dashboard: operators see the plan by each dimension, creators their own support.
    assert client.post("/login", data={"token": token_for("operator")}).status_code == 200
    for by in ("pool", "vertical", "stage"):
        page = client.get("/dashboard/traffic", params={"by": by})
        assert page.status_code == 200
        assert 'id="traffic-groups"' in page.text
    assert client.get("/dashboard/traffic", params={"by": "x"}).status_code == 422
    client.cookies.clear()
    assert client.post("/login", data={"token": token_for("creator", busy)}).status_code == 200
    mine = client.get("/dashboard/traffic")
    assert mine.status_code == 200
    assert 'id="my-allocated"' in mine.text
    assert f"{allocated[busy]:,}" in mine.text


def test_operators_set_budgets_per_period(runtime: Runtime, token_for: Callable[..., str]) -> None:
    client = TestClient(create_app(runtime))
    operator = {"Authorization": f"Bearer {token_for('operator')}"}
    body = {
        "pool": "general",
        "starts_on": "2027-01-04",
        "ends_on": "2027-01-10",
        "impressions": 5_000_000,
    }
    created = client.put("/v1/traffic/budgets", json=body, headers=operator)
    assert created.status_code == 200
    assert created.json()["created_by"].startswith("operator:")
    same_period = client.put(
        "/v1/traffic/budgets", json=body | {"pool": "new_creator"}, headers=operator
    )
    assert same_period.status_code == 200
    overlapping = client.put(
        "/v1/traffic/budgets",
        json=body | {"starts_on": "2027-01-06", "ends_on": "2027-01-12"},
        headers=operator,
    )
    assert overlapping.status_code == 409
    unknown = client.put("/v1/traffic/budgets", json=body | {"pool": "vip"}, headers=operator)
    assert unknown.status_code == 422
    assert "unknown traffic pool" in unknown.json()["detail"]
    creator = {"Authorization": f"Bearer {token_for('operator')}"}
    assert client.get("/v1/traffic/plan", headers=creator).status_code == 404


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_no_events_no_curves_still_plans(runtime: Runtime) -> None:
    from tests.conftest import insert_seed_platform

    insert_seed_platform(runtime)
    day = dt.date(2026, 11, 20)
    run_cycle(runtime, day)
    plan = read_snapshot(runtime.settings.snapshots_dir, "traffic_plan", day + dt.timedelta(days=1))
    assert np.all(plan["quota"].to_numpy() >= 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_creators_without_a_boostable_work_get_no_quota(
    runtime: Runtime, token_for: Callable[..., str]
) -> None:
    """A creator with no work, or only works judged duplicates, cannot be delivered a boost:
    the plan gives them nothing (the reason in the step's report and in their ``why``) and
    their pool's budget goes to the creators who can use it."""
    from guanghe.pipelines import CYCLE_STEPS
    from guanghe.store import Creator, WorkOriginality
    from tests.conftest import NOW, insert_seed_platform

    insert_seed_platform(runtime)
    with transaction(runtime.sessions) as session:
        session.add(
            Creator(
                id=7,
                handle="creator7",
                display_name="Creator 7",
                vertical_id=1,
                joined_on=dt.date(2024, 1, 7),
                follower_count=40,
                stage="novice",
            )
        )
        copied = session.scalars(select(Work.id).where(Work.creator_id == 6)).all()
        session.add_all(
            WorkOriginality(
                work_id=w,
                verdict="duplicate",
                original_work_id=100,
                original_creator_id=1,
                decided_at=NOW,
            )
            for w in copied
        )
    day = dt.date(2026, 11, 28)
    steps = tuple(s for s in CYCLE_STEPS if s.name in ("features", "growth", "traffic"))
    run = run_cycle(runtime, day, steps=steps)
    root = runtime.settings.snapshots_dir
    plan = read_snapshot(root, "traffic_plan", day + dt.timedelta(days=1)).to_pandas()
    plan = plan.set_index("creator_id")
    assert {6, 7} <= set(plan.index)
    assert plan.loc[[6, 7], "allocated"].tolist() == [0, 0]
    assert plan.loc[[6, 7], "quota"].tolist() == [0, 0]
    boostable = plan.drop(index=[6, 7])
    assert (boostable["quota"] > 0).all()
    # Every pool's budget is planned to creators who can be delivered it.
    allocation = read_snapshot(root, "traffic_allocation", day + dt.timedelta(days=1))
    table = allocation.to_pandas().set_index("creator_id")
    assert table.loc[[6, 7], "boostable"].tolist() == [False, False]
    assert table["boostable"].drop(index=[6, 7]).all()
    with runtime.sessions() as session:
        budgets = dict(
            session.execute(
                select(TrafficBudget.pool, TrafficBudget.impressions).where(
                    TrafficBudget.starts_on == day + dt.timedelta(days=1)
                )
            ).all()
        )
    # A pool spends its budget, or everyone in it who can be delivered a boost is held by
    # their cap or their vertical's.
    for pool, rows in table.groupby("pool"):
        usable = rows[rows["boostable"]]
        held = bool(
            ((usable["impressions"] >= usable["cap"] - 1) | (usable["group_price"] > 0)).all()
        )
        assert rows["impressions"].sum() >= budgets[pool] - 1_000 or held, pool

    traffic = next(r for r in run.reports if r.step == "traffic")
    assert traffic.counts["creators_without_boostable_work"] == 2
    assert any(
        p.kind == "creators" and "no boostable work" in p.reason and "6, 7" in p.reason
        for p in traffic.problems
    )
    client = TestClient(create_app(runtime))
    mine = client.get(
        "/v1/creators/7/traffic", headers={"Authorization": f"Bearer {token_for('creator', 7)}"}
    ).json()
    assert mine["quota"] == 0
    assert mine["why"]["bound"] == "no boostable work"
    assert "no work the feed can boost" in mine["why"]["sentence"]
