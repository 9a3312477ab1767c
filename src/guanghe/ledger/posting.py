"""Posting batches of transfers, each in a writer transaction of its own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Engine

from guanghe.ledger.transfers import TransferRequest, TransferResult, post_chains, post_transfers
from guanghe.store import write_transaction


def post_batch(
    engine: Engine,
    requests: Sequence[TransferRequest],
    *,
    linked: bool = False,
    batch: str | None = None,
    business_day: dt.date | None = None,
    now: dt.datetime,
) -> list[TransferResult]:
    """Post ``requests`` in one transaction of their own, retried when a concurrent writer
    wins a race (the retry then sees the winner's transfers and answers ``exists``)."""
    return write_transaction(
        engine,
        lambda s: post_transfers(
            s, requests, linked=linked, batch=batch, business_day=business_day, now=now
        ),
    )


def post_chain_batch(
    engine: Engine,
    chains: Sequence[Sequence[TransferRequest]],
    *,
    batch: str | None = None,
    business_day: dt.date | None = None,
    now: dt.datetime,
) -> list[list[TransferResult]]:
    """Post linked chains (each all or nothing) in one transaction of their own, retried."""
    return write_transaction(
        engine,
        lambda s: post_chains(s, chains, batch=batch, business_day=business_day, now=now),
    )
