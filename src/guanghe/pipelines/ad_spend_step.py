"""The cycle's ``ad_spend`` step: charge a day's ad impressions and clicks to their campaigns'
budgets in the ledger (campaign budget → platform ad revenue), so that spend shows before the
day is settled.

Keys come from the events, so a re-run posts nothing new. A charge past a campaign's budget is
refused by the ledger and reported, never posted. Settlement presents the same charge again at
the head of each ad row's linked chain (:mod:`guanghe.ledger.settlement`): an existing charge
answers ``exists``, a refused one stops the creator's share.

After charging the day, every campaign ended by then (schedule over, or ended by its
advertiser or an operator) gets what is left of its budget back in its advertiser's prepaid
account, once (:mod:`guanghe.monetize.refunds`); later charges to it are refused.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from guanghe.ledger import TransferStatus, open_accounts, post_batch
from guanghe.monetize.refunds import refund_ended
from guanghe.monetize.spend import AdCharge, accounts_needed, ad_spend_transfers, batch_name
from guanghe.runtime import Runtime
from guanghe.store import Campaign

TRANSFERS_PER_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class AdSpendResult:
    day: dt.date
    transfers_created: int
    spent_fen: int
    problems: tuple[str, ...]
    refunded_fen: dict[int, int]  # per campaign refunded by this run


def run(runtime: Runtime, day: dt.date) -> None:
    """Cycle step: charge ``day``'s ad events to their campaigns."""
    charge_day(runtime, day)


def charge_day(runtime: Runtime, day: dt.date) -> AdSpendResult:
    """Post the day's ad-spend transfers (idempotent), then refund the campaigns ended by the
    day; unknown campaigns and charges past a budget are reported in ``problems``."""
    charges, problems = load_charges(runtime, day)
    now = dt.datetime.now(dt.UTC)
    accounts = runtime.write(lambda s: open_accounts(s, accounts_needed(charges), now=now))
    requests = ad_spend_transfers(charges, accounts)
    created = spent = 0
    for at in range(0, len(requests), TRANSFERS_PER_BATCH):
        chunk = requests[at : at + TRANSFERS_PER_BATCH]
        results = post_batch(
            runtime.engine, chunk, batch=batch_name(day), business_day=day, now=now
        )
        for request, result in zip(chunk, results, strict=True):
            if result.status is TransferStatus.CREATED:
                created += 1
                spent += request.amount or 0
            elif not result.ok:
                spent_out = result.status is TransferStatus.EXCEEDS_CREDITS
                reason = "budget exhausted" if spent_out else str(result.status)
                problems.append(f"{result.key}: {reason}")
    refunded = runtime.write(lambda s: refund_ended(s, day, now=now))
    return AdSpendResult(day, created, spent, tuple(problems), refunded)


def load_charges(runtime: Runtime, day: dt.date) -> tuple[list[AdCharge], list[str]]:
    """The day's charged ad rows with their campaigns' advertisers, and the rows naming a
    campaign that does not exist (reported, never charged)."""
    con = runtime.event_log.connect()
    try:
        rows = con.execute(
            "SELECT event_id, campaign_id, amount_fen FROM events WHERE date = ? "
            "AND type IN ('ad_impression', 'ad_click') AND amount_fen > 0 "
            "AND campaign_id IS NOT NULL ORDER BY event_id",
            [day],
        ).fetchall()
    finally:
        con.close()
    with runtime.sessions() as session:
        owners = dict(
            session.execute(
                select(Campaign.id, Campaign.advertiser_id).where(
                    Campaign.id.in_(sorted({int(r[1]) for r in rows}))
                )
            ).all()
        )
    problems = [f"{e}: campaign {c} does not exist" for e, c, _ in rows if int(c) not in owners]
    charges = [
        AdCharge(str(e), int(c), int(owners[int(c)]), int(a))
        for e, c, a in rows
        if int(c) in owners
    ]
    return charges, problems
