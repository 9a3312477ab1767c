"""Unspent budget back to the advertiser: when a campaign ends (its schedule is over, or its
advertiser or an operator ended it), what is left in its budget account moves back to the
advertiser's prepaid account in one transfer (key ``campaign-refund:<id>``, source
``("campaign_refund", "<id>")``, code ``campaign_budget_refund``).

The budget accounts are locked before their balance is read, and a campaign already refunded
is skipped, so a refund is posted exactly once however often or concurrently it is run. The
refund empties the budget account, which may not go negative: any charge presented afterwards
is refused by the ledger like one past an exhausted budget.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guanghe.errors import Conflict
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    TransferStatus,
    lock_accounts,
    open_accounts,
    paid_sources,
    post_transfers,
    taken_keys,
)
from guanghe.monetize.accounts import campaign_budget, prepaid
from guanghe.store import Campaign

REFUND_CODE: Final = "campaign_budget_refund"
REFUND_SOURCE: Final = "campaign_refund"


def refund_key(campaign_id: int) -> str:
    """The idempotency key of a campaign's budget refund."""
    return f"campaign-refund:{campaign_id}"


def ended_unrefunded(session: Session, day: dt.date) -> list[tuple[int, int]]:
    """(advertiser, campaign) of campaigns ended by ``day`` (status ``ended``, or a schedule
    over by the end of that day, UTC) whose budget has not been refunded yet."""
    day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    rows = session.execute(
        select(Campaign.advertiser_id, Campaign.id)
        .where((Campaign.status == "ended") | (Campaign.ends_at <= day_end))
        .order_by(Campaign.id)
    ).all()
    done = {int(s) for s in paid_sources(session, REFUND_SOURCE, code=REFUND_CODE) if s.isdigit()}
    return [(int(adv), int(cid)) for adv, cid in rows if int(cid) not in done]


def refund_budgets(
    session: Session,
    campaigns: Sequence[tuple[int, int]],
    *,
    business_day: dt.date | None = None,
    now: dt.datetime,
) -> dict[int, int]:
    """Move what is left of each ``(advertiser, campaign)`` budget back to prepaid; returns
    the fen refunded per campaign refunded now (none for one refunded before or left empty).
    The refunds are for ``business_day`` (default: the day of ``now``).

    Lock requirement: inside a writer transaction. Raises :class:`Conflict` if the ledger
    refuses a refund (the caller's transaction then rolls back as a whole)."""
    if not campaigns:
        return {}
    keys: list[AccountKey] = [
        k for adv, cid in campaigns for k in (prepaid(adv), campaign_budget(adv, cid))
    ]
    accounts = open_accounts(session, keys, now=now)
    locked = lock_accounts(session, list(accounts.values()))
    available = {account_id: a.available for account_id, a in locked.items()}
    done = taken_keys(session, {refund_key(cid) for _, cid in campaigns})
    requests = {
        cid: TransferRequest(
            refund_key(cid),
            REFUND_CODE,
            debit_account_id=accounts[campaign_budget(adv, cid)],
            credit_account_id=accounts[prepaid(adv)],
            amount=available[accounts[campaign_budget(adv, cid)]],
            source=(REFUND_SOURCE, str(cid)),
        )
        for adv, cid in campaigns
        if refund_key(cid) not in done and available[accounts[campaign_budget(adv, cid)]] > 0
    }
    results = post_transfers(session, list(requests.values()), business_day=business_day, now=now)
    for result in results:
        if result.status is not TransferStatus.CREATED:
            raise Conflict(f"{result.key} not posted: {result.status.replace('_', ' ')}")
    return {cid: request.amount or 0 for cid, request in requests.items()}


def refund_ended(session: Session, day: dt.date, *, now: dt.datetime) -> dict[int, int]:
    """Refund every campaign ended by ``day`` and not refunded yet (see
    :func:`refund_budgets`); one whose schedule is over gets the status ``ended``."""
    ended = ended_unrefunded(session, day)
    if ended:
        session.execute(
            update(Campaign)
            .where(Campaign.id.in_([cid for _, cid in ended]), Campaign.status != "ended")
            .values(status="ended")
        )
    return refund_budgets(session, ended, business_day=day, now=now)
