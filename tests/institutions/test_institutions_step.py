"""The cycle's institutions step: affiliations follow the contracts in force, and every
institution is judged a level with its metrics on its first cycle of a month."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from guanghe.access import Principal
from guanghe.institutions import sign_contract
from guanghe.institutions.pools import PoolRules
from guanghe.institutions.standing import institution_view
from guanghe.institutions.support import pool_account, pool_allocation
from guanghe.institutions.torch import BudgetLine, Preference, set_budgets, set_preferences
from guanghe.ledger import AccountKey, find_account, reconcile
from guanghe.pipelines import CYCLE_STEPS, run_cycle
from guanghe.runtime import Runtime
from guanghe.snapshots import read_snapshot
from guanghe.store import INCOME_SOURCES, Creator, Work, transaction
from guanghe.traffic.deliveries import DIRECTED_PLAN
from guanghe.traffic.serving import BoostService, InProcessCounters
from tests.conftest import insert_seed_platform
from tests.pipelines.sample import AS_OF, log_sample_events

STEPS = tuple(s for s in CYCLE_STEPS if s.name in ("features", "growth", "institutions"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_levels_and_affiliations_from_contracts(runtime: Runtime) -> None:
    insert_seed_platform(runtime)
    log_sample_events(runtime)
    with transaction(runtime.sessions) as session:
        for creator, institution, valid_to in ((4, 2, None), (1, 1, AS_OF)):
            sign_contract(
                session,
                institution_id=institution,
                creator_id=creator,
                splits=dict.fromkeys(INCOME_SOURCES, 1_000),
                valid_from=dt.date(2026, 1, 1),
                valid_to=valid_to,
                status="active" if valid_to is None else "ended",
            )
    run = run_cycle(runtime, AS_OF, steps=STEPS)
    report = run.reports[-1]
    assert report.counts["institutions_judged"] == 2
    with runtime.sessions() as session:
        assert session.get_one(Creator, 4).institution_id == 2  # signed by contract
        assert session.get_one(Creator, 1).institution_id is None  # its contract ended
        assert session.get_one(Creator, 2).institution_id == 1  # no contract: left alone
        view = institution_view(session, Principal(0, "operator", None), 2)
    assert view.level == "C"
    assert view.level_month == AS_OF.replace(day=1)
    assert set(view.metrics) >= {"active_creators", "retention", "originality"}
    assert view.next_level == "B"
    assert any(s["metric"] == "active_creators" for s in view.shortfalls)
    again = run_cycle(runtime, AS_OF, steps=STEPS)  # not a month end, judged already
    assert again.reports[-1].counts["institutions_judged"] == 0


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_institution_pool_is_funded_and_solved_with_its_preferences(
    runtime: Runtime,
) -> None:
    insert_seed_platform(runtime)  # institution 1 has creators 1 and 2
    log_sample_events(runtime)
    operator = Principal(0, "operator", None)
    now = dt.datetime.combine(AS_OF, dt.time(), tzinfo=dt.UTC)
    with transaction(runtime.sessions) as session:
        set_budgets(
            session,
            starts_on=AS_OF,
            ends_on=AS_OF + dt.timedelta(days=6),
            lines=[BudgetLine("institution:1", 0, 70_000)],
            rules=PoolRules(min_new_share_bp=5_000, max_creator_share_bp=7_000),
            nomination_slots=0,
            now=now,
        )
        set_preferences(session, operator, 1, [Preference(2, 3.0, 10_000)], day=AS_OF, now=now)
    run = run_cycle(runtime, AS_OF, steps=STEPS)
    assert run.reports[-1].counts["pool_impressions"] == 70_000
    with runtime.sessions() as session:
        pool = find_account(session, pool_account(1, AS_OF))
    assert pool is not None
    assert pool.balance == 70_000
    solved, rows = pool_allocation(runtime.settings.snapshots_dir, 1, AS_OF)
    assert solved == AS_OF
    given = {r["creator_id"]: r["impressions"] for r in rows}
    assert sum(given.values()) == 70_000
    assert given[1] >= 35_000  # creator 1 is a novice: at least half goes to new creators
    assert 10_000 <= given[2] <= 49_000


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_the_boost_service_delivers_the_pool_paced_and_the_pool_pays(runtime: Runtime) -> None:
    insert_seed_platform(runtime)  # institution 1 has creators 1 and 2
    log_sample_events(runtime)
    now = dt.datetime.combine(AS_OF, dt.time(), tzinfo=dt.UTC)
    with transaction(runtime.sessions) as session:
        set_budgets(
            session,
            starts_on=AS_OF,
            ends_on=AS_OF + dt.timedelta(days=6),
            lines=[BudgetLine("institution:1", 0, 70_000)],
            rules=PoolRules(),
            nomination_slots=0,
            now=now,
        )
    steps = tuple(
        s for s in CYCLE_STEPS if s.name in ("features", "growth", "traffic", "institutions")
    )
    run = run_cycle(runtime, AS_OF, steps=steps)
    day = AS_OF + dt.timedelta(days=1)
    root = runtime.settings.snapshots_dir
    directed = read_snapshot(root, DIRECTED_PLAN, day).to_pandas().set_index("creator_id")
    platform = read_snapshot(root, "traffic_plan", day).to_pandas().set_index("creator_id")
    assert sorted(directed.index) == [1, 2]
    # Six days of the period are left on the next day: the allocation is paced over them.
    assert (directed["quota"] == directed["allocated"] // 6).all()
    assert run.reports[-1].counts["pool_quota_next_day"] == directed["quota"].sum()

    service = BoostService(
        root,
        runtime.sessions,
        InProcessCounters(),
        clock=lambda: dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
    )
    plan = service.plan()
    assert plan is not None
    quota = dict(zip(plan.creator_id.tolist(), plan.quota.tolist(), strict=True))
    for creator in (1, 2):  # the pool's quota is served on top of the platform's
        assert quota[creator] == platform.loc[creator, "quota"] + directed.loc[creator, "quota"]
    assert quota[3] == platform.loc[3, "quota"]  # not the institution's creator
    with transaction(runtime.sessions) as session:
        work = session.scalars(select(Work.id).where(Work.creator_id == 1).limit(1)).one()
        (report,) = service.record(session, [("d1", 1, work, quota[1])])
    assert report.status == "recorded"

    run_cycle(runtime, day, steps=steps)
    share = directed.loc[1, "quota"] / quota[1]
    paid = int(quota[1] * share)
    with runtime.sessions() as session:
        assert reconcile(session) == []
        pool = find_account(session, pool_account(1, AS_OF))
        support = find_account(session, AccountKey("creator", 1, "traffic_support", "IMPRESSION"))
    assert pool is not None
    assert support is not None
    assert pool.debits_posted == paid  # the pool paid its share of the delivery
    assert support.balance == quota[1]  # the rest came from the platform's pool
    after = read_snapshot(root, DIRECTED_PLAN, day + dt.timedelta(days=1)).to_pandas()
    assert after.set_index("creator_id").loc[1, "delivered"] == paid
