"""Tasks and their slots: funding reserved per slot, never more slots taken than exist (even
with 64 acceptances racing on PostgreSQL), the cycle's checks, one payment per approval, and
unused reservations released when the task ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from sqlalchemy import func, select

from guanghe.access import Principal
from guanghe.errors import Conflict, Forbidden, GuangheError
from guanghe.ledger import find_account
from guanghe.runtime import Runtime
from guanghe.store import LedgerTransfer, Notice, TaskClaim
from guanghe.tasks import (
    TaskView,
    accept_task,
    budget_available,
    check_submissions,
    create_task,
    end_tasks,
    review_submission,
    submit_work,
)
from guanghe.tasks.funding import PLATFORM_BUDGET, creator_reward_account, pay_slot, rewards
from tests.tasks.conftest import NOW, OPERATOR, spec, work_id

ALWAYS = lambda _c: True  # noqa: E731  (every creator holds priority access)
NEVER = lambda _c: False  # noqa: E731


def _accept(runtime: Runtime, task_id: int, creator_id: int, now: dt.datetime = NOW) -> int:
    me = Principal(user_id=creator_id, role="creator", subject_id=creator_id)
    claim = runtime.write(
        lambda s: accept_task(s, me, task_id, creator_id, holds_priority=NEVER, now=now)
    )
    return claim.id


def _plays(count: int) -> Callable[[dict[int, tuple[dt.date, dt.date]]], dict[int, int]]:
    return lambda windows: dict.fromkeys(windows, count)


def _submit_and_check(runtime: Runtime, task_id: int, creator_id: int, work: int) -> str:
    me = Principal(user_id=creator_id, role="creator", subject_id=creator_id)
    runtime.write(lambda s: submit_work(s, me, task_id, creator_id, work, now=NOW))
    later = NOW + dt.timedelta(days=1)
    runtime.write(
        lambda s: check_submissions(
            s, duplicates=frozenset(), plays=_plays(150), today=later.date(), now=later
        )
    )
    with runtime.sessions() as s:
        return str(s.scalar(select(TaskClaim.status).where(TaskClaim.creator_id == creator_id)))


def test_creating_a_task_reserves_every_slot_and_refuses_past_the_budget(
    platform: Runtime, post_task: Callable[..., TaskView]
) -> None:
    post_task(slots=4, reward_fen=2_500)
    with platform.sessions() as s:
        budget = find_account(s, PLATFORM_BUDGET)
        assert budget is not None
        assert budget.debits_pending == 4 * 2_500
        assert budget_available(s, "platform", 0) == 10_000_000 - 10_000
    with pytest.raises(Conflict, match="cannot reserve"):
        post_task(slots=10_000, reward_fen=10_000)
    with platform.sessions() as s:
        assert budget_available(s, "platform", 0) == 10_000_000 - 10_000


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_64_concurrent_acceptances_of_a_3_slot_task_take_exactly_3(
    platform: Runtime, post_task: Callable[..., TaskView]
) -> None:
    task = post_task(slots=3)

    def accept(creator_id: int) -> str:
        try:
            _accept(platform, task.id, creator_id)
        except Conflict as exc:
            return str(exc)
        return "accepted"

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(accept, range(1, 65)))
    assert outcomes.count("accepted") == 3
    assert all("no slot left" in o for o in outcomes if o != "accepted")
    with platform.sessions() as s:
        slots = s.scalars(select(TaskClaim.slot_no).where(TaskClaim.task_id == task.id)).all()
    assert sorted(slots) == [1, 2, 3]


def test_a_creator_holds_one_slot_and_an_expired_acceptance_frees_it(
    platform: Runtime, post_task: Callable[..., TaskView]
) -> None:
    task = post_task(slots=1, accept_hours=2)
    _accept(platform, task.id, 1)
    with pytest.raises(Conflict, match="already holds"):
        _accept(platform, task.id, 1)
    with pytest.raises(Conflict, match="no slot left"):
        _accept(platform, task.id, 2)
    _accept(platform, task.id, 2, now=NOW + dt.timedelta(hours=3))
    with platform.sessions() as s:
        states = dict(s.execute(select(TaskClaim.creator_id, TaskClaim.status)).all())
    assert states == {1: "expired", 2: "accepted"}


def test_requirements_and_the_priority_window_gate_acceptance(platform: Runtime) -> None:
    task = platform.write(
        lambda s: create_task(s, OPERATOR, spec(min_followers=50_000, stages=("mature",)), now=NOW)
    )
    me = Principal(user_id=1, role="creator", subject_id=53)
    with pytest.raises(Forbidden, match="priority task access"):
        platform.write(lambda s: accept_task(s, me, task.id, 53, holds_priority=NEVER, now=NOW))
    claim = platform.write(
        lambda s: accept_task(s, me, task.id, 53, holds_priority=ALWAYS, now=NOW)
    )
    assert claim.slot_no == 1
    other = Principal(user_id=3, role="creator", subject_id=3)
    with pytest.raises(Forbidden, match="at least 50,000 followers"):
        platform.write(lambda s: accept_task(s, other, task.id, 3, holds_priority=ALWAYS, now=NOW))
    with pytest.raises(Forbidden, match="acts for itself"):
        platform.write(lambda s: accept_task(s, other, task.id, 53, holds_priority=ALWAYS, now=NOW))


def test_the_check_rejects_untagged_duplicate_and_foreign_works_and_waits_for_plays(
    platform: Runtime, post_task: Callable[..., TaskView]
) -> None:
    task = post_task(slots=5)
    for creator in (1, 2, 3, 4):
        _accept(platform, task.id, creator)
    me = {c: Principal(user_id=c, role="creator", subject_id=c) for c in (1, 2, 3, 4)}
    with pytest.raises(Forbidden, match="not creator 1's"):
        platform.write(lambda s: submit_work(s, me[1], task.id, 1, work_id(2), now=NOW))
    for creator, work in ((1, work_id(1, 1)), (2, work_id(2)), (3, work_id(3)), (4, work_id(4))):
        platform.write(partial(submit_work, principal=me[creator], task_id=task.id,
                               creator_id=creator, work_id=work, now=NOW))  # fmt: skip
    day = NOW.date()
    counts = platform.write(
        lambda s: check_submissions(
            s, duplicates=frozenset({work_id(2)}), plays=_plays(40), today=day, now=NOW
        )
    )
    assert counts == {"checked": 0, "rejected": 2, "wait": 2}
    later = NOW + dt.timedelta(days=5)
    plays = {work_id(3): 40, work_id(4): 400}
    counts = platform.write(
        lambda s: check_submissions(
            s,
            duplicates=frozenset(),
            plays=lambda w: {k: plays[k] for k in w},
            today=later.date(),
            now=later,
        )
    )
    assert counts == {"checked": 1, "rejected": 1, "wait": 0}
    with platform.sessions() as s:
        rows = {c.creator_id: c for c in s.scalars(select(TaskClaim))}
    assert "does not carry #spring" in rows[1].reason
    assert "duplicate" in rows[2].reason
    assert "reached 40 of 100 plays" in rows[3].reason
    assert rows[4].status == "checked"


def test_approving_pays_exactly_once(platform: Runtime, post_task: Callable[..., TaskView]) -> None:
    task = post_task(slots=2, reward_impressions=1_000)
    claim = _accept(platform, task.id, 7)
    assert _submit_and_check(platform, task.id, 7, work_id(7)) == "checked"
    approve = lambda s: review_submission(  # noqa: E731
        s, OPERATOR, task.id, claim, "approve", "", duplicates=frozenset(), now=NOW
    )
    assert platform.write(approve).status == "approved"
    with pytest.raises(Conflict, match="approved, not awaiting review"):
        platform.write(approve)
    # Even past the status check, the ledger pays a claim once.
    again = platform.write(
        lambda s: pay_slot(
            s,
            task_id=task.id,
            sponsor=("platform", 0),
            slot_rewards=rewards(5_000, 1_000),
            slot_no=1,
            claim_id=claim,
            creator_id=7,
            day=NOW.date(),
            now=NOW,
        )
    )
    assert again is False
    with platform.sessions() as s:
        earned = find_account(s, creator_reward_account(7, "CNY"))
        boosted = find_account(s, creator_reward_account(7, "IMPRESSION"))
        paid = s.scalar(
            select(func.count())
            .select_from(LedgerTransfer)
            .where(LedgerTransfer.code == "task_reward")
        )
    assert earned is not None
    assert earned.balance == 5_000
    assert boosted is not None
    assert boosted.balance == 1_000
    assert paid == 2  # one per unit
    with platform.sessions() as s:
        notices = s.scalars(select(Notice).where(Notice.kind == "reward")).all()
    assert [(n.creator_id, n.data["amount_fen"], n.data["impressions"]) for n in notices] == [
        (7, 5_000, 1_000)
    ]
    assert "50.00 CNY" in notices[0].body


def test_a_duplicate_is_never_approved_and_a_rejection_frees_the_slot(
    platform: Runtime, post_task: Callable[..., TaskView]
) -> None:
    task = post_task(slots=1)
    claim = _accept(platform, task.id, 8)
    _submit_and_check(platform, task.id, 8, work_id(8))
    with pytest.raises(Conflict, match="duplicate"):
        platform.write(
            lambda s: review_submission(
                s,
                OPERATOR,
                task.id,
                claim,
                "approve",
                "",
                duplicates=frozenset({work_id(8)}),
                now=NOW,
            )
        )
    platform.write(
        lambda s: review_submission(
            s, OPERATOR, task.id, claim, "reject", "copied", duplicates=frozenset(), now=NOW
        )
    )
    _accept(platform, task.id, 9)


def test_ending_a_task_releases_its_unused_reservations(
    platform: Runtime, post_task: Callable[..., TaskView]
) -> None:
    task = post_task(slots=3, reward_fen=1_000)
    claim = _accept(platform, task.id, 10)
    _submit_and_check(platform, task.id, 10, work_id(10))
    after = task.ends_at + dt.timedelta(minutes=1)
    assert platform.write(lambda s: end_tasks(s, now=after)) == (0, 0)  # a review is pending
    platform.write(
        lambda s: review_submission(
            s, OPERATOR, task.id, claim, "approve", "", duplicates=frozenset(), now=NOW
        )
    )
    assert platform.write(lambda s: end_tasks(s, now=after)) == (1, 2)
    assert platform.write(lambda s: end_tasks(s, now=after)) == (0, 0)
    with platform.sessions() as s:
        budget = find_account(s, PLATFORM_BUDGET)
        assert budget is not None
        assert budget.debits_pending == 0
        assert budget.debits_posted == 1_000
        assert budget_available(s, "platform", 0) == 10_000_000 - 1_000


def test_only_operators_review(platform: Runtime, post_task: Callable[..., TaskView]) -> None:
    task = post_task()
    creator = Principal(user_id=1, role="creator", subject_id=1)
    with pytest.raises(GuangheError):
        platform.write(
            lambda s: review_submission(
                s, creator, task.id, 1, "approve", "", duplicates=frozenset(), now=NOW
            )
        )
