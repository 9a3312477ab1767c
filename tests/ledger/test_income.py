"""Creator income by source: settlement income by its day's batch, task, incentive and Torch
rewards by their business day, and the ecosystem report counting them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from guanghe.analytics import parse_period
from guanghe.analytics.report import LedgerEarnings
from guanghe.ledger import (
    AccountKey,
    TransferRequest,
    creator_income,
    open_accounts,
    post_transfers,
    settled_days,
)
from guanghe.ledger.settlement import batch_name, earnings
from guanghe.runtime import Runtime
from guanghe.store import SettledDay

DAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)
FUNDS = AccountKey("platform", 0, "equity", "CNY")
BOOST = AccountKey("creator", 3, "task_boost", "IMPRESSION")
ISSUANCE = AccountKey("platform", 0, "traffic_issuance", "IMPRESSION")


def _pay(
    session: Session,
    code: str,
    creator_id: int,
    amount: int,
    *,
    day: dt.date = DAY,
    batch: str | None = None,
) -> None:
    ids = open_accounts(session, [FUNDS, earnings("creator", creator_id)], now=NOW)
    (result,) = post_transfers(
        session,
        [
            TransferRequest(
                f"{code}:{creator_id}:{day}",
                code,
                debit_account_id=ids[FUNDS],
                credit_account_id=ids[earnings("creator", creator_id)],
                amount=amount,
            )
        ],
        batch=batch,
        business_day=day,
        now=NOW,
    )
    assert result.ok


def _books(session: Session) -> None:
    # Creator 1: ad revenue (settled) and a task reward; creator 2: an incentive's cash only;
    # creator 3: boosted impressions from a task (not income) and a Torch reward; creator 4:
    # a task reward on a day outside the period.
    _pay(session, "ad_revenue_share", 1, 700, batch=batch_name(DAY))
    _pay(session, "task_reward", 1, 5_000, batch="task:9")
    _pay(session, "incentive_cash", 2, 2_000)
    _pay(session, "torch_reward", 3, 300)
    _pay(session, "task_reward", 4, 1_000, day=DAY + dt.timedelta(days=30), batch="task:9")
    ids = open_accounts(session, [ISSUANCE, BOOST], now=NOW)
    (boost,) = post_transfers(
        session,
        [TransferRequest("boost-reward", "task_reward", "posted", ids[ISSUANCE], ids[BOOST], 900)],
        business_day=DAY,
        now=NOW,
    )
    assert boost.ok
    session.add(SettledDay(day=DAY, transfers_created=1, settled_at=NOW))
    session.flush()


def test_rewards_are_income_by_their_business_day(runtime: Runtime) -> None:
    runtime.write(_books)
    with runtime.sessions() as session:
        days = settled_days(session, DAY - dt.timedelta(days=3), DAY + dt.timedelta(days=3))
        income = creator_income(session, days)
    assert days == {DAY}
    assert income == {
        1: {"profile_ads": 700, "tasks": 5_000},
        2: {"incentives": 2_000},
        3: {"torch": 300},
    }


def test_the_ecosystem_report_counts_task_and_incentive_earnings(runtime: Runtime) -> None:
    runtime.write(_books)
    period = parse_period("2026-11-01", "2026-11-28")
    with runtime.sessions() as session:
        source = LedgerEarnings(session)
        assert source.creators_earning(period).value == 3
        assert source.total_earnings_fen(period).value == 700 + 5_000 + 2_000 + 300
        assert source.creators_with_two_sources(period).value == 1  # creator 1: ads and a task
