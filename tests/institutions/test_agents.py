"""Agents: a token of the agent role needs an existing institution as its subject; an agent
manages only its institution's work and is paid commission through the ledger, once."""

from __future__ import annotations

import datetime as dt

import pytest

from guanghe.access import create_token
from guanghe.errors import InvalidInput, NotFound
from guanghe.institutions import agent_can_manage, agent_earnings, pay_agent_commission
from guanghe.ledger import AccountKey, TransferStatus, find_account, open_accounts, reconcile
from guanghe.runtime import Runtime
from guanghe.store import transaction
from tests.seed import SeedPlatform

NOW = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
ESCROW = AccountKey("platform", 0, "task_escrow", "CNY")


def test_agent_tokens_act_for_an_existing_institution(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    with transaction(runtime.sessions) as session:
        agent, _ = create_token(session, role="agent", subject_id=2, name="a", now=NOW)
        with pytest.raises(NotFound):
            create_token(session, role="agent", subject_id=99, name="b", now=NOW)
        with pytest.raises(InvalidInput):
            create_token(session, role="agent", subject_id=None, name="c", now=NOW)
    assert agent_can_manage(agent, 2)
    assert not agent_can_manage(agent, 1)


def test_an_agent_is_paid_commission_once_through_the_ledger(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    with transaction(runtime.sessions) as session:
        agent, _ = create_token(session, role="agent", subject_id=1, name="a", now=NOW)
        escrow = open_accounts(session, [ESCROW], now=NOW)[ESCROW]
        results = [
            pay_agent_commission(
                session,
                agent.user_id,
                from_account_id=escrow,
                amount_fen=1_200,
                key="task-7:agent",
                source=("task", "7"),
                now=NOW,
            )
            for _ in range(2)
        ]
        with pytest.raises(NotFound):
            pay_agent_commission(
                session,
                agent.user_id + 100,
                from_account_id=escrow,
                amount_fen=1,
                key="x",
                source=("task", "8"),
                now=NOW,
            )
    assert [r.status for r in results] == [TransferStatus.CREATED, TransferStatus.EXISTS]
    with runtime.sessions() as session:
        account = find_account(session, agent_earnings(agent.user_id))
        assert account is not None
        assert account.balance == 1_200
        assert reconcile(session) == []
