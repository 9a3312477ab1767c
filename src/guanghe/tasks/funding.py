"""A task's money and boosted impressions in the ledger.

Creating a task reserves each slot's reward as its own *pending* transfer from the sponsor's
budget account into the task's escrow account (``task:<id>``), one per unit rewarded.
Approving a claim posts its slot's reservation and pays the escrowed amount to the creator
(``task_reward``, source ``("task_claim", <claim id>)``: the store allows one per claim) and,
for a task an institution's agent brought, the agent's commission to the agent's earnings
(``agent_commission``, reserved with the reward); a freed slot keeps its reservation for the
next creator; when the task ends, every slot's reservation still pending is voided, releasing
it to the sponsor.

Sponsors' budget accounts: the platform's ``task_budget`` (CNY, never negative, funded by
operators from ``task_funding``) and its traffic issuance for impressions; an advertiser's
prepaid funds (:mod:`guanghe.monetize.accounts`); an institution's ``task_budget``.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from sqlalchemy.orm import Session

from guanghe.errors import Conflict, InvalidInput
from guanghe.institutions.agents import AGENT_COMMISSION_CODE, agent_earnings
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    TransferStatus,
    find_account,
    open_accounts,
    post_transfers,
)
from guanghe.ledger.settlement import earnings
from guanghe.monetize.accounts import prepaid
from guanghe.notifications import NoticeDraft, notify_many
from guanghe.traffic.budgets import ISSUANCE
from guanghe.traffic.floors import reward_account

#: Where operators' task money comes from (never limited: the platform's own funds).
PLATFORM_FUNDING: Final = AccountKey("platform", 0, "task_funding", "CNY")
PLATFORM_BUDGET: Final = AccountKey("platform", 0, "task_budget", "CNY", "debits")
MAX_FUNDING_FEN: Final = 10**13
RESERVE_CODE: Final = "task_reserve"
REWARD_CODE: Final = "task_reward"


def sponsor_budget(sponsor_kind: str, sponsor_id: int, unit: str) -> AccountKey:
    """The account a sponsor's rewards in ``unit`` are reserved from."""
    if unit == "IMPRESSION":
        if sponsor_kind != "platform":
            raise InvalidInput("only the platform rewards tasks with boosted impressions")
        return ISSUANCE
    if sponsor_kind == "platform":
        return PLATFORM_BUDGET
    if sponsor_kind == "advertiser":
        return prepaid(sponsor_id)
    return AccountKey(sponsor_kind, sponsor_id, "task_budget", "CNY", "debits")


def escrow(sponsor_kind: str, sponsor_id: int, task_id: int, unit: str) -> AccountKey:
    """The task's account: reservations are credited here, rewards paid from here."""
    return AccountKey(sponsor_kind, sponsor_id, f"task:{task_id}", unit, "debits")


def creator_reward_account(creator_id: int, unit: str) -> AccountKey:
    """Where a creator's task rewards go: CNY earnings, or task-boost impressions."""
    if unit == "CNY":
        return earnings("creator", creator_id)
    return reward_account(creator_id, "task_boost")


def rewards(
    reward_fen: int, reward_impressions: int, agent_commission_fen: int = 0
) -> list[tuple[str, int]]:
    """``(unit, amount)`` of each unit a slot reserves: the creator's reward, and in CNY the
    agent's commission with it."""
    cash = reward_fen + agent_commission_fen
    return [(u, a) for u, a in (("CNY", cash), ("IMPRESSION", reward_impressions)) if a]


def _reserve_key(task_id: int, slot_no: int, unit: str) -> str:
    return f"task-reserve:{task_id}:{slot_no}:{unit}"


def fund_platform_tasks(session: Session, *, key: str, amount_fen: int, now: dt.datetime) -> int:
    """Move ``amount_fen`` into the platform's task budget (idempotent on ``key``); returns
    what the budget can still reserve."""
    if not 0 < amount_fen <= MAX_FUNDING_FEN:
        raise InvalidInput(f"amount_fen is 1 to {MAX_FUNDING_FEN}")
    if not 1 <= len(key) <= 100:
        raise InvalidInput("key is 1 to 100 characters")
    accounts = open_accounts(session, [PLATFORM_FUNDING, PLATFORM_BUDGET], now=now)
    (result,) = post_transfers(
        session,
        [
            TransferRequest(
                f"task-funding:{key}",
                "task_funding",
                debit_account_id=accounts[PLATFORM_FUNDING],
                credit_account_id=accounts[PLATFORM_BUDGET],
                amount=amount_fen,
            )
        ],
        now=now,
    )
    if not result.ok:
        raise Conflict(f"funding {key!r} not posted: {result.status.replace('_', ' ')}")
    return budget_available(session, "platform", 0)


def budget_available(session: Session, sponsor_kind: str, sponsor_id: int) -> int:
    """What the sponsor's CNY budget can still reserve (fen; 0 if never funded)."""
    account = find_account(session, sponsor_budget(sponsor_kind, sponsor_id, "CNY"))
    return 0 if account is None else max(account.available, 0)


def reserve_slots(
    session: Session,
    task_id: int,
    sponsor: tuple[str, int],
    slot_rewards: list[tuple[str, int]],
    slots: int,
    *,
    now: dt.datetime,
) -> None:
    """Reserve every slot's reward, all or nothing; :class:`Conflict` when the sponsor's
    budget cannot cover ``slots x reward`` (the caller's transaction then rolls back)."""
    kind, sponsor_id = sponsor
    keys = [
        k
        for unit, _ in slot_rewards
        for k in (sponsor_budget(kind, sponsor_id, unit), escrow(kind, sponsor_id, task_id, unit))
    ]
    accounts = open_accounts(session, keys, now=now)
    requests = [
        TransferRequest(
            _reserve_key(task_id, n, unit),
            RESERVE_CODE,
            kind="pending",
            debit_account_id=accounts[sponsor_budget(kind, sponsor_id, unit)],
            credit_account_id=accounts[escrow(kind, sponsor_id, task_id, unit)],
            amount=amount,
            source=("task_slot", f"{task_id}:{n}:{unit}"),
            memo=f"task {task_id} slot {n}",
        )
        for unit, amount in slot_rewards
        for n in range(1, slots + 1)
    ]
    for result in post_transfers(session, requests, linked=True, now=now):
        if result.status is TransferStatus.EXCEEDS_CREDITS:
            raise Conflict(
                f"the sponsor's budget cannot reserve {slots} slots of this reward; fund it first"
            )
        if not result.ok and result.status is not TransferStatus.LINKED_EVENT_FAILED:
            raise Conflict(f"task {task_id} not funded: {result.status.replace('_', ' ')}")


def pay_slot(
    session: Session,
    *,
    task_id: int,
    sponsor: tuple[str, int],
    slot_rewards: list[tuple[str, int]],
    slot_no: int,
    claim_id: int,
    creator_id: int,
    agent: tuple[int, int] | None = None,
    day: dt.date,
    now: dt.datetime,
) -> bool:
    """Post slot ``slot_no``'s reservation and pay it to the creator, less the commission of
    ``agent`` (``(agent user id, fen)``) paid to the agent, linked (all or none).

    Returns True if it paid now, False if this claim was paid before (a replay posts nothing).
    Raises :class:`Conflict` if the ledger refuses."""
    kind, sponsor_id = sponsor
    agent_id, commission = agent if agent is not None else (0, 0)
    keys = [
        k
        for unit, _ in slot_rewards
        for k in (escrow(kind, sponsor_id, task_id, unit), creator_reward_account(creator_id, unit))
    ]
    if commission:
        keys.append(agent_earnings(agent_id))
    accounts = open_accounts(session, keys, now=now)
    requests: list[TransferRequest] = []
    for unit, amount in slot_rewards:
        to_creator = amount - commission if unit == "CNY" else amount
        requests.append(
            TransferRequest(
                f"task-slot-post:{claim_id}:{unit}",
                "task_reserve_post",
                kind="post_pending",
                pending_key=_reserve_key(task_id, slot_no, unit),
                amount=amount,
            )
        )
        if to_creator:
            requests.append(
                TransferRequest(
                    f"task-reward:{claim_id}:{unit}",
                    REWARD_CODE,
                    debit_account_id=accounts[escrow(kind, sponsor_id, task_id, unit)],
                    credit_account_id=accounts[creator_reward_account(creator_id, unit)],
                    amount=to_creator,
                    source=("task_claim", f"{claim_id}:{unit}"),
                    memo=f"task {task_id} slot {slot_no}",
                )
            )
        if unit == "CNY" and commission:
            requests.append(
                TransferRequest(
                    f"task-agent:{claim_id}",
                    AGENT_COMMISSION_CODE,
                    debit_account_id=accounts[escrow(kind, sponsor_id, task_id, unit)],
                    credit_account_id=accounts[agent_earnings(agent_id)],
                    amount=commission,
                    source=("task_claim", f"{claim_id}:agent"),
                    memo=f"task {task_id} slot {slot_no}: agent commission",
                )
            )
    results = post_transfers(
        session, requests, linked=True, batch=f"task:{task_id}", business_day=day, now=now
    )
    failed = [r for r in results if not r.ok and r.status is not TransferStatus.LINKED_EVENT_FAILED]
    if failed:
        raise Conflict(f"claim {claim_id} not paid: {failed[0].status.replace('_', ' ')}")
    paid = any(r.status is TransferStatus.CREATED for r in results)
    if paid:
        rewards = dict(slot_rewards)
        cash = rewards.get("CNY", 0) - commission
        impressions = rewards.get("IMPRESSION", 0)
        notify_many(
            session,
            [
                NoticeDraft(
                    creator_id,
                    "reward",
                    f"Task {task_id}: your reward is paid",
                    f"Your submission to task {task_id} was approved: "
                    + " and ".join(
                        part
                        for part in (
                            f"{cash / 100:.2f} CNY to your earnings" if cash else "",
                            f"{impressions:,} boosted impressions" if impressions else "",
                        )
                        if part
                    )
                    + ".",
                    dedupe_key=f"task-reward:{claim_id}",
                    data={
                        "task_id": task_id,
                        "claim_id": claim_id,
                        "amount_fen": cash,
                        "impressions": impressions,
                    },
                )
            ],
            now=now,
        )
    return paid


def release_slots(
    session: Session,
    task_id: int,
    slot_rewards: list[tuple[str, int]],
    unused_slots: list[int],
    *,
    now: dt.datetime,
) -> int:
    """Void the reservations of ``unused_slots`` (idempotent); returns how many were voided."""
    requests = [
        TransferRequest(
            f"task-release:{task_id}:{n}:{unit}",
            "task_release",
            kind="void_pending",
            pending_key=_reserve_key(task_id, n, unit),
        )
        for unit, _ in slot_rewards
        for n in unused_slots
    ]
    voided = 0
    for result in post_transfers(session, requests, now=now):
        if not result.ok:
            raise Conflict(f"releasing {result.key} failed: {result.status.replace('_', ' ')}")
        voided += result.status is TransferStatus.CREATED
    return voided
