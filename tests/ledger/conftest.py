"""Ledger fixtures: a funded platform, a program budget and a few creators' accounts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from guanghe.ledger import Account, TransferRequest, open_account, post_batch
from guanghe.runtime import Runtime
from guanghe.store import transaction

NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Books:
    platform: Account
    budget: Account
    creators: list[Account]
    pool: Account
    grants: Account


@pytest.fixture
def books(runtime: Runtime) -> Books:
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
            )
            for i in (1, 2, 3)
        ]
        pool = open_account(
            session,
            owner_kind="traffic_pool",
            owner_id=1,
            purpose="pool",
            unit="IMPRESSION",
            limit="debits",
            now=NOW,
        )
        grants = open_account(
            session,
            owner_kind="creator",
            owner_id=1,
            purpose="traffic",
            unit="IMPRESSION",
            limit="debits",
            now=NOW,
        )
    funded = post_batch(
        runtime.engine,
        [
            TransferRequest(
                "fund",
                "program_funding",
                debit_account_id=platform.id,
                credit_account_id=budget.id,
                amount=100_000,
            )
        ],
        now=NOW,
    )
    assert funded[0].status == "created"
    return Books(platform, budget, creators, pool, grants)
