"""The demo's operations on a small generated platform leave notices in creators' inboxes:
a payout notice for every creator the payout paid, a tier-change notice for every creator
whose tier changed since the baseline cycle."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from guanghe import notifications
from guanghe.access import Principal
from guanghe.runtime import Runtime
from guanghe.sim import generate_platform
from guanghe.sim.demo_cycle import DemoOperations, run_demo_operations
from guanghe.store import CreatorTierHistory, Notice
from tests.sim.conftest import make_runtime

CREATORS, DAYS, SEED = 200, 14, 7


@pytest.fixture(scope="module")
def operated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runtime, DemoOperations]]:
    runtime = make_runtime(tmp_path_factory.mktemp("demo-operations"))
    summary = generate_platform(runtime, creators=CREATORS, days=DAYS, seed=SEED)
    yield runtime, run_demo_operations(runtime, summary.first_date, summary.last_date)
    runtime.engine.dispose()


def test_every_paid_creator_finds_the_payout_in_their_inbox(
    operated: tuple[Runtime, DemoOperations],
) -> None:
    runtime, operations = operated
    paid = {
        p.owner_id: p.amount_fen for p in operations.payouts.payouts if p.owner_kind == "creator"
    }
    assert sorted(paid) == sorted(operations.paid_creators)
    assert paid, "the demo's ledger has earnings to pay out"
    assert not operations.payouts.refused
    with runtime.sessions() as session:
        for creator_id, amount in paid.items():
            me = Principal(0, "creator", creator_id)
            inbox = notifications.list_inbox(session, me, creator_id).items
            payouts = [n for n in inbox if n.kind == "payout"]
            assert [n.data["amount_fen"] for n in payouts] == [amount]
            assert payouts[0].read_at is None
            assert notifications.unread_count(session, me, creator_id) >= 1


def test_tier_changes_since_the_baseline_are_notified(
    operated: tuple[Runtime, DemoOperations],
) -> None:
    runtime, operations = operated
    with runtime.sessions() as session:
        history = session.execute(select(CreatorTierHistory.creator_id, CreatorTierHistory.since))
        assessed: dict[int, list[dt.date]] = {}
        for creator_id, since in history:
            assessed.setdefault(creator_id, []).append(since)
        changed = {cid for cid, days in assessed.items() if len(days) > 1}
        notified = set(
            session.scalars(select(Notice.creator_id).where(Notice.kind == "tier_change"))
        )
    assert len(operations.runs) == 2  # the baseline and the last day
    assert notified == changed
