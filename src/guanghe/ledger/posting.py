"""The ledger's own write boundary: one writer transaction per batch, retried on races."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from guanghe.ledger.transfers import TransferRequest, TransferResult, post_transfers
from guanghe.store import session_factory, transaction, writer_engine

#: PostgreSQL SQLSTATEs worth a retry: unique violation (a racing writer took the key first),
#: serialization failure, deadlock.
_RETRY_PGCODES = {"23505", "40001", "40P01"}


def post_batch(
    engine: Engine,
    requests: Sequence[TransferRequest],
    *,
    linked: bool = False,
    batch: str | None = None,
    now: dt.datetime,
    attempts: int = 10,
) -> list[TransferResult]:
    """Post ``requests`` in one transaction of their own, retried when a concurrent writer
    wins a race (the retry then sees the winner's transfers and answers ``exists``)."""
    sessions = session_factory(writer_engine(engine))
    for attempt in range(attempts):
        try:
            with transaction(sessions) as session:
                return post_transfers(session, requests, linked=linked, batch=batch, now=now)
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
