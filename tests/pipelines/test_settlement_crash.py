"""Crash test: settlement killed with SIGKILL at chosen points, then run again, ends with the
day settled exactly once and the ledger balanced. A variant that records the day as settled
before paying (and skips recorded days) must be caught by the same checks.

The child stops where it is to be killed (inside a batch's transaction with its transfers
written, after a batch committed, or after the last batch and before recording the day) and
waits for the kill, so each kill lands where it was aimed however fast the ledger is.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import random
import signal
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest
from sqlalchemy import func, select

from guanghe.events import EVENT_SCHEMA
from guanghe.institutions import sign_contract
from guanghe.ledger import reconcile
from guanghe.runtime import Runtime
from guanghe.store import INCOME_SOURCES, LedgerTransfer, SettledDay, transaction
from tests.pipelines.conftest import funded_campaign
from tests.seed import SeedPlatform

pytestmark = pytest.mark.crash

DAY = dt.date(2026, 11, 20)
ADS = 3_000
CHAINS_PER_BATCH = 25
BATCHES = math.ceil(ADS / CHAINS_PER_BATCH)  # one chain per ad

CHILD = textwrap.dedent(
    """
    import datetime as dt, os, sys
    from guanghe.ledger import posting
    from guanghe.pipelines import settlement_step
    from guanghe.ledger.settlement import SettlementRules
    from guanghe.runtime import Runtime
    from guanghe.settings import Settings
    from guanghe.store import SettledDay

    day, variant, stop = dt.date.fromisoformat(sys.argv[1]), sys.argv[2], sys.argv[3]
    settlement_step.CHAINS_PER_BATCH = int(sys.argv[4])
    batches = 0

    def await_kill(where):
        print("stopped", where, flush=True)
        sys.stdin.read()  # the parent kills us first; at end of input it has gone
        os._exit(1)

    def post_chains(session, chains, **options):  # runs inside the batch's transaction
        global batches
        batches += 1
        results = real_post_chains(session, chains, **options)
        if stop == f"inside:{batches}":
            await_kill(stop)
        return results

    def post_chain_batch(engine, chains, **options):  # its transaction has committed
        results = real_post_chain_batch(engine, chains, **options)
        if stop == f"after:{batches}":
            await_kill(stop)
        return results

    real_post_chains, posting.post_chains = posting.post_chains, post_chains
    real_post_chain_batch = settlement_step.post_chain_batch
    settlement_step.post_chain_batch = post_chain_batch

    runtime = Runtime(Settings())
    print("paying", flush=True)
    if variant == "mark-then-pay":  # the bug: record first, skip recorded days
        with runtime.sessions() as session:
            if session.get(SettledDay, day) is not None:
                print("skipped: day recorded", flush=True)
                sys.exit(0)
        now = dt.datetime.now(dt.UTC)
        result = settlement_step.SettlementResult(day, 0, ())
        runtime.write(lambda session: settlement_step.mark_settled(session, result, now=now))
        settlement_step.pay_day(runtime, day, SettlementRules(), now=now)
    else:
        settlement_step.settle_day(runtime, day)
    print("done", batches, flush=True)
    """
)


@pytest.fixture
def busy_day(runtime: Runtime, seed_platform: SeedPlatform) -> Runtime:
    with transaction(runtime.sessions) as session:
        sign_contract(
            session,
            institution_id=1,
            creator_id=1,
            splits=dict.fromkeys(INCOME_SOURCES, 2_500),
            valid_from=dt.date(2024, 1, 1),
            status="active",
        )
    campaign = funded_campaign(runtime, budget_fen=1_000_000)  # more than the day's charges
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
            "campaign_id": campaign,
        }
        for n in range(ADS)
    ]
    runtime.event_log.append(pa.Table.from_pylist(rows, schema=EVENT_SCHEMA))
    return runtime


def run_child(runtime: Runtime, variant: str, stop: str) -> str:
    """Run settlement in a child and SIGKILL it where it stops (``stop``: ``inside:N`` or
    ``after:N``, N counting batches, or ``never``); the child's last line."""
    env = os.environ | {
        "GUANGHE_DATA_DIR": str(runtime.settings.data_dir),
        "GUANGHE_DATABASE_URL": runtime.settings.resolved_database_url,
    }
    argv = [sys.executable, "-c", CHILD, DAY.isoformat(), variant, stop, str(CHAINS_PER_BATCH)]
    with subprocess.Popen(
        argv, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "paying"
        last = child.stdout.readline().strip()
        if last.startswith("stopped"):
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
            return last
        assert child.wait(timeout=300) == 0
        return last


def settle_with_crashes(runtime: Runtime, variant: str, seed: int) -> list[tuple[str, str]]:
    """Kill settlement inside a batch, after a batch and after the last batch (before the day
    is recorded), batches chosen at random, then let it finish; each run's stop and last line."""
    rng = random.Random(seed)
    stops = [
        f"inside:{rng.randint(1, BATCHES - 1)}",
        f"after:{rng.randint(1, BATCHES - 1)}",
        f"after:{BATCHES}",
        "never",
    ]
    return [(stop, run_child(runtime, variant, stop)) for stop in stops]


def check_settled_exactly_once(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert reconcile(session) == []
        paid = session.execute(
            select(
                LedgerTransfer.code, func.count(), func.count(LedgerTransfer.source_id.distinct())
            ).group_by(LedgerTransfer.code)
        ).all()
        counts = {code: (n, distinct) for code, n, distinct in paid}
        assert counts["ad_spend"] == (ADS, ADS)
        assert counts["ad_revenue_share"] == (ADS, ADS)
        assert counts["ad_institution_split"] == (ADS // 6, ADS // 6)
        assert session.get(SettledDay, DAY) is not None


@pytest.mark.parametrize("database_url", ["postgresql", "sqlite"], indirect=True)
def test_killed_settlement_ends_settled_exactly_once(busy_day: Runtime) -> None:
    runs = settle_with_crashes(busy_day, "pay-then-mark", seed=3)
    killed = [f"stopped {stop}" for stop, _ in runs[:-1]]
    assert [last for _, last in runs] == [*killed, f"done {BATCHES}"]  # each kill as aimed
    check_settled_exactly_once(busy_day)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_crash_test_catches_marking_before_paying(busy_day: Runtime) -> None:
    (first_stop, first_last), *later = settle_with_crashes(busy_day, "mark-then-pay", seed=4)
    assert first_stop.startswith("inside:")
    assert first_last == f"stopped {first_stop}", "the first run must be killed mid-payment"
    assert [last for _, last in later] == ["skipped: day recorded"] * 3
    with pytest.raises(AssertionError):
        check_settled_exactly_once(busy_day)
