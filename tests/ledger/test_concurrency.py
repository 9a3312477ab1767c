"""Concurrency stress on PostgreSQL: 16 writers, 10,000 transfers, 20 % duplicate keys, all
racing to spend one budget. Zero double posts, zero overspend, every invariant holds. A variant
that does not lock the accounts it changes must be caught by the same checks."""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from guanghe.ledger import TransferRequest, get_account, open_account, post_batch, reconcile
from guanghe.ledger import transfers as transfers_module
from guanghe.ledger.accounts import account_from_row, select_accounts
from guanghe.runtime import Runtime
from guanghe.store import LedgerAccount, LedgerTransfer, transaction
from tests.ledger.conftest import NOW

WORKERS = 16
TRANSFERS = 10_000
DUPLICATE_SHARE = 0.2
BATCH = 25
BUDGET_FEN = 2_000_000  # about half of what the workers try to spend


@dataclass
class Outcome:
    budget_id: int
    statuses: Counter[str]
    created_by_key: Counter[str]
    errors: list[BaseException]


def stress(runtime: Runtime, seed: int, transfers: int = TRANSFERS) -> Outcome:
    with transaction(runtime.sessions) as session:
        platform = open_account(
            session, owner_kind="platform", owner_id=0, purpose="equity", unit="CNY", now=NOW
        )
        budget = open_account(
            session,
            owner_kind="program",
            owner_id=1,
            purpose="budget",
            unit="CNY",
            limit="debits",
            now=NOW,
        )
        creators = [
            open_account(
                session,
                owner_kind="creator",
                owner_id=i,
                purpose="earnings",
                unit="CNY",
                limit="debits",
                now=NOW,
            ).id
            for i in range(50)
        ]
    post_batch(
        runtime.engine,
        [
            TransferRequest(
                "fund",
                "funding",
                debit_account_id=platform.id,
                credit_account_id=budget.id,
                amount=BUDGET_FEN,
            )
        ],
        now=NOW,
    )
    rng = random.Random(seed)
    unique = int(transfers * (1 - DUPLICATE_SHARE))
    requests = [
        TransferRequest(
            f"task-{n}",
            "task_reward",
            debit_account_id=budget.id,
            credit_account_id=rng.choice(creators),
            amount=rng.randint(100, 700),
            source=("task_completion", str(n)),
        )
        for n in range(unique)
    ]
    requests += [rng.choice(requests) for _ in range(transfers - unique)]  # duplicate keys
    rng.shuffle(requests)
    shares = [requests[w::WORKERS] for w in range(WORKERS)]
    outcome = Outcome(budget.id, Counter(), Counter(), [])
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)

    def work(mine: list[TransferRequest]) -> None:
        start.wait()
        try:
            for at in range(0, len(mine), BATCH):
                results = post_batch(runtime.engine, mine[at : at + BATCH], now=NOW)
                with lock:
                    outcome.statuses.update(r.status for r in results)
                    outcome.created_by_key.update(r.key for r in results if r.status == "created")
        except BaseException as exc:  # reported to the main thread
            with lock:
                outcome.errors.append(exc)

    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcome


def check_books(runtime: Runtime, outcome: Outcome) -> None:
    assert not outcome.errors, outcome.errors[:3]
    double = [key for key, n in outcome.created_by_key.items() if n > 1]
    assert double == [], f"posted twice: {double[:5]}"
    with runtime.sessions() as session:
        rows = session.scalar(select(func.count()).select_from(LedgerTransfer))
        assert rows == 1 + len(outcome.created_by_key)
        assert reconcile(session) == []
        budget = get_account(session, outcome.budget_id)
        assert budget.debits_posted <= budget.credits_posted == BUDGET_FEN
        spent = session.scalar(
            select(func.sum(LedgerTransfer.amount)).where(LedgerTransfer.code == "task_reward")
        )
        assert spent == budget.debits_posted


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_sixteen_writers_racing_on_one_budget(runtime: Runtime) -> None:
    outcome = stress(runtime, seed=1)
    check_books(runtime, outcome)
    assert sum(outcome.statuses.values()) == TRANSFERS
    assert outcome.statuses["exists"] > 0, "duplicate keys should have met their originals"
    assert outcome.statuses["exceeds_credits"] > 0, "the budget should have run out"
    with runtime.sessions() as session:
        assert get_account(session, outcome.budget_id).available < 700


def _lock_nothing(session, requests, referenced):  # type: ignore[no-untyped-def]
    """The bug: read balances without ``FOR UPDATE``, so concurrent writers overwrite them."""
    ids = {i for r in requests for i in (r.debit_account_id, r.credit_account_id) if i}
    rows = session.execute(select_accounts().where(LedgerAccount.id.in_(ids)))
    return {
        a.id: transfers_module._Totals(
            a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted, a.limit, a.unit
        )
        for a in map(account_from_row, rows)
    }


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_stress_test_catches_unlocked_balance_updates(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transfers_module, "_lock_accounts", _lock_nothing)
    outcome = stress(runtime, seed=2, transfers=2_000)
    with pytest.raises(AssertionError):
        check_books(runtime, outcome)
