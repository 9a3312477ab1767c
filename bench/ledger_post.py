"""Ledger posting throughput on PostgreSQL: the batch API against one transfer per transaction.

``python -m bench ledger_post [--url URL] [--batched N] [--single N] [--batch-sizes B ...]
[--runs R]``

Each run gets a fresh PostgreSQL schema with 1,000 creator accounts and a funded program
budget (balance limit on, so every transfer is checked), then posts reward transfers with
fresh idempotency keys and a source event each. Prints transfers per second for both ways
side by side (median of the runs) and checks the books reconcile afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import statistics
import time
import uuid
from collections.abc import Callable

import sqlalchemy as sa

from guanghe.ledger import TransferRequest, open_account, post_batch, reconcile
from guanghe.store import make_engine, session_factory, transaction, upgrade_schema

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)


def _fresh_schema(url: str) -> tuple[sa.Engine, Callable[[], None]]:
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(f"{url}?options=-csearch_path%3D{schema}")
    upgrade_schema(engine)

    def drop() -> None:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return engine, drop


def _requests(engine: sa.Engine, count: int, rng: random.Random) -> list[TransferRequest]:
    with transaction(session_factory(engine)) as session:
        platform_account = open_account(
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
            for i in range(1_000)
        ]
    post_batch(
        engine,
        [
            TransferRequest(
                "fund",
                "funding",
                debit_account_id=platform_account.id,
                credit_account_id=budget.id,
                amount=10**15,
            )
        ],
        now=NOW,
    )
    return [
        TransferRequest(
            f"reward-{n}",
            "task_reward",
            debit_account_id=budget.id,
            credit_account_id=rng.choice(creators),
            amount=rng.randint(1, 50_000),
            source=("task_completion", str(n)),
        )
        for n in range(count)
    ]


def _run(url: str, count: int, batch_size: int, seed: int) -> float:
    """Transfers per second posting ``count`` transfers in batches of ``batch_size``."""
    engine, drop = _fresh_schema(url)
    try:
        requests = _requests(engine, count, random.Random(seed))
        started = time.perf_counter()
        for at in range(0, count, batch_size):
            results = post_batch(engine, requests[at : at + batch_size], now=NOW)
            assert all(r.status == "created" for r in results)
        rate = count / (time.perf_counter() - started)
        with session_factory(engine)() as session:
            assert reconcile(session) == []
        return rate
    finally:
        drop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ledger_post")
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--batched", type=int, default=50_000, help="transfers, batch API")
    parser.add_argument("--single", type=int, default=2_000, help="transfers, one per txn")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1_000, 5_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    batched = {
        size: statistics.median(_run(args.url, args.batched, size, s) for s in range(args.runs))
        for size in args.batch_sizes
    }
    single = statistics.median(_run(args.url, args.single, 1, s) for s in range(args.runs))
    print(
        f"ledger_post on {platform.machine()} {platform.system()}, PostgreSQL, "
        f"median of {args.runs} runs, {time.strftime('%Y-%m-%d')}"
    )
    print(f"{'way':<30}{'transfers':>10}{'transfers/s':>14}{'vs single':>11}")
    for size, rate in batched.items():
        label = f"batch API ({size:,} per txn)"
        print(f"{label:<30}{args.batched:>10,}{rate:>14,.0f}{rate / single:>10.1f}x")
    print(f"{'one transfer per txn':<30}{args.single:>10,}{single:>14,.0f}{1:>10.1f}x")
    return 0
