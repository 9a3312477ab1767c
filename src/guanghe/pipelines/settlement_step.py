"""The settlement step of the cycle: a day's revenue events into ledger transfers.

Pay first, then record the day as settled. Every transfer's key comes from its source event,
so a run killed at any point and run again posts exactly what was missing; the settled-day
record is only a report, never a reason to skip paying. Ad revenue shares are paid only in
linked chains with the charge that collects them (see :func:`pay_day`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
from sqlalchemy.orm import Session

from guanghe.institutions import ContractBook, contract_book
from guanghe.ledger import (
    TransferResult,
    TransferStatus,
    open_accounts,
    post_chain_batch,
    taken_keys,
)
from guanghe.ledger.settlement import (
    OWED_KEY_PREFIX,
    REVERSAL_KEY_PREFIX,
    DayEvents,
    Revenue,
    SettlementRules,
    Split,
    accounts_needed,
    batch_name,
    owed_accounts,
    owed_reversal,
    settlement_transfers,
)
from guanghe.monetize.spend import accounts_needed as spend_accounts
from guanghe.monetize.spend import ad_spend_transfer
from guanghe.pipelines import ad_spend_step
from guanghe.pipelines.context import CycleContext, business_day_end
from guanghe.pipelines.reports import Problem, StepReport
from guanghe.pipelines.settled_days import days_to_settle
from guanghe.runtime import Runtime
from guanghe.store import SettledDay

#: Chains posted per writer transaction (one commit each: fewer commits, each of more rows).
CHAINS_PER_BATCH = 2_000
SPEND_KEY_PREFIX = "ad-spend:"
#: Statuses of a re-run or of a refund racing the window: nothing more to do, nothing wrong.
_SETTLED = {
    TransferStatus.CREATED,
    TransferStatus.EXISTS,
    TransferStatus.PENDING_ALREADY_RESOLVED,
    TransferStatus.ALREADY_REVERSED,
    TransferStatus.LINKED_EVENT_FAILED,  # the chain's failing transfer is reported instead
}


@dataclass(frozen=True, slots=True)
class SettlementResult:
    """What settling a day did; ``reversals_owed``: refunded orders whose commission was
    recorded as owed because an earnings account could not cover the reversal."""

    day: dt.date
    transfers_created: int
    problems: tuple[Problem, ...]
    reversals_owed: int = 0


def run(ctx: CycleContext) -> StepReport:
    """Cycle step: settle, oldest first, every day up to the cycle's date not settled yet and
    the date itself (see :func:`~guanghe.pipelines.settled_days.days_to_settle`)."""
    days = days_to_settle(ctx.runtime, ctx.date)
    with ctx.runtime.event_log.reading() as con:
        results = [settle_day(ctx.runtime, day, now=ctx.now, con=con) for day in days]
    return StepReport(
        "settlement",
        {
            "days_settled": len(results),
            "earlier_days_settled": len(results) - 1,
            "transfers_created": sum(r.transfers_created for r in results),
            "reversals_owed": sum(r.reversals_owed for r in results),
        },
        tuple(p for r in results for p in r.problems),
    )


def configured_rules(runtime: Runtime) -> SettlementRules:
    """Settlement rules with the deployment's creator share of ad revenue."""
    return SettlementRules(creator_ad_share_bp=runtime.settings.creator_ad_share_bp)


def settle_day(
    runtime: Runtime,
    day: dt.date,
    *,
    rules: SettlementRules | None = None,
    now: dt.datetime | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> SettlementResult:
    """Post every transfer the day's revenue events owe, then record the day as settled.
    Writes carry ``now`` (by default the end of ``day``); ``con``, an event log connection to
    read with (by default one of its own)."""
    at = now or business_day_end(day)
    result = pay_day(runtime, day, rules or configured_rules(runtime), now=at, con=con)
    runtime.write(lambda s: mark_settled(s, result, now=at))
    return result


def pay_day(
    runtime: Runtime,
    day: dt.date,
    rules: SettlementRules,
    *,
    now: dt.datetime,
    con: duckdb.DuckDBPyConnection | None = None,
) -> SettlementResult:
    """Post the day's transfers in batches of linked chains (idempotent).

    Each ad row's chain starts with the charge collecting it from its campaign's budget (the
    ``ad_spend`` step's transfer, ``exists`` once that step ran): a row whose charge is refused,
    or that names no campaign, pays nobody and is reported. A commission reversal an earnings
    account cannot cover is recorded as owed instead (:func:`post_owed`); an order already
    recorded as owed is not reversed again.
    """
    with runtime.event_log.reading(con) as log:
        events = load_day_events(runtime, day, rules, log)
        charges, _ = ad_spend_step.load_charges(runtime, day, log)
    skipped = drop_unprocessable(events)
    with runtime.sessions() as session:
        owed_before = taken_keys(
            session, [OWED_KEY_PREFIX + o.event_id for o in events.refunded_after_window]
        )
    events.refunded_after_window = [
        o for o in events.refunded_after_window if OWED_KEY_PREFIX + o.event_id not in owed_before
    ]
    needed = list(dict.fromkeys([*accounts_needed(events), *spend_accounts(charges)]))
    accounts = runtime.write(lambda s: open_accounts(s, needed, now=now))
    events.ad_charges = {c.event_id: ad_spend_transfer(c, accounts) for c in charges}
    problems = skipped + [
        Problem(
            "ad_event",
            ad.event_id,
            "names no existing campaign to charge; its revenue is not paid",
            affects_money=True,
        )
        for ad in events.ads
        if ad.event_id not in events.ad_charges
    ]
    chains = settlement_transfers(events, rules, accounts)
    created, uncovered = 0, set()
    for at in range(0, len(chains), CHAINS_PER_BATCH):
        batch = post_chain_batch(
            runtime.engine,
            chains[at : at + CHAINS_PER_BATCH],
            batch=batch_name(day),
            business_day=day,
            now=now,
        )
        for chain in batch:
            if (event_id := _uncovered_reversal(chain)) is not None:
                uncovered.add(event_id)
                continue
            for result in chain:
                created += result.status is TransferStatus.CREATED
                if result.status not in _SETTLED:
                    problems.append(unpaid(result.key, result.status))
    uncovered_orders = [o for o in events.refunded_after_window if o.event_id in uncovered]
    owed, owed_created, owed_problems = post_owed(
        runtime, day, uncovered_orders, events.splits_on_order_day, now=now
    )
    return SettlementResult(day, created + owed_created, tuple(problems + owed_problems), owed)


def _uncovered_reversal(chain: list[TransferResult]) -> str | None:
    """The order id of a commission reversal chain refused because an earnings account could
    not cover it, else ``None``."""
    if not chain[-1].key.startswith(REVERSAL_KEY_PREFIX):
        return None
    if not any(r.status is TransferStatus.EXCEEDS_CREDITS for r in chain):
        return None
    return chain[-1].key.removeprefix(REVERSAL_KEY_PREFIX)


def post_owed(
    runtime: Runtime,
    day: dt.date,
    orders: list[Revenue],
    splits: dict[str, Split],
    *,
    now: dt.datetime,
) -> tuple[int, int, list[Problem]]:
    """Record the commission of ``orders`` (refunded after the window, their reversal not
    covered) as owed by the creator and the institution; the orders recorded, the transfers
    created and the problems of those the ledger refused."""
    if not orders:
        return 0, 0, []
    accounts = runtime.write(lambda s: open_accounts(s, owed_accounts(orders, splits), now=now))
    chains = [owed_reversal(o, splits.get(o.event_id), accounts) for o in orders]
    results = post_chain_batch(
        runtime.engine, chains, batch=batch_name(day), business_day=day, now=now
    )
    flat = [r for chain in results for r in chain]
    problems = [unpaid(r.key, r.status) for r in flat if r.status not in _SETTLED]
    recorded = sum(all(r.ok for r in chain) for chain in results)
    return recorded, sum(r.status is TransferStatus.CREATED for r in flat), problems


def drop_unprocessable(events: DayEvents) -> list[Problem]:
    """Take the rows whose event id no ledger key can carry out of ``events``; their
    problems (the rest of the day settles)."""
    problems: dict[str, Problem] = {}
    for rows in (
        events.ads,
        events.orders,
        events.refunded_in_window,
        events.refunded_after_window,
        events.closing,
    ):
        kept = []
        for row in rows:
            bad = ad_spend_step.unprocessable_row(row.event_id)
            if bad is None:
                kept.append(row)
            else:
                problems.setdefault(row.event_id, bad)
        rows[:] = kept
    return list(problems.values())


def unpaid(key: str, status: TransferStatus) -> Problem:
    """The problem of a transfer the ledger refused, which leaves its chain unpaid."""
    if status is TransferStatus.EXCEEDS_CREDITS and key.startswith(SPEND_KEY_PREFIX):
        event_id = key.removeprefix(SPEND_KEY_PREFIX)
        return Problem(
            "ad_event", event_id, "campaign budget exhausted; not paid", affects_money=True
        )
    return Problem("transfer", key, f"refused by the ledger: {status}", affects_money=True)


def mark_settled(session: Session, result: SettlementResult, *, now: dt.datetime) -> None:
    """Record that ``result.day`` was settled at ``now`` (adding to an earlier record of it)."""
    record = session.get(SettledDay, result.day)
    if record is None:
        session.add(
            SettledDay(day=result.day, transfers_created=result.transfers_created, settled_at=now)
        )
    else:
        record.transfers_created += result.transfers_created
        record.settled_at = now


def load_day_events(
    runtime: Runtime, day: dt.date, rules: SettlementRules, con: duckdb.DuckDBPyConnection
) -> DayEvents:
    """The revenue events settling ``day`` concerns (read with ``con``, an event log
    connection), with the splits of the contracts in force: ad income split by the contract
    splitting ``ads`` on ``day``, commissions by the one splitting ``commerce`` on the order's
    day."""
    closing_day = day - dt.timedelta(days=rules.return_window_days)
    ads = _revenues(
        con,
        "SELECT event_id, creator_id, amount_fen FROM events WHERE date = ? "
        "AND type IN ('ad_impression', 'ad_click') AND amount_fen > 0",
        [day],
    )
    orders = _revenues(
        con,
        "SELECT event_id, creator_id, commission_fen FROM events "
        "WHERE date = ? AND type = 'order' AND commission_fen > 0",
        [day],
    )
    refunded = con.execute(
        "SELECT DISTINCT o.event_id, o.creator_id, o.commission_fen, o.date FROM events r "
        "JOIN events o ON o.event_id = r.ref_event_id AND o.type = 'order' "
        "WHERE r.date = ? AND r.type = 'refund' AND o.commission_fen > 0 ORDER BY o.event_id",
        [day],
    ).fetchall()
    closing = _revenues(
        con,
        "SELECT o.event_id, o.creator_id, o.commission_fen FROM events o WHERE o.date = ? "
        "AND o.type = 'order' AND o.commission_fen > 0 AND NOT EXISTS (SELECT 1 FROM events r "
        "WHERE r.type = 'refund' AND r.ref_event_id = o.event_id AND r.date <= ?)",
        [closing_day, day],
    )
    in_window = [Revenue(e, c, a) for e, c, a, d in refunded if d >= closing_day]
    after_window = [Revenue(e, c, a) for e, c, a, d in refunded if d < closing_day]
    order_days = {e: d for e, _, _, d in refunded} | {o.event_id: closing_day for o in closing}
    creators = {r.creator_id for r in (*ads, *closing, *after_window)}
    with runtime.sessions() as session:
        book = contract_book(session, creators)
    return DayEvents(
        ads=ads,
        orders=orders,
        refunded_in_window=in_window,
        refunded_after_window=after_window,
        closing=closing,
        splits_today=_splits(book, {a.creator_id for a in ads}, day),
        splits_on_order_day={
            o.event_id: split
            for o in (*closing, *after_window)
            if (split := _split(book, o.creator_id, order_days[o.event_id], "commerce")) is not None
        },
    )


def _revenues(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[Revenue]:
    return [Revenue(str(e), int(c), int(a)) for e, c, a in con.execute(sql, params).fetchall()]


def _split(book: ContractBook, creator_id: int, day: dt.date, source: str) -> Split | None:
    """The split of the creator's ``source`` income on ``day`` (``ads`` or ``commerce``)."""
    contract = book.in_force(creator_id, day, source)
    return Split(contract.institution_id, contract.split_bp(source)) if contract else None


def _splits(book: ContractBook, creator_ids: set[int], day: dt.date) -> dict[int, Split]:
    """Each creator's split of ad income on ``day``."""
    return {c: s for c in sorted(creator_ids) if (s := _split(book, c, day, "ads")) is not None}
