"""Agents: users with the ``agent`` role who belong to an institution (their token's subject)
and bring brands' paid tasks to its creators. The task center decides what an agent manages
through :func:`agent_can_manage`; commissions reach the agent only through the ledger."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal
from guanghe.errors import InvalidInput, NotFound
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    TransferResult,
    open_accounts,
    post_transfers,
)
from guanghe.store import User

AGENT_COMMISSION_CODE = "agent_commission"


def agent_can_manage(principal: Principal, institution_id: int) -> bool:
    """Whether ``principal`` is an agent of ``institution_id`` (and so may manage the tasks
    it brought for that institution's creators)."""
    return principal.role == "agent" and principal.subject_id == institution_id


def agent_earnings(agent_user_id: int) -> AccountKey:
    """The CNY earnings account of agent user ``agent_user_id`` (never negative)."""
    return AccountKey("agent", agent_user_id, "earnings", "CNY", "debits")


def agent_institution(session: Session, agent_user_id: int) -> int:
    """The institution agent ``agent_user_id`` belongs to; :class:`NotFound` if no such agent."""
    row = session.execute(
        select(User.subject_id).where(User.id == agent_user_id, User.role == "agent")
    ).one_or_none()
    if row is None or row[0] is None:
        raise NotFound(f"agent {agent_user_id} does not exist")
    return int(row[0])


def pay_agent_commission(
    session: Session,
    agent_user_id: int,
    *,
    from_account_id: int,
    amount_fen: int,
    key: str,
    source: tuple[str, str],
    now: dt.datetime,
) -> TransferResult:
    """Pay agent ``agent_user_id`` a commission of ``amount_fen`` from ``from_account_id`` (the
    task's funded account), once per ``source`` (idempotent on ``key``)."""
    agent_institution(session, agent_user_id)
    if amount_fen <= 0:
        raise InvalidInput("an agent commission is a positive amount of fen")
    account = open_accounts(session, [agent_earnings(agent_user_id)], now=now)
    [result] = post_transfers(
        session,
        [
            TransferRequest(
                key,
                AGENT_COMMISSION_CODE,
                debit_account_id=from_account_id,
                credit_account_id=account[agent_earnings(agent_user_id)],
                amount=amount_fen,
                source=source,
            )
        ],
        business_day=now.date(),
        now=now,
    )
    return result
