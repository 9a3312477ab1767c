"""Settlement: ad revenue shares, pending commissions, refunds, window close and institution
splits per the contract in force; re-running a day posts nothing new."""

from __future__ import annotations

from guanghe.ledger import list_accounts, reconcile
from guanghe.pipelines.settlement_step import settle_day
from guanghe.runtime import Runtime
from guanghe.store import SettledDay
from tests.pipelines.conftest import day


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
