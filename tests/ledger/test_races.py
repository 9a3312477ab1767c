"""Races the account locks cannot serialise, on PostgreSQL: a writer on other accounts commits
a transfer with the batch's key, or paid for the same source and code, after the batch checked
keys and sources and before its ``COPY`` writes. The ``COPY`` hits a unique index; the batch is
retried and answers as if it had come second, writing the rest of it exactly once. A variant
whose ``COPY`` errors escape as psycopg errors (which no retry recognises) must be caught.

A racer with the batch's content cannot arise: it names the same accounts, and both a ledger
writer (``FOR UPDATE``) and a bare ``INSERT`` (its foreign keys take ``FOR KEY SHARE``) wait
for the batch's account locks, then see its transfers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from guanghe.ledger import TransferRequest, TransferResult, get_account, post_batch, reconcile
from guanghe.ledger import transfers as transfers_module
from guanghe.runtime import Runtime
from guanghe.store import LedgerTransfer
from tests.ledger.conftest import NOW, Books

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

#: What the batch's contested request answers once it has lost the race.
LOSER_STATUS = {"same_key": "exists_with_different_content", "same_source": "source_already_paid"}
RACER_TIMEOUT_S = 60  # the racer shares no lock with the batch: it never waits this long


@dataclass
class Race:
    """What the batch under test answered, and the racer's transfer."""

    results: list[TransferResult] = field(default_factory=list)
    error: BaseException | None = None
    attempts: int = 0  # times the batch reached its write
    racer_id: int | None = None


def reward(key: str, debit_id: int, credit_id: int, amount: int, order: str) -> TransferRequest:
    return TransferRequest(
        key,
        "reward",
        debit_account_id=debit_id,
        credit_account_id=credit_id,
        amount=amount,
        source=("order", order),
    )


def run_race(runtime: Runtime, books: Books, kind: str, monkeypatch: pytest.MonkeyPatch) -> Race:
    """Post a batch of two rewards from the budget; between its checks and its write, a racer
    on another connection commits a reward from the platform meeting the first on ``kind``."""
    contested = reward("reward-1", books.budget.id, books.creators[0].id, 400, "o-1")
    batch = [contested, reward("reward-2", books.budget.id, books.creators[2].id, 300, "o-2")]
    racer_key = contested.key if kind == "same_key" else "bonus-1"
    racer = reward(racer_key, books.platform.id, books.creators[1].id, 900, "o-1")
    race = Race()
    allocate_ids = transfers_module._allocate_ids
    batch_thread = threading.get_ident()

    def commit_racer(racer: TransferRequest) -> int | None:
        [result] = post_batch(runtime.engine, [racer], now=NOW)
        assert result.status == "created"
        return result.transfer_id

    with ThreadPoolExecutor(1) as racers:

        def racer_commits_first(session: Session, count: int) -> list[int]:
            # Called after keys and sources were checked, before the COPY: the race window.
            if threading.get_ident() != batch_thread:  # the racer's own batch
                return allocate_ids(session, count)
            race.attempts += 1
            if race.attempts == 1:
                race.racer_id = racers.submit(commit_racer, racer).result(RACER_TIMEOUT_S)
            return allocate_ids(session, count)

        monkeypatch.setattr(transfers_module, "_allocate_ids", racer_commits_first)
        try:
            race.results = post_batch(runtime.engine, batch, now=NOW)
        except Exception as exc:  # reported by the checks
            race.error = exc
        finally:
            monkeypatch.setattr(transfers_module, "_allocate_ids", allocate_ids)
    return race


def check_retried(runtime: Runtime, books: Books, kind: str, race: Race) -> None:
    """The batch was retried once and answered as if second; nothing is written twice."""
    assert race.error is None, repr(race.error)
    assert race.attempts == 2, "the first write should have met the racer and been retried"
    contested, rest = race.results
    assert contested.status == LOSER_STATUS[kind]
    if kind == "same_key":
        assert contested.transfer_id == race.racer_id
    assert rest.status == "created"
    with runtime.sessions() as session:
        assert reconcile(session) == []
        keys = session.scalars(select(LedgerTransfer.key).order_by(LedgerTransfer.key)).all()
        racer_key = "reward-1" if kind == "same_key" else "bonus-1"
        assert keys == sorted(["fund", racer_key, "reward-2"])  # each once
        balances = [get_account(session, a.id).balance for a in books.creators]
        assert balances == [0, 900, 300]
        assert get_account(session, books.budget.id).balance == 100_000 - 300


@pytest.mark.parametrize("kind", LOSER_STATUS)
def test_a_race_lost_in_the_copy_is_retried(
    runtime: Runtime, books: Books, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    race = run_race(runtime, books, kind, monkeypatch)
    check_retried(runtime, books, kind, race)


WriterFactory = Callable[[Session, Any], AbstractContextManager[Callable[[list[Any]], None]]]


def untranslated(writer: WriterFactory) -> WriterFactory:
    """The bug: the ``COPY``'s errors leave as the driver raised them (a psycopg
    ``UniqueViolation``), not as the ``IntegrityError`` the retry looks for."""

    @contextmanager
    def write_untranslated(session: Session, labels: Any) -> Iterator[Callable[[list[Any]], None]]:
        try:
            with writer(session, labels) as write:
                yield write
        except DBAPIError as exc:
            raise (exc.orig or exc) from None

    return write_untranslated


@pytest.mark.parametrize("kind", LOSER_STATUS)
def test_the_race_test_catches_untranslated_copy_errors(
    runtime: Runtime, books: Books, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = transfers_module._transfer_writer
    monkeypatch.setattr(transfers_module, "_transfer_writer", untranslated(writer))
    race = run_race(runtime, books, kind, monkeypatch)
    assert type(race.error).__module__ == "psycopg.errors"  # the racer did win the race
    with pytest.raises(AssertionError):
        check_retried(runtime, books, kind, race)
