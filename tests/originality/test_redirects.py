"""The redirect rule as a pure function: only income traced to a monetized copy, earned at or
after its match took effect and not taken back, moves; never more than the copier kept; once."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from guanghe.ledger import IncomeLine
from guanghe.originality import MonetizedMatch, TracedIncome, redirect_requests

T0 = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
COPIER, AUTHOR, OTHER = 2, 1, 3
ACCOUNTS = {(c, "earnings"): 100 + c for c in (COPIER, AUTHOR, OTHER)}


def line(transfer_id: int, creator: int, kept: int, *, taken_back: bool = False) -> IncomeLine:
    return IncomeLine(
        transfer_id=transfer_id,
        code="ad_revenue_share",
        creator_id=creator,
        amount=kept + 10,
        kept=kept,
        source_kind="event",
        source_id=f"e{transfer_id}",
        created_at=T0,
        reversed=taken_back,
    )


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[MonetizedMatch, list[IncomeLine], dict[int, TracedIncome], dict[str, int]]:
    share = draw(st.none() | st.integers(1, 10_000))
    match = MonetizedMatch(
        7,
        copy_work_id=50,
        copy_creator_id=COPIER,
        original_creator_id=AUTHOR,
        effective_at=T0,
        copy_share_bp=share,
    )
    lines, traced, redirected = [], {}, {}
    for n in range(draw(st.integers(0, 12))):
        transfer_id = n + 1
        creator = draw(st.sampled_from([COPIER, OTHER]))
        lines.append(
            line(transfer_id, creator, draw(st.integers(0, 5_000)), taken_back=draw(st.booleans()))
        )
        if draw(st.booleans()):
            work = draw(st.sampled_from([50, 51]))
            traced[transfer_id] = TracedIncome(
                work, T0 + dt.timedelta(hours=draw(st.integers(-5, 5)))
            )
        if draw(st.integers(0, 4)) == 0:
            redirected[f"7:{transfer_id}"] = 1
    return match, lines, traced, redirected


@given(scenarios())
def test_only_owed_income_moves_once_and_never_more_than_was_kept(
    scenario: tuple[MonetizedMatch, list[IncomeLine], dict[int, TracedIncome], dict[str, int]],
) -> None:
    match, lines, traced, redirected = scenario
    requests = redirect_requests([match], lines, traced, redirected, ACCOUNTS)
    by_id = {item.transfer_id: item for item in lines}
    assert len({r.key for r in requests}) == len(requests)
    for request in requests:
        assert request.source is not None
        transfer_id = int(request.source[1].split(":")[1])
        income, trace = by_id[transfer_id], traced[transfer_id]
        assert trace.work_id == match.copy_work_id
        assert trace.earned_at >= match.effective_at
        assert income.creator_id == COPIER
        assert not income.reversed
        assert request.source[1] not in redirected
        assert request.amount is not None
        assert 0 < request.amount <= income.kept
        assert (request.debit_account_id, request.credit_account_id) == (
            ACCOUNTS[(COPIER, "earnings")],
            ACCOUNTS[(AUTHOR, "earnings")],
        )
    owed = {
        item.transfer_id
        for item in lines
        if item.creator_id == COPIER
        and not item.reversed
        and item.transfer_id in traced
        and traced[item.transfer_id].work_id == match.copy_work_id
        and traced[item.transfer_id].earned_at >= match.effective_at
        and f"7:{item.transfer_id}" not in redirected
        and (
            item.kept if match.copy_share_bp is None else item.kept * match.copy_share_bp // 10_000
        )
        > 0
    }
    assert {int(r.key.rsplit(":", 1)[1]) for r in requests} == owed
