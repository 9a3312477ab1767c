"""Under a ``monetize`` policy the copy creator's income not traced to any work (here a
profile-page ad share) is apportioned by the copy's share of that creator's plays on the
income's day: posted once, through the ledger, reported, and returned on a won dispute."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from guanghe.ledger import IncomeLine, reconcile
from guanghe.originality import DayPlays, MonetizedMatch, TracedIncome, untraced_requests
from guanghe.pipelines.copy_earnings_step import settle_copy_earnings
from guanghe.pipelines.settlement_step import settle_day
from guanghe.runtime import Runtime
from tests.originality.conftest import Publish
from tests.originality.pictures import picture
from tests.originality.test_policies import auth, balance, copy_of
from tests.pipelines.conftest import events, funded_campaign


def test_untraced_income_is_apportioned_by_the_copys_plays_and_returned_on_a_won_dispute(
    publish: Publish, client: TestClient, token_for: Callable[..., str], runtime: Runtime
) -> None:
    original, copy = copy_of(publish, 83)
    other = publish(2, picture(9_183), title="my own work").json()
    assert other["originality"]["verdict"] != "duplicate", other
    author, uploader = auth(token_for("creator", 1)), auth(token_for("creator", 2))
    match = client.get("/v1/originality/matches", headers=uploader).json()
    effective = dt.datetime.fromisoformat(match[0]["effective_at"])
    client.post(
        "/v1/originality/policies", json={"policy": "monetize", "work_id": original}, headers=author
    )

    campaign = funded_campaign(runtime, budget_fen=100_000)
    day = (effective + dt.timedelta(days=1)).date()
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    before = effective - dt.timedelta(days=1)
    ad = {"type": "ad_impression", "creator_id": 2, "count": 10, "campaign_id": campaign}
    play = {"type": "play", "creator_id": 2}
    runtime.event_log.append(
        events(
            [
                # a day before the match: profile income and plays of the copy stay untouched
                ad | {"event_id": "p0", "ts": before, "amount_fen": 400},
                play | {"event_id": "v0", "ts": before, "work_id": copy, "count": 90},
                # the match's day after: the copy has 30 of the creator's 100 plays
                play | {"event_id": "v1", "ts": noon, "work_id": copy, "count": 30},
                play | {"event_id": "v2", "ts": noon, "work_id": other["id"], "count": 70},
                # traced to the copy: all of the creator's share redirected (as before)
                ad | {"event_id": "c1", "ts": noon, "work_id": copy, "amount_fen": 1_000},
                # profile-page ads, no work: 50 % share = 100 fen, of which 30 % is the copy's
                ad | {"event_id": "p1", "ts": noon, "amount_fen": 200},
            ]
        )
    )
    settle_day(runtime, before.date())
    settle_day(runtime, day)
    assert (balance(runtime, 1), balance(runtime, 2)) == (0, 200 + 500 + 100)

    report = settle_copy_earnings(runtime, now=noon + dt.timedelta(hours=10))
    assert report.problems == ()
    counts = report.counts
    assert (counts["redirects_posted"], counts["untraced_redirects_posted"]) == (2, 1)
    assert (counts["redirected_fen"], counts["untraced_redirected_fen"]) == (500, 30)
    assert (balance(runtime, 1), balance(runtime, 2)) == (530, 270)
    again = settle_copy_earnings(runtime, now=noon + dt.timedelta(hours=11))
    assert again.counts["redirects_posted"] == 0  # idempotent
    assert again.counts["untraced_redirected_fen"] == 0
    assert (balance(runtime, 1), balance(runtime, 2)) == (530, 270)
    with runtime.sessions() as session:
        assert reconcile(session) == []
    seen = client.get(f"/v1/originality/matches/{match[0]['id']}", headers=uploader).json()
    assert seen["redirected_fen"] == 530

    # a won dispute returns both redirects, the untraced one included
    dispute = client.post(
        "/v1/originality/disputes",
        json={"work_id": copy, "statement": "licensed from the author, contract attached"},
        headers=uploader,
    ).json()
    decided = client.post(
        f"/v1/originality/cases/{dispute['id']}/resolution",
        json={"resolution": "uphold", "note": "licence verified"},
        headers=auth(token_for("operator")),
    )
    assert decided.status_code == 200, decided.text
    assert (balance(runtime, 1), balance(runtime, 2)) == (0, 800)
    seen = client.get(f"/v1/originality/matches/{match[0]['id']}", headers=uploader).json()
    assert (seen["in_force"], seen["returned_fen"]) == (False, 530)
    later = settle_copy_earnings(runtime, now=noon + dt.timedelta(days=1))
    assert (later.counts["redirects_posted"], later.counts["returns_posted"]) == (0, 0)
    with runtime.sessions() as session:
        assert reconcile(session) == []


def test_a_day_without_plays_moves_no_untraced_income(
    publish: Publish, client: TestClient, token_for: Callable[..., str], runtime: Runtime
) -> None:
    original, _copy = copy_of(publish, 85)
    match = client.get("/v1/originality/matches", headers=auth(token_for("creator", 2))).json()
    effective = dt.datetime.fromisoformat(match[0]["effective_at"])
    client.post(
        "/v1/originality/policies",
        json={"policy": "monetize", "work_id": original},
        headers=auth(token_for("creator", 1)),
    )
    campaign = funded_campaign(runtime, budget_fen=10_000)
    day = (effective + dt.timedelta(days=1)).date()
    noon = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    ad = {"type": "ad_impression", "creator_id": 2, "count": 10, "campaign_id": campaign}
    runtime.event_log.append(events([ad | {"event_id": "p1", "ts": noon, "amount_fen": 200}]))
    settle_day(runtime, day)
    report = settle_copy_earnings(runtime, now=noon + dt.timedelta(hours=10))
    assert report.counts["income_untraced"] == 1
    assert report.counts["untraced_redirects_posted"] == 0
    assert (balance(runtime, 1), balance(runtime, 2)) == (0, 100)


T0 = dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)
COPIER, AUTHOR = 2, 1
ACCOUNTS = {(c, "earnings"): 100 + c for c in (COPIER, AUTHOR)}


def _line(transfer_id: int, kept: int, day: dt.date, *, taken_back: bool = False) -> IncomeLine:
    return IncomeLine(
        transfer_id=transfer_id,
        code="incentive_cash",
        creator_id=COPIER,
        amount=kept,
        kept=kept,
        source_kind="",
        source_id="",
        created_at=dt.datetime.combine(day, dt.time(23), tzinfo=dt.UTC),
        reversed=taken_back,
        business_day=day,
    )


@given(
    kept=st.integers(1, 10**9),
    copy_plays=st.integers(0, 10**6),
    other_plays=st.integers(0, 10**6),
    share=st.none() | st.integers(1, 10_000),
)
def test_the_untraced_rule_is_the_play_share_rounded_down_and_never_more_than_kept(
    kept: int, copy_plays: int, other_plays: int, share: int | None
) -> None:
    match = MonetizedMatch(7, 50, COPIER, AUTHOR, T0, share)
    day = T0.date() + dt.timedelta(days=1)
    plays = {(7, day): DayPlays(copy_plays, copy_plays + other_plays)}
    requests = untraced_requests([match], [_line(1, kept, day)], {}, plays, {}, ACCOUNTS)
    total = copy_plays + other_plays
    expected = 0 if total == 0 else kept * copy_plays * (share or 10_000) // (total * 10_000)
    assert sum(r.amount or 0 for r in requests) == expected <= kept
    assert all(r.key == "copy-redirect:7:1" for r in requests)
    # traced lines, lines taken back, days before the effective day and redirected ones: never
    assert not untraced_requests(
        [match], [_line(1, kept, day)], {1: TracedIncome(50, T0)}, plays, {}, ACCOUNTS
    )
    assert not untraced_requests(
        [match], [_line(1, kept, day, taken_back=True)], {}, plays, {}, ACCOUNTS
    )
    early = T0.date() - dt.timedelta(days=1)
    assert not untraced_requests(
        [match], [_line(1, kept, early)], {}, {(7, early): plays[(7, day)]}, {}, ACCOUNTS
    )
    assert not untraced_requests(
        [match], [_line(1, kept, day)], {}, plays, {"7:1": expected}, ACCOUNTS
    )
