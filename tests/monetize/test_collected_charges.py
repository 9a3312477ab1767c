"""Creators and institutions are paid ad revenue only on charges the ledger collected: a
campaign whose events exceed its budget pays shares on exactly the charges that fit, books
reconcile, and settling again posts nothing. The variant that pays shares apart from their
charges (the old behaviour) must be caught by the same checks."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from guanghe.institutions import sign_contract
from guanghe.ledger import AccountKey, TransferRequest, reconcile
from guanghe.ledger.settlement import DayEvents, SettlementRules, settlement_transfers
from guanghe.pipelines import ad_spend_step, settlement_step
from guanghe.runtime import Runtime
from guanghe.store import INCOME_SOURCES, LedgerAccount, LedgerTransfer, transaction
from tests.monetize.conftest import Market, append_ad_impressions, campaign_body

DAY = dt.date(2026, 11, 28)
BUDGET_FEN = 10_000
SPLIT_BP = 2_000
#: (event, creator, fen) in charging order: i4 passes the budget, i5 fills it exactly.
ROWS = [("i1", 1, 4_000), ("i2", 2, 3_000), ("i3", 1, 2_501), ("i4", 2, 1_000), ("i5", 1, 499)]
COLLECTED = {"i1", "i2", "i3", "i5"}


@pytest.fixture
def overspent_day(client: TestClient, market: Market, runtime: Runtime) -> Runtime:
    campaign = client.post(
        "/v1/campaigns",
        json=campaign_body(budget_fen=BUDGET_FEN),
        headers=market.headers("advertiser"),
    ).json()
    with transaction(runtime.sessions) as session:
        sign_contract(
            session,
            institution_id=1,
            creator_id=1,
            splits=dict.fromkeys(INCOME_SOURCES, SPLIT_BP),
            valid_from=dt.date(2024, 1, 1),
            status="active",
        )
    append_ad_impressions(runtime, campaign["id"], DAY, ROWS)
    return runtime


def charge_and_settle(runtime: Runtime) -> tuple[int, list[tuple[str, str, str]]]:
    """The cycle's order: ad spend, then settlement. Transfers created and problems."""
    spent = ad_spend_step.charge_day(runtime, DAY)
    settled = settlement_step.settle_day(runtime, DAY)
    problems = [(p.kind, p.id, p.reason) for p in settled.problems]
    return spent.transfers_created + settled.transfers_created, problems


def check_paid_only_on_collected_charges(runtime: Runtime) -> None:
    with runtime.sessions() as session:
        assert reconcile(session) == []
        paid: dict[str, dict[str, int]] = {}
        for code, source, amount in session.execute(
            sa.select(LedgerTransfer.code, LedgerTransfer.source_id, LedgerTransfer.amount).where(
                LedgerTransfer.code.in_(("ad_spend", "ad_revenue_share", "ad_institution_split"))
            )
        ):
            paid.setdefault(code, {})[str(source)] = amount
        revenue = session.execute(
            sa.select(LedgerAccount.credits_posted, LedgerAccount.debits_posted).where(
                LedgerAccount.owner_kind == "platform", LedgerAccount.purpose == "ad_revenue"
            )
        ).one()
    fen = {event: amount for event, _, amount in ROWS}
    shares = {e: fen[e] // 2 for e in COLLECTED}
    assert paid["ad_spend"] == {e: fen[e] for e in COLLECTED}
    assert sum(paid["ad_spend"].values()) == BUDGET_FEN
    assert paid["ad_revenue_share"] == shares
    creator1 = {e for e, creator, _ in ROWS if creator == 1} & COLLECTED
    assert paid["ad_institution_split"] == {e: shares[e] * SPLIT_BP // 10_000 for e in creator1}
    # Ad revenue keeps what was collected less what creators were paid; never below zero.
    assert revenue.credits_posted == BUDGET_FEN
    assert revenue.credits_posted - revenue.debits_posted == BUDGET_FEN - sum(shares.values())


def test_creators_are_paid_only_on_collected_charges(
    overspent_day: Runtime, client: TestClient, market: Market
) -> None:
    created, problems = charge_and_settle(overspent_day)
    assert problems == [("ad_event", "i4", "campaign budget exhausted; not paid")]
    assert created == len(COLLECTED) * 2 + 3  # charges, shares, creator 1's three splits
    check_paid_only_on_collected_charges(overspent_day)
    earnings = client.get("/v1/earnings/2", headers=market.headers("creator2")).json()
    assert earnings["by_source"]["profile_ads"] == 3_000 // 2  # i4 was never collected

    with overspent_day.sessions() as session:
        before = session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer))
    assert charge_and_settle(overspent_day)[0] == 0
    with overspent_day.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer)) == before
    check_paid_only_on_collected_charges(overspent_day)


def test_settlement_alone_collects_before_paying(overspent_day: Runtime) -> None:
    """Settling before the ad-spend step ran charges the campaign in the same chains."""
    settled = settlement_step.settle_day(overspent_day, DAY)
    assert [(p.kind, p.id, p.affects_money) for p in settled.problems] == [("ad_event", "i4", True)]
    assert ad_spend_step.charge_day(overspent_day, DAY).transfers_created == 0
    check_paid_only_on_collected_charges(overspent_day)


def test_the_check_catches_shares_paid_apart_from_their_charges(
    overspent_day: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old behaviour: the ad-spend step charges, settlement pays every row's share."""

    def unlinked(
        day: DayEvents, rules: SettlementRules, accounts: dict[AccountKey, int]
    ) -> list[list[TransferRequest]]:
        groups = settlement_transfers(day, rules, accounts)
        return [[t for t in group if t.code != "ad_spend"] for group in groups]

    monkeypatch.setattr(settlement_step, "settlement_transfers", unlinked)
    charge_and_settle(overspent_day)
    with pytest.raises(AssertionError):
        check_paid_only_on_collected_charges(overspent_day)
