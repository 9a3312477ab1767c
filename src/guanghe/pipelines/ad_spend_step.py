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

import duckdb
from sqlalchemy import select

from guanghe.events import unprocessable_event_id
from guanghe.ledger import TransferStatus, open_accounts, post_batch
from guanghe.monetize.refunds import refund_ended
from guanghe.monetize.spend import AdCharge, accounts_needed, ad_spend_transfer, batch_name
from guanghe.pipelines.context import CycleContext, business_day_end
from guanghe.pipelines.reports import Problem, StepReport
from guanghe.pipelines.settled_days import days_to_settle
from guanghe.runtime import Runtime
from guanghe.store import Campaign

TRANSFERS_PER_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class AdSpendResult:
    day: dt.date
    transfers_created: int
    spent_fen: int
    problems: tuple[Problem, ...]
    refunded_fen: dict[int, int]  # per campaign refunded by this run


def run(ctx: CycleContext) -> StepReport:
    """Cycle step: charge the ad events of every day the cycle settles (see
    :func:`~guanghe.pipelines.settled_days.days_to_settle`), oldest first, so that a campaign
    ended on an earlier day is refunded only after that day's charges."""
    with ctx.runtime.event_log.reading() as con:
        results = [
            charge_day(ctx.runtime, day, now=ctx.now, con=con)
            for day in days_to_settle(ctx.runtime, ctx.date)
        ]
    return StepReport(
        "ad_spend",
        {
            "days_charged": len(results),
            "transfers_created": sum(r.transfers_created for r in results),
            "spent_fen": sum(r.spent_fen for r in results),
            "campaigns_refunded": sum(len(r.refunded_fen) for r in results),
            "refunded_fen": sum(sum(r.refunded_fen.values()) for r in results),
        },
        tuple(p for r in results for p in r.problems),
    )


def charge_day(
    runtime: Runtime,
    day: dt.date,
    *,
    now: dt.datetime | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> AdSpendResult:
    """Post the day's ad-spend transfers (idempotent), then refund the campaigns ended by the
    day; unknown campaigns and charges past a budget are reported in ``problems``. Writes carry
    ``now`` (by default the end of ``day``); ``con``, an event log connection to read with
    (by default one of its own)."""
    at = now or business_day_end(day)
    charges, problems = load_charges(runtime, day, con)
    accounts = runtime.write(lambda s: open_accounts(s, accounts_needed(charges), now=at))
    pairs = [(charge, ad_spend_transfer(charge, accounts)) for charge in charges]
    created = spent = 0
    for start in range(0, len(pairs), TRANSFERS_PER_BATCH):
        chunk = pairs[start : start + TRANSFERS_PER_BATCH]
        results = post_batch(
            runtime.engine,
            [r for _, r in chunk],
            batch=batch_name(day),
            business_day=day,
            now=at,
        )
        for (charge, request), result in zip(chunk, results, strict=True):
            if result.status is TransferStatus.CREATED:
                created += 1
                spent += request.amount or 0
            elif not result.ok:
                problems.append(refused_charge(charge, result.status))
    refunded = runtime.write(lambda s: refund_ended(s, day, now=at))
    return AdSpendResult(day, created, spent, tuple(problems), refunded)


def refused_charge(charge: AdCharge, status: TransferStatus) -> Problem:
    """The problem of an ad event whose charge the ledger refused (``status``)."""
    if status is TransferStatus.EXCEEDS_CREDITS:
        reason = f"campaign {charge.campaign_id}'s budget is exhausted; not charged"
    else:
        reason = f"charge to campaign {charge.campaign_id} refused: {status}"
    return Problem("ad_event", charge.event_id, reason, affects_money=True)


def unprocessable_row(event_id: str) -> Problem | None:
    """The problem of a logged event whose id no ledger key can carry (it reached the log
    before ingest refused such ids): its row is skipped, the rest of the day goes on."""
    why = unprocessable_event_id(event_id)
    if why is None:
        return None
    return Problem(
        "event",
        ascii(event_id)[1:-1][:160],
        f"{why}; not processed (quarantine it: guanghe events quarantine --escaped)",
        affects_money=True,
    )


def unknown_campaign(event_id: str, campaign_id: int) -> Problem:
    """The problem of an ad event naming a campaign that does not exist."""
    return Problem(
        "ad_event",
        event_id,
        f"names campaign {campaign_id}, which does not exist; not charged",
        affects_money=True,
    )


def load_charges(
    runtime: Runtime, day: dt.date, con: duckdb.DuckDBPyConnection | None = None
) -> tuple[list[AdCharge], list[Problem]]:
    """The day's charged ad rows with their campaigns' advertisers, and the rows naming a
    campaign that does not exist or holding an event id no ledger key can carry (reported,
    never charged); read with ``con`` (see :meth:`~guanghe.events.EventLog.reading`)."""
    with runtime.event_log.reading(con) as log:
        logged = log.execute(
            "SELECT event_id, campaign_id, amount_fen FROM events WHERE date = ? "
            "AND type IN ('ad_impression', 'ad_click') AND amount_fen > 0 "
            "AND campaign_id IS NOT NULL ORDER BY event_id",
            [day],
        ).fetchall()
    unkeyable = [unprocessable_row(str(e)) for e, _, _ in logged]
    rows = [row for row, bad in zip(logged, unkeyable, strict=True) if bad is None]
    with runtime.sessions() as session:
        owners = dict(
            session.execute(
                select(Campaign.id, Campaign.advertiser_id).where(
                    Campaign.id.in_(sorted({int(r[1]) for r in rows}))
                )
            ).all()
        )
    problems = [bad for bad in unkeyable if bad is not None]
    problems += [unknown_campaign(str(e), int(c)) for e, c, _ in rows if int(c) not in owners]
    charges = [
        AdCharge(str(e), int(c), int(owners[int(c)]), int(a))
        for e, c, a in rows
        if int(c) in owners
    ]
    return charges, problems
