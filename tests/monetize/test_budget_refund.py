"""Unspent budget goes back to the advertiser when a campaign ends, by its schedule (the
cycle's ad_spend step) or by its advertiser (PATCH status ended): funded − collected, in one
transfer, exactly once even if run again or concurrently; books reconcile; a late event after
the refund is neither charged nor paid."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from guanghe.ledger import reconcile
from guanghe.monetize.accounts import prepaid
from guanghe.monetize.refunds import REFUND_CODE, refund_budgets
from guanghe.pipelines import ad_spend_step, settlement_step
from guanghe.runtime import Runtime
from guanghe.store import LedgerAccount, LedgerTransfer
from tests.monetize.conftest import NOW, Market, append_ad_impressions, campaign_body

DAY = dt.date(2026, 11, 28)
BUDGET_FEN = 10_000
DEPOSITED_FEN = 100_000
#: (event, creator, fen) charged to the campaign.
CHARGES = [("i1", 1, 4_000), ("i2", 1, 2_500)]
COLLECTED_FEN = sum(fen for _, _, fen in CHARGES)


def _campaign(client: TestClient, market: Market, **schedule: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/campaigns",
        json=campaign_body(budget_fen=BUDGET_FEN, **schedule),
        headers=market.headers("advertiser"),
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _prepaid_balance(runtime: Runtime, advertiser_id: int) -> int:
    key = prepaid(advertiser_id)
    with runtime.sessions() as session:
        credits, debits = session.execute(
            sa.select(LedgerAccount.credits_posted, LedgerAccount.debits_posted).where(
                LedgerAccount.owner_kind == key.owner_kind,
                LedgerAccount.owner_id == key.owner_id,
                LedgerAccount.purpose == key.purpose,
            )
        ).one()
    return int(credits - debits)


def _refunds(runtime: Runtime) -> list[tuple[str, str | None, int]]:
    with runtime.sessions() as session:
        assert reconcile(session) == []
        rows = session.execute(
            sa.select(LedgerTransfer.key, LedgerTransfer.source_id, LedgerTransfer.amount).where(
                LedgerTransfer.code == REFUND_CODE
            )
        ).all()
    return [(str(k), s, int(a)) for k, s, a in rows]


def _shown_and_held(client: TestClient, market: Market, campaign_id: int) -> tuple[int, int]:
    """The campaign's ``remaining_fen`` as shown, and what its ledger budget account holds."""
    headers = market.headers("advertiser")
    view = client.get(f"/v1/campaigns/{campaign_id}", headers=headers).json()
    account = client.get(f"/v1/ledger/accounts/{view['budget_account_id']}", headers=headers).json()
    return view["remaining_fen"], account["balance"]


def _transfer_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(sa.select(sa.func.count()).select_from(LedgerTransfer)) or 0)


def test_schedule_end_refunds_the_rest_once_and_stops_late_charges(
    client: TestClient, market: Market, runtime: Runtime
) -> None:
    start = dt.datetime.combine(DAY, dt.time(0), tzinfo=dt.UTC)
    campaign = _campaign(
        client,
        market,
        starts_at=start.isoformat(),
        ends_at=(start + dt.timedelta(hours=18)).isoformat(),
    )
    append_ad_impressions(runtime, campaign["id"], DAY, CHARGES)

    # The day before the end charges nothing, refunds nothing and the campaign runs on.
    assert ad_spend_step.charge_day(runtime, DAY - dt.timedelta(days=1)).refunded_fen == {}
    view = client.get(f"/v1/campaigns/{campaign['id']}", headers=market.headers("advertiser"))
    assert view.json()["status"] == "active"
    result = ad_spend_step.charge_day(runtime, DAY)
    assert result.spent_fen == COLLECTED_FEN
    assert result.refunded_fen == {campaign["id"]: BUDGET_FEN - COLLECTED_FEN}
    assert _refunds(runtime) == [
        (f"campaign-refund:{campaign['id']}", str(campaign["id"]), BUDGET_FEN - COLLECTED_FEN)
    ]
    assert _prepaid_balance(runtime, market.advertiser) == (
        DEPOSITED_FEN - BUDGET_FEN + BUDGET_FEN - COLLECTED_FEN
    )
    view = client.get(f"/v1/campaigns/{campaign['id']}", headers=market.headers("advertiser"))
    assert (view.json()["spent_fen"], view.json()["status"]) == (COLLECTED_FEN, "ended")
    assert view.json()["refunded_fen"] == BUDGET_FEN - COLLECTED_FEN
    assert _shown_and_held(client, market, campaign["id"]) == (0, 0)

    before = _transfer_count(runtime)
    again = ad_spend_step.charge_day(runtime, DAY)
    assert (again.transfers_created, again.refunded_fen) == (0, {})
    assert _transfer_count(runtime) == before

    # A late impression reported after the refund is refused, and its creator is not paid.
    append_ad_impressions(runtime, campaign["id"], DAY, [("late", 1, 700)])
    late = ad_spend_step.charge_day(runtime, DAY)
    assert [(p.kind, p.id, p.affects_money) for p in late.problems] == [("ad_event", "late", True)]
    assert "budget is exhausted" in late.problems[0].reason
    settled = settlement_step.settle_day(runtime, DAY)
    assert [(p.kind, p.id, p.affects_money) for p in settled.problems] == [
        ("ad_event", "late", True)
    ]
    assert settled.problems[0].reason == "campaign budget exhausted; not paid"
    with runtime.sessions() as session:
        paid = set(
            session.scalars(
                sa.select(LedgerTransfer.source_id).where(
                    LedgerTransfer.code.in_(("ad_spend", "ad_revenue_share"))
                )
            )
        )
    assert paid == {"i1", "i2"}
    assert len(_refunds(runtime)) == 1


def test_ending_a_campaign_refunds_what_was_not_collected(
    client: TestClient, market: Market, runtime: Runtime
) -> None:
    campaign = _campaign(client, market)
    append_ad_impressions(runtime, campaign["id"], DAY, CHARGES)
    assert ad_spend_step.charge_day(runtime, DAY).refunded_fen == {}  # still running
    left = BUDGET_FEN - COLLECTED_FEN
    assert _shown_and_held(client, market, campaign["id"]) == (left, left)

    paused = client.patch(
        f"/v1/campaigns/{campaign['id']}",
        json={"status": "paused"},
        headers=market.headers("advertiser"),
    )
    assert paused.status_code == 200, paused.text
    assert _refunds(runtime) == []  # a paused campaign may resume: its budget stays

    ended = client.patch(
        f"/v1/campaigns/{campaign['id']}",
        json={"status": "ended"},
        headers=market.headers("advertiser"),
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["spent_fen"] == COLLECTED_FEN
    assert (ended.json()["refunded_fen"], ended.json()["remaining_fen"]) == (left, 0)
    assert _shown_and_held(client, market, campaign["id"]) == (0, 0)
    assert _refunds(runtime) == [
        (f"campaign-refund:{campaign['id']}", str(campaign["id"]), BUDGET_FEN - COLLECTED_FEN)
    ]
    assert _prepaid_balance(runtime, market.advertiser) == DEPOSITED_FEN - COLLECTED_FEN

    before = _transfer_count(runtime)
    operator_end = client.patch(
        f"/v1/campaigns/{campaign['id']}",
        json={"status": "ended"},
        headers=market.headers("operator"),
    )
    assert operator_end.status_code == 200, operator_end.text
    assert ad_spend_step.charge_day(runtime, DAY).refunded_fen == {}
    assert _transfer_count(runtime) == before
    assert len(_refunds(runtime)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_concurrent_refunds_post_once(client: TestClient, market: Market, runtime: Runtime) -> None:
    campaign = _campaign(client, market)
    append_ad_impressions(runtime, campaign["id"], DAY, CHARGES)
    ad_spend_step.charge_day(runtime, DAY)
    target = [(market.advertiser, int(campaign["id"]))]

    def refund(_: int) -> dict[int, int]:
        return runtime.write(lambda s: refund_budgets(s, target, now=NOW))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(refund, range(16)))
    assert [r for r in results if r] == [{campaign["id"]: BUDGET_FEN - COLLECTED_FEN}]
    assert len(_refunds(runtime)) == 1
    assert _prepaid_balance(runtime, market.advertiser) == DEPOSITED_FEN - COLLECTED_FEN
