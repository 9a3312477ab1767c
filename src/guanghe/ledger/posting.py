"""The ledger's own write boundary: one writer transaction per batch, retried on races."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from guanghe.ledger.transfers import TransferRequest, TransferResult, post_chains, post_transfers
from guanghe.store import session_factory, transaction, writer_engine

#: PostgreSQL SQLSTATEs worth a retry: unique violation (a racing writer took the key first),
#: serialization failure, deadlock.
_RETRY_PGCODES = {"23505", "40001", "40P01"}


T = TypeVar("T")


def post_batch(
    engine: Engine,
    requests: Sequence[TransferRequest],
    *,
    linked: bool = False,
    batch: str | None = None,
    now: dt.datetime,
) -> list[TransferResult]:
    """Post ``requests`` in one transaction of their own, retried when a concurrent writer
    wins a race (the retry then sees the winner's transfers and answers ``exists``)."""
    return in_writer_transaction(
        engine, lambda s: post_transfers(s, requests, linked=linked, batch=batch, now=now)
    )


def post_chain_batch(
    engine: Engine,
    chains: Sequence[Sequence[TransferRequest]],
    *,
    batch: str | None = None,
    now: dt.datetime,
) -> list[list[TransferResult]]:
    """Post linked chains (each all or nothing) in one transaction of their own, retried."""
    return in_writer_transaction(engine, lambda s: post_chains(s, chains, batch=batch, now=now))


def in_writer_transaction(engine: Engine, work: Callable[[Session], T], attempts: int = 10) -> T:
    """Run ``work`` in a writer transaction, retrying unique-key races, deadlocks and
    serialization failures with a short back-off."""
    sessions = session_factory(writer_engine(engine))
    for attempt in range(attempts):
        try:
            with transaction(sessions) as session:
                return work(session)
        except DBAPIError as exc:
            if attempt == attempts - 1 or not _retryable(exc):
                raise
            time.sleep(min(0.002 * 2**attempt, 0.2))
    raise AssertionError("unreachable")


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if code is not None:
        return code in _RETRY_PGCODES
    message = str(exc.orig)
    if isinstance(exc, IntegrityError):
        return message.startswith("UNIQUE constraint failed")
    return isinstance(exc, OperationalError) and "database is locked" in message
