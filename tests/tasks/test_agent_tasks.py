"""A brand's task an institution's agent brought: operators name the agent and its commission,
reserved with the reward; the agent sees the tasks it brought and their submissions, is paid
its commission once per approved slot through the ledger, and the payout pays it out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from guanghe.access import Principal, create_token
from guanghe.errors import Conflict, Forbidden, InvalidInput, NotFound
from guanghe.institutions import agent_earnings
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    find_account,
    open_accounts,
    pay_out,
    post_transfers,
    reconcile,
)
from guanghe.ledger.settlement import earnings
from guanghe.runtime import Runtime
from guanghe.store import Institution, Notice, TaskClaim, transaction
from guanghe.tasks import (
    TaskView,
    accept_task,
    check_submissions,
    create_task,
    get_task,
    list_submissions,
    list_tasks,
    review_submission,
    submit_work,
)
from guanghe.tasks.funding import creator_reward_account
from tests.tasks.conftest import NOW, OPERATOR, spec, work_id

NEVER = lambda _c: False  # noqa: E731
POSTED = NOW - dt.timedelta(days=2)
EQUITY = AccountKey("platform", 0, "equity", "CNY")


@pytest.fixture
def agents(platform: Runtime) -> tuple[Principal, Principal]:
    """An agent of institution 1 and one of institution 2."""
    with transaction(platform.sessions) as session:
        session.add_all(
            Institution(id=i, name=f"MCN {i}", founded_on=dt.date(2020, 1, 1)) for i in (1, 2)
        )
        session.flush()
        ours, _ = create_token(session, role="agent", subject_id=1, name="a", now=NOW)
        theirs, _ = create_token(session, role="agent", subject_id=2, name="b", now=NOW)
    return ours, theirs


def _post(
    runtime: Runtime, principal: Principal, agent_id: int | None, **changes: object
) -> Callable[[], TaskView]:
    return lambda: runtime.write(
        lambda s: create_task(s, principal, spec(**changes), agent_id=agent_id, now=POSTED)
    )


def _complete(runtime: Runtime, task_id: int, creator_id: int) -> int:
    me = Principal(user_id=creator_id, role="creator", subject_id=creator_id)
    claim = runtime.write(
        lambda s: accept_task(s, me, task_id, creator_id, holds_priority=NEVER, now=NOW)
    )
    runtime.write(lambda s: submit_work(s, me, task_id, creator_id, work_id(creator_id), now=NOW))
    later = NOW + dt.timedelta(days=1)
    runtime.write(
        lambda s: check_submissions(
            s,
            duplicates=frozenset(),
            plays=lambda windows: dict.fromkeys(windows, 500),
            today=later.date(),
            now=later,
        )
    )
    return claim.id


def test_an_agent_is_paid_its_commission_per_approved_slot_and_paid_out(
    platform: Runtime, agents: tuple[Principal, Principal]
) -> None:
    ours, theirs = agents
    with pytest.raises(Forbidden):  # only operators name the agent
        _post(platform, ours, ours.user_id, agent_commission_fen=800)()
    with pytest.raises(InvalidInput, match="needs the agent_id"):
        _post(platform, OPERATOR, None, agent_commission_fen=800)()
    with pytest.raises(NotFound):  # an operator's user is no agent
        _post(platform, OPERATOR, OPERATOR.user_id or 10**6, agent_commission_fen=800)()
    task = _post(platform, OPERATOR, ours.user_id, slots=2, agent_commission_fen=800)()
    assert (task.agent_id, task.agent_commission_fen) == (ours.user_id, 800)
    assert task.reserved_fen == 2 * (5_000 + 800)

    # The agent sees the task it brought; another institution's agent does not.
    with platform.sessions() as s:
        assert [t.id for t in list_tasks(s, ours, now=NOW).items] == [task.id]
        assert list_tasks(s, theirs, now=NOW).items == []
        assert get_task(s, ours, task.id, now=NOW).id == task.id
        with pytest.raises(Forbidden):
            get_task(s, theirs, task.id, now=NOW)

    claim = _complete(platform, task.id, 7)
    with platform.sessions() as s:
        assert [c.id for c in list_submissions(s, ours, task.id).items] == [claim]
        with pytest.raises(Forbidden):
            list_submissions(s, theirs, task.id)
    approve = lambda s: review_submission(  # noqa: E731
        s, OPERATOR, task.id, claim, "approve", "", duplicates=frozenset(), now=NOW
    )
    platform.write(approve)
    with pytest.raises(Conflict):  # a second review is refused and pays nothing
        platform.write(approve)
    with platform.sessions() as s:
        creator = find_account(s, creator_reward_account(7, "CNY"))
        agent = find_account(s, agent_earnings(ours.user_id))
        assert s.scalar(select(TaskClaim.status).where(TaskClaim.id == claim)) == "approved"
        assert reconcile(s) == []
    assert creator is not None
    assert creator.balance == 5_000
    assert agent is not None
    assert agent.balance == 800

    # A creator earnings account with no registered creator: paid out, nobody notified.
    def fund_stray(s: Session) -> None:
        ids = open_accounts(s, [EQUITY, earnings("creator", 9_999)], now=NOW)
        request = TransferRequest(
            "stray", "stray_income", "posted", ids[EQUITY], ids[earnings("creator", 9_999)], 300
        )
        assert post_transfers(s, [request], now=NOW)[0].ok

    platform.write(fund_stray)
    batch = pay_out(platform.engine, NOW.date(), minimum_fen=100, now=NOW)
    paid = {(p.owner_kind, p.owner_id): p.amount_fen for p in batch.payouts}
    assert paid[("agent", ours.user_id)] == 800
    assert paid[("creator", 7)] == 5_000
    assert paid[("creator", 9_999)] == 300
    assert batch.refused == ()
    with platform.sessions() as s:
        notified = set(s.scalars(select(Notice.creator_id).where(Notice.kind == "payout")))
        agent = find_account(s, agent_earnings(ours.user_id))
    assert notified == {7}
    assert agent is not None
    assert agent.balance == 0
