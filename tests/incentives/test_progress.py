"""Enrolment, progress and rewards on SQLite and PostgreSQL: duplicates never count, a reward
is paid once, the budget is never exceeded, traffic rewards become floors once."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from guanghe.errors import Conflict
from guanghe.incentives import (
    StoredProgramme,
    WindowActivity,
    budget_account,
    budget_used,
    claim_traffic_floors,
    enrol_and_update,
    pay_reward,
    put_programme,
    settle_rewards,
    sync_programmes,
    window_activity,
)
from guanghe.incentives.progress import TRAFFIC_CODE, reward_key
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    find_accounts,
    open_accounts,
    post_transfers,
)
from guanghe.originality import duplicate_work_ids
from guanghe.runtime import Runtime
from guanghe.store import (
    IncentiveEnrolment,
    LedgerAccount,
    LedgerTransfer,
    Notice,
    WorkOriginality,
    write_transaction,
)
from guanghe.traffic.floors import reward_account
from tests.conftest import NOW
from tests.incentives.sample import DAY, WINDOW_START, plays_table, programme, seed_candidates
from tests.seed import SeedPlatform

BEFORE = WINDOW_START - dt.timedelta(days=3)


def _stored(runtime: Runtime, **budget: int) -> StoredProgramme:
    return runtime.write(lambda s: sync_programmes(s, [programme(**budget)], now=NOW))[0]


def _mark_duplicate(runtime: Runtime, work_id: int, of: int, creator: int) -> None:
    def mark(session: Session) -> None:
        session.add(
            WorkOriginality(
                work_id=work_id,
                verdict="duplicate",
                original_work_id=of,
                original_creator_id=creator,
                decided_at=NOW,
            )
        )

    runtime.write(mark)


def _enrolment(runtime: Runtime, creator_id: int) -> IncentiveEnrolment:
    with runtime.sessions() as session:
        row = session.scalar(
            select(IncentiveEnrolment).where(IncentiveEnrolment.creator_id == creator_id)
        )
        assert row is not None
        session.expunge(row)
        return row


def _earnings(runtime: Runtime, creator_id: int) -> int:
    key = AccountKey("creator", creator_id, "earnings", "CNY")
    with runtime.sessions() as session:
        found = find_accounts(session, [key])
    return found[key].balance if key in found else 0


def test_window_plays_leave_out_duplicates_and_days_outside() -> None:
    plays = plays_table(
        [
            (1, 100, BEFORE, 560),  # baseline
            (1, 100, WINDOW_START, 40),
            (1, 106, DAY, 900),  # a duplicate: never counts
            (1, None, DAY, 7),  # no work: not progress
            (2, 101, DAY + dt.timedelta(days=1), 50),  # after the date
        ]
    )
    activity = window_activity(plays, WINDOW_START, DAY, {106})
    assert dict(activity.baseline) == {1: 560}
    assert dict(activity.plays) == {1: 40}
    # Day by day too: the baseline's days run from 28 days before the window, oldest first.
    assert activity.history[1].tolist() == [0] * 25 + [560, 0, 0]
    assert activity.histories(np.array([1, 2], np.int64)).sum(axis=1).tolist() == [560, 0]


def test_a_duplicate_work_never_completes_an_incentive(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    stored = _stored(runtime)
    # Creator 1's only work in the window that is not a duplicate is 100; 106 copies 101.
    _mark_duplicate(runtime, 106, of=101, creator=2)
    _mark_duplicate(runtime, 112, of=101, creator=2)
    _mark_duplicate(runtime, 118, of=101, creator=2)
    plays = plays_table([(1, 100, DAY, 60), (1, 106, DAY, 5_000)])
    with runtime.sessions() as session:
        duplicates = duplicate_work_ids(session)
    activity = window_activity(plays, WINDOW_START, DAY, duplicates)
    report = runtime.write(
        lambda s: enrol_and_update(s, stored, seed_candidates(), (), activity, DAY, duplicates)
    )
    assert report.enrolled == 6
    row = _enrolment(runtime, 1)
    assert (row.plays, row.target_plays, row.completed_on) == (60, 100, None)
    assert row.original_works == 1  # work 100; 106, 112 and 118 are duplicates

    # Counting the duplicate's plays (the broken variant) would have completed it.
    broken = window_activity(plays, WINDOW_START, DAY, set())
    runtime.write(
        lambda s: enrol_and_update(s, stored, seed_candidates(), (), broken, DAY, duplicates)
    )
    assert _enrolment(runtime, 1).completed_on == DAY


def test_every_enrolment_is_brought_up_to_the_day_whether_or_not_it_moved(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    """Only the enrolments whose counts changed are rewritten row by row; every other one of
    the window is dated to the day all the same, and those of other windows are left alone."""
    stored = _stored(runtime)
    next_day = DAY + dt.timedelta(days=1)

    def update(plays: list[tuple[int, int | None, dt.date, int]], day: dt.date) -> None:
        activity = window_activity(plays_table(plays), WINDOW_START, day, set())
        runtime.write(
            lambda s: enrol_and_update(s, stored, seed_candidates(), (), activity, day, set())
        )

    update([(1, 100, DAY, 60)], DAY)
    runtime.write(
        lambda s: s.add(
            IncentiveEnrolment(
                program_id=stored.id,
                creator_id=1,
                window_starts_on=WINDOW_START - dt.timedelta(days=14),
                window_ends_on=WINDOW_START - dt.timedelta(days=1),
                vertical_id=1,
                stage="growing",
                baseline_plays=0,
                target_plays=1,
                target_works=1,
                enrolled_on=BEFORE,
                progress_on=BEFORE,
            )
        )
    )
    update([(1, 100, DAY, 60), (1, 100, next_day, 15)], next_day)
    with runtime.sessions() as session:
        rows = session.execute(
            select(
                IncentiveEnrolment.creator_id,
                IncentiveEnrolment.window_starts_on,
                IncentiveEnrolment.plays,
                IncentiveEnrolment.progress_on,
            )
        ).all()
    current = {
        r.creator_id: (r.plays, r.progress_on) for r in rows if r.window_starts_on == WINDOW_START
    }
    assert current[1] == (75, next_day)
    assert len(current) == 6
    assert all(on == next_day for _, on in current.values())
    (earlier,) = [r for r in rows if r.window_starts_on != WINDOW_START]
    assert earlier.progress_on == BEFORE


def test_a_completed_window_is_paid_once_cash_and_traffic_together(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    stored = _stored(runtime)
    activity = WindowActivity(baseline={1: 280}, plays={1: 500})
    runtime.write(
        lambda s: enrol_and_update(s, stored, seed_candidates(), (), activity, DAY, set())
    )
    row = _enrolment(runtime, 1)
    assert row.baseline_plays == 280
    assert row.target_plays == 210  # 280 / 2 * 1.5
    assert row.completed_on == DAY
    for _ in range(3):  # re-runs of the day pay nothing more
        runtime.write(lambda s: settle_rewards(s, stored, day=DAY, now=NOW))
    assert _earnings(runtime, 1) == 1_000
    with runtime.sessions() as session:
        funded, paid = budget_used(session, stored.id)
    assert paid == {"CNY": 1_000, "IMPRESSION": 500}
    assert funded == {"CNY": 100_000, "IMPRESSION": 50_000}
    paid_row = _enrolment(runtime, 1)
    assert (paid_row.paid_on, paid_row.reward_fen, paid_row.reward_impressions) == (DAY, 1_000, 500)


def test_a_spent_budget_pays_nobody_more_and_says_why(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    stored = _stored(runtime, cash=2_500, impressions=50_000)  # two rewards' worth of cash
    first_three = WindowActivity(baseline={}, plays=dict.fromkeys(range(1, 4), 5_000))
    runtime.write(
        lambda s: enrol_and_update(s, stored, seed_candidates(), (), first_three, DAY, set())
    )
    report = runtime.write(lambda s: settle_rewards(s, stored, day=DAY, now=NOW))
    refused = reward_key(stored.programme.name, 3, WINDOW_START)
    assert (report.paid, report.unpaid) == (2, [(refused, "exceeds_credits")])
    with runtime.sessions() as session:
        _, paid = budget_used(session, stored.id)
    assert paid == {"CNY": 2_000, "IMPRESSION": 1_000}  # no traffic paid without the cash
    # Three more complete with the budget spent (500 fen left, a reward is 1,000): all four
    # are refused as the ledger refuses, nothing posted, no account opened for the three.
    everyone = WindowActivity(baseline={}, plays=dict.fromkeys(range(1, 7), 5_000))
    runtime.write(
        lambda s: enrol_and_update(s, stored, seed_candidates(), (), everyone, DAY, set())
    )
    with runtime.sessions() as session:
        accounts_before = session.scalar(select(func.count()).select_from(LedgerAccount))
    retried = runtime.write(lambda s: settle_rewards(s, stored, day=DAY, now=NOW))
    assert (retried.paid, len(retried.unpaid)) == (0, 4)
    assert {status for _, status in retried.unpaid} == {"exceeds_credits"}
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LedgerAccount)) == accounts_before
    # Lowering the budget under what was paid is refused; raising it pays the rest.
    lowered = programme(cash=1_000)
    with pytest.raises(Conflict):
        runtime.write(lambda s: put_programme(s, lowered, actor="op", now=NOW))
    runtime.write(lambda s: put_programme(s, programme(cash=10_000), actor="op", now=NOW))
    assert runtime.write(lambda s: settle_rewards(s, stored, day=DAY, now=NOW)).paid == 4


def test_traffic_rewards_are_claimed_once_by_the_next_period(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    stored = _stored(runtime)
    activity = WindowActivity(baseline={}, plays={2: 5_000, 3: 5_000})
    runtime.write(
        lambda s: enrol_and_update(s, stored, seed_candidates(), (), activity, DAY, set())
    )
    runtime.write(lambda s: settle_rewards(s, stored, day=DAY, now=NOW))
    assert runtime.write(lambda s: claim_traffic_floors(s, DAY)) == {}  # paid that day: later
    following = DAY + dt.timedelta(days=1)
    assert runtime.write(lambda s: claim_traffic_floors(s, following)) == {2: 500, 3: 500}
    assert runtime.write(lambda s: claim_traffic_floors(s, following)) == {2: 500, 3: 500}
    later = DAY + dt.timedelta(days=8)
    assert runtime.write(lambda s: claim_traffic_floors(s, later)) == {}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_settlement_never_overspends_the_budget(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    """Six creators completed, cash for three: 12 threads pay them (each twice) at once."""
    stored = _stored(runtime, cash=3_000, impressions=50_000)
    activity = WindowActivity(baseline={}, plays=dict.fromkeys(range(1, 7), 5_000))
    runtime.write(
        lambda s: enrol_and_update(s, stored, seed_candidates(), (), activity, DAY, set())
    )
    barrier, statuses, lock = threading.Barrier(12), [], threading.Lock()

    def pay(creator_id: int) -> None:
        def work(session: Session) -> str:
            row = session.scalar(
                select(IncentiveEnrolment).where(IncentiveEnrolment.creator_id == creator_id)
            )
            assert row is not None
            return pay_reward(session, stored, row, day=DAY, now=NOW).value

        barrier.wait()
        status = write_transaction(runtime.engine, work)
        with lock:
            statuses.append((creator_id, status))

    threads = [threading.Thread(target=pay, args=(1 + i % 6,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    paid_creators = {c for c, s in statuses if s == "created"}
    assert len(paid_creators) == 3
    with runtime.sessions() as session:
        account = find_accounts(session, [budget_account(stored.id, "CNY")])
        _, paid = budget_used(session, stored.id)
    assert account[budget_account(stored.id, "CNY")].balance == 0
    assert paid["CNY"] == 3_000
    assert sum(_earnings(runtime, c) for c in range(1, 7)) == 3_000


def test_rewards_paid_in_one_posting_are_those_paid_one_at_a_time(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    """A reward refused after its cash was staged (its traffic's source taken by another
    transfer) gives its ids back: the next rewards' transfers take the ids that paying one
    reward at a time gives them, and only the paid get a notice."""
    stored = _stored(runtime)
    source = f"{stored.id}:3:{WINDOW_START.isoformat()}"

    def squat(session: Session) -> int:
        accounts = open_accounts(
            session,
            [budget_account(stored.id, "IMPRESSION"), reward_account(3, "incentive_traffic")],
            now=NOW,
        )
        request = TransferRequest(
            key="squatter",
            code=TRAFFIC_CODE,
            debit_account_id=accounts[budget_account(stored.id, "IMPRESSION")],
            credit_account_id=accounts[reward_account(3, "incentive_traffic")],
            amount=1,
            source=("incentive_reward", source),
        )
        [result] = post_transfers(session, [request], now=NOW)
        assert result.transfer_id is not None
        return result.transfer_id

    squatter = runtime.write(squat)
    activity = WindowActivity(baseline={}, plays=dict.fromkeys(range(1, 7), 5_000))
    runtime.write(
        lambda s: enrol_and_update(s, stored, seed_candidates(), (), activity, DAY, set())
    )
    report = runtime.write(lambda s: settle_rewards(s, stored, day=DAY, now=NOW))
    third = reward_key(stored.programme.name, 3, WINDOW_START)
    assert (report.paid, report.unpaid) == (5, [(third, "source_already_paid")])
    with runtime.sessions() as session:
        written = session.execute(
            select(LedgerTransfer.id, LedgerTransfer.key)
            .where(LedgerTransfer.id > squatter)
            .order_by(LedgerTransfer.id)
        ).all()
        notified = session.scalars(select(Notice.creator_id).order_by(Notice.id)).all()
    paid = [1, 2, 4, 5, 6]
    keys = [
        f"{reward_key(stored.programme.name, c, WINDOW_START)}:{unit}"
        for c in paid
        for unit in ("CNY", "IMPRESSION")
    ]
    assert [tuple(row) for row in written] == list(enumerate(keys, start=squatter + 1))
    assert list(notified) == paid
    assert _enrolment(runtime, 3).paid_on is None
