"""Settlement: ad revenue shares, pending commissions, refunds, window close and institution
splits per the contract in force; re-running a day posts nothing new."""

from __future__ import annotations

from sqlalchemy import select

from guanghe.ledger import list_accounts, reconcile
from guanghe.pipelines.settlement_step import settle_day
from guanghe.runtime import Runtime
from guanghe.store import Campaign, SettledDay
from tests.pipelines.conftest import at, day, events


def balances(runtime: Runtime) -> dict[tuple[str, int, str], tuple[int, int]]:
    with runtime.sessions() as session:
        return {
            (a.owner_kind, a.owner_id, a.purpose): (a.balance, a.debits_pending + a.credits_pending)
            for a in list_accounts(session)
        }


def test_a_fortnight_settles_to_the_right_balances(revenue_platform: Runtime) -> None:
    results = [settle_day(revenue_platform, day(n)) for n in range(12)]
    assert all(not r.problems for r in results), [r.problems for r in results]
    books = balances(revenue_platform)
    # creator 1: 50 % of 1,000 ad revenue, 20 % of that to institution 1; o2 refunded in the
    # window (voided), o4 posted at window close (100, 20 to the institution), then refunded
    # after the window (both reversed)
    assert books[("creator", 1, "earnings")] == (400, 0)
    assert books[("institution", 1, "earnings")] == (100, 0)
    # creator 3: o1's commission (no contract on the order day) + 50 % of ad3 less 10 %
    assert books[("creator", 3, "earnings")] == (500 + 360, 0)
    assert books[("institution", 2, "earnings")] == (40, 0)
    assert books[("creator", 2, "earnings")] == (0, 0)  # o3 refunded after the window
    assert books[("creator", 4, "earnings")] == (0, 0)  # half a fen rounds down to nothing
    with revenue_platform.sessions() as session:
        assert reconcile(session) == []
        assert session.get(SettledDay, day(0)) is not None


def test_commission_is_pending_until_the_window_closes(revenue_platform: Runtime) -> None:
    settle_day(revenue_platform, day(0))
    books = balances(revenue_platform)
    assert books[("creator", 3, "earnings")] == (0, 500)
    for n in range(1, 8):
        settle_day(revenue_platform, day(n))
    assert balances(revenue_platform)[("creator", 3, "earnings")] == (500 + 360, 0)


def test_settling_again_posts_nothing_new(revenue_platform: Runtime) -> None:
    for n in range(12):
        settle_day(revenue_platform, day(n))
    before = balances(revenue_platform)
    again = [settle_day(revenue_platform, day(n)) for n in range(12)]
    assert sum(r.transfers_created for r in again) == 0
    assert balances(revenue_platform) == before


def test_the_ecosystem_report_takes_earnings_from_the_ledger(revenue_platform: Runtime) -> None:
    from guanghe.analytics import ecosystem_report, parse_period

    for n in range(12):
        settle_day(revenue_platform, day(n))
    with revenue_platform.sessions() as session:
        report = ecosystem_report(
            session, revenue_platform.event_log, parse_period(day(0), day(11))
        )
    metrics = {m.key: m for m in report.metrics}
    # gross creator income: ads 500 + 400, commissions o1 500, o3 200 then reversed, o4 100
    # then reversed
    assert metrics["total_earnings_fen"].current.value == 500 + 400 + 500
    assert metrics["creators_earning"].current.value == 2
    assert metrics["creators_two_income_sources"].current.value == 1
    assert metrics["total_earnings_fen"].previous.unavailable


def test_a_reversal_the_earnings_cannot_cover_is_owed_and_repaid_from_later_earnings(
    revenue_platform: Runtime,
) -> None:
    """Creators and institutions paid out before a refund after the window owe the commission
    back: recorded in their clawback accounts, repaid first from the next payout."""
    from guanghe.ledger import creator_income, income_lines, pay_out, reversed_transfers
    from guanghe.monetize import creator_earnings

    for n in range(9):  # o3 and o4 posted at window close (day 7)
        settle_day(revenue_platform, day(n))
    first = pay_out(revenue_platform.engine, day(8), minimum_fen=1, now=at(day(8), 23))
    assert not first.refused
    assert not first.recovered
    refunds = [settle_day(revenue_platform, day(n)) for n in (9, 10)]  # r3, then r4
    assert [r.reversals_owed for r in refunds] == [1, 1]
    assert all(not r.problems for r in refunds), [r.problems for r in refunds]
    books = balances(revenue_platform)
    # creator 2 owes o3's 200; creator 1 owes o4's 100 less the 20 its institution owes
    assert books[("creator", 2, "clawback")] == (-200, 0)
    assert books[("creator", 1, "clawback")] == (-80, 0)
    assert books[("institution", 1, "clawback")] == (-20, 0)
    assert books[("creator", 1, "earnings")] == (0, 0)
    with revenue_platform.sessions() as session:
        owing = creator_earnings(session, 2)
    assert (owing.owed_fen, owing.balance_fen) == (200, 0)
    assert (owing.by_source["commission"], owing.by_source["refunds"]) == (200, -200)

    with revenue_platform.sessions() as session:
        campaign = session.scalars(select(Campaign.id)).one()  # the fixture's, still funded
    revenue_platform.event_log.append(
        events(
            [
                {
                    "event_id": "ad4",
                    "type": "ad_impression",
                    "ts": at(day(11)),
                    "creator_id": 1,
                    "count": 10,
                    "amount_fen": 1_000,
                    "campaign_id": campaign,
                }
            ]
        )
    )
    settle_day(revenue_platform, day(11))  # creator 1 earns 400, institution 1 takes 100
    batch = pay_out(revenue_platform.engine, day(11), minimum_fen=1, now=at(day(11), 23))
    kept = {(r.owner_kind, r.owner_id): r.amount_fen for r in batch.recovered}
    paid = {(p.owner_kind, p.owner_id): p.amount_fen for p in batch.payouts}
    assert kept == {("creator", 1): 80, ("institution", 1): 20}
    assert paid == {("creator", 1): 320, ("institution", 1): 80}
    books = balances(revenue_platform)
    assert books[("creator", 1, "clawback")] == (0, 0)
    assert books[("institution", 1, "clawback")] == (0, 0)
    assert books[("creator", 2, "clawback")] == (-200, 0)  # nothing earned since

    again = pay_out(revenue_platform.engine, day(11), minimum_fen=1, now=at(day(11), 23))
    assert (again.payouts, again.recovered) == (batch.payouts, batch.recovered)
    assert sum(settle_day(revenue_platform, day(n)).transfers_created for n in (9, 10)) == 0
    assert balances(revenue_platform) == books
    with revenue_platform.sessions() as session:
        assert reconcile(session) == []
        income = creator_income(session, {day(n) for n in range(12)})
        lines = income_lines(session, [1, 2], ["commission_post"])
        taken_back = reversed_transfers(session, [line.transfer_id for line in lines])
        repaid = creator_earnings(session, 1)
    assert repaid.owed_fen == 0
    # ad shares 500 + 500 (100 + 100 split off), o4's 100 owed back, its 20 split returned
    assert repaid.by_source["profile_ads"] == 1_000
    assert (repaid.by_source["commission"], repaid.by_source["refunds"]) == (100, -100)
    assert repaid.by_source["institution_split"] == -(100 + 100 + 20) + 20
    assert income[2] == {"commission": 0}  # o3 posted, then owed
    assert income[1]["commission"] == 0  # o4 posted, then owed
    assert all(line.reversed for line in lines)
    assert taken_back == {line.transfer_id for line in lines}
