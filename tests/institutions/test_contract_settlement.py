"""A contract proposed and accepted drives settlement with its per-source splits: one order
and one ad impression under it, and each side's statement."""

from __future__ import annotations

import datetime as dt

from guanghe.access import Principal
from guanghe.institutions import accept_contract, propose_contract
from guanghe.ledger import find_account, monthly_statement
from guanghe.ledger.settlement import earnings
from guanghe.pipelines import ad_spend_step
from guanghe.pipelines.settlement_step import settle_day
from guanghe.runtime import Runtime
from guanghe.store import transaction
from tests.pipelines.conftest import at, events, funded_campaign
from tests.seed import SeedPlatform

DAY = dt.date(2026, 11, 2)
INSTITUTION = Principal(user_id=10, role="institution", subject_id=2)
CREATOR = Principal(user_id=11, role="creator", subject_id=4)


def test_one_order_and_one_ad_are_split_per_source(
    runtime: Runtime, seed_platform: SeedPlatform
) -> None:
    proposed_at = dt.datetime(2026, 11, 1, 9, tzinfo=dt.UTC)
    with transaction(runtime.sessions) as session:
        contract = propose_contract(
            session,
            INSTITUTION,
            2,
            creator_id=4,
            splits={"ads": 3_000, "commerce": 1_000, "tasks": 500, "incentives": 0},
            valid_from=dt.date(2026, 11, 1),
            valid_to=None,
            exclusive=True,
            notice_days=30,
            now=proposed_at,
        )
        accept_contract(session, CREATOR, contract.id, now=proposed_at)
    campaign = funded_campaign(runtime, budget_fen=10_000)
    runtime.event_log.append(
        events(
            [
                {
                    "event_id": "ad-1",
                    "type": "ad_impression",
                    "ts": at(DAY),
                    "creator_id": 4,
                    "amount_fen": 2_000,
                    "campaign_id": campaign,
                },
                {
                    "event_id": "order-1",
                    "type": "order",
                    "ts": at(DAY),
                    "creator_id": 4,
                    "product_id": 1,
                    "amount_fen": 9_900,
                    "commission_fen": 900,
                },
            ]
        )
    )
    ad_spend_step.charge_day(runtime, DAY)
    for n in range(8):  # the return window closes seven days after the order
        result = settle_day(runtime, DAY + dt.timedelta(days=n))
        assert not result.problems
    with runtime.sessions() as session:
        creator = find_account(session, earnings("creator", 4))
        institution = find_account(session, earnings("institution", 2))
        assert creator is not None
        assert institution is not None
        mine = monthly_statement(session, creator, DAY)
        theirs = monthly_statement(session, institution, DAY)
    # ad: 50 % of 2,000 to the creator, 30 % of that to the institution;
    # order: 900 commission, 10 % of it to the institution
    assert sorted((line.code, line.direction, line.amount) for line in mine.lines) == [
        ("ad_institution_split", "debit", 300),
        ("ad_revenue_share", "credit", 1_000),
        ("commission_institution_split", "debit", 90),
        ("commission_post", "credit", 900),
    ]
    assert mine.closing_balance == 1_000 - 300 + 900 - 90
    assert sorted((line.code, line.amount) for line in theirs.lines) == [
        ("ad_institution_split", 300),
        ("commission_institution_split", 90),
    ]
    assert theirs.closing_balance == 390
