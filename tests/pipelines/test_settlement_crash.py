"""Crash test: settlement killed with SIGKILL at random points, then run again, ends with the
day settled exactly once and the ledger balanced. A variant that records the day as settled
before paying (and skips recorded days) must be caught by the same checks."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from guanghe.events import EVENT_SCHEMA
from guanghe.ledger import reconcile
from guanghe.runtime import Runtime
from guanghe.store import InstitutionContract, LedgerTransfer, SettledDay, transaction
from tests.seed import SeedPlatform

DAY = dt.date(2026, 11, 20)
ADS = 3_000
KILLS = 3

CHILD = textwrap.dedent(
    """
    import datetime as dt, sys
    from guanghe.pipelines import settlement_step
    from guanghe.ledger.settlement import SettlementRules
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.store import SettledDay, transaction

    settlement_step.CHAINS_PER_BATCH = 25
    runtime = Runtime(Settings())
    day = dt.date.fromisoformat(sys.argv[1])
    print("paying", flush=True)
    if sys.argv[2] == "mark-then-pay":  # the bug: record first, skip recorded days
        with runtime.sessions() as session:
            if session.get(SettledDay, day) is not None:
                sys.exit(0)
        settlement_step.mark_settled(runtime, settlement_step.SettlementResult(day, 0, ()))
        settlement_step.pay_day(runtime, day, SettlementRules())
    else:
        settlement_step.settle_day(runtime, day)
    print("done", flush=True)
    """
)


@pytest.fixture
def busy_day(runtime: Runtime, seed_platform: SeedPlatform) -> Runtime:
    with transaction(runtime.sessions) as session:
        session.add(
            InstitutionContract(
                institution_id=1, creator_id=1, split_bp=2_500, valid_from=dt.date(2024, 1, 1)
            )
        )
    ts = dt.datetime.combine(DAY, dt.time(12), tzinfo=dt.UTC)
    rows = [
        dict.fromkeys(EVENT_SCHEMA.names)
        | {
            "event_id": f"ad{n}",
            "type": "ad_impression",
            "ts": ts,
            "creator_id": 1 + n % 6,
            "count": 10,
            "amount_fen": 100 + n % 50,
            "campaign_id": 1,
        }
        for n in range(ADS)
    ]
    runtime.event_log.append(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
    return runtime


def run_child(runtime: Runtime, variant: str, kill_after_s: float | None) -> None:
    env = os.environ | {
        "GUANGHE_DATA_DIR": str(runtime.settings.data_dir),
        "GUANGHE_DATABASE_URL": runtime.settings.resolved_database_url,
    }
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, DAY.isoformat(), variant],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "paying"
        if kill_after_s is None:
            assert child.wait(timeout=300) == 0
            return
        time.sleep(kill_after_s)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=60)


def settle_with_crashes(runtime: Runtime, variant: str, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(KILLS):
        run_child(runtime, variant, kill_after_s=rng.uniform(0.5, 2.5))
    run_child(runtime, variant, kill_after_s=None)


def check_settled_exactly_once(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert reconcile(session) == []
        paid = session.execute(
            select(
                LedgerTransfer.code, func.count(), func.count(LedgerTransfer.source_id.distinct())
            ).group_by(LedgerTransfer.code)
        ).all()
        counts = {code: (n, distinct) for code, n, distinct in paid}
        assert counts["ad_revenue_share"] == (ADS, ADS)
        assert counts["ad_institution_split"] == (ADS // 6, ADS // 6)
        assert session.get(SettledDay, DAY) is not None


@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)
def test_killed_settlement_ends_settled_exactly_once(busy_day: Runtime) -> None:
    settle_with_crashes(busy_day, "pay-then-mark", seed=3)
    check_settled_exactly_once(busy_day)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_crash_test_catches_marking_before_paying(busy_day: Runtime) -> None:
    settle_with_crashes(busy_day, "mark-then-pay", seed=4)
    with pytest.raises(AssertionError):
        check_settled_exactly_once(busy_day)
