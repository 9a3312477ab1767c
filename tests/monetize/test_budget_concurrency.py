"""A campaign never commits past its budget, however many profile views race for it, and
however stale the serving cache of campaigns is (the conditional update re-checks the store)."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
import sqlalchemy as sa

from guanghe.access import Principal
from guanghe.monetize import (
    CampaignSpec,
    create_campaign,
    decide_profile_slot,
    set_authorisation,
    set_campaign_status,
)
from guanghe.monetize.slots import CampaignCache
from guanghe.runtime import Runtime
from guanghe.store import Campaign
from tests.monetize.conftest import NOW, Market

THREADS = 16
VIEWS = 240
BID_FEN = 3_000  # at most 3 fen (3,000 milli-fen) an impression
BUDGET_FEN = 100  # room for a few dozen impressions per campaign


OPERATOR = Principal(user_id=0, role="operator", subject_id=None)


def _serve(runtime: Runtime, creator_id: int, campaigns: CampaignCache | None) -> int | None:
    slot = runtime.write(
        lambda s: decide_profile_slot(
            s, creator_id, now=dt.datetime.now(dt.UTC), campaigns=campaigns
        ),
    )
    return slot.ad.campaign_id if slot.ad else None


def _campaigns(cached: bool) -> CampaignCache | None:
    """No cache (read every view), or one never refreshed during the test (the stalest)."""
    return CampaignCache(ttl=dt.timedelta(hours=1)) if cached else None


def _setup(runtime: Runtime, market: Market) -> list[int]:
    spec = CampaignSpec(
        name="tight",
        billing="cpm",
        bid_fen=BID_FEN,
        budget_fen=BUDGET_FEN,
        starts_at=NOW - dt.timedelta(hours=1),
        ends_at=NOW + dt.timedelta(days=1),
        pacing="asap",
        creative_title="t",
        creative_url="https://example.com",
    )
    ids = []
    for advertiser in (market.advertiser, market.other_advertiser):
        view = runtime.write(
            partial(
                create_campaign, principal=OPERATOR, advertiser_id=advertiser, spec=spec, now=NOW
            )
        )
        ids.append(view.id)
    for creator in range(1, 7):
        runtime.write(
            partial(
                set_authorisation,
                creator_id=creator,
                kind="profile_ads",
                granted=True,
                changed_by=None,
                now=NOW,
            )
        )
    return ids


@pytest.mark.parametrize("cached", [False, True], ids=["fresh", "cached"])
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_parallel_views_never_overspend_on_postgresql(
    runtime: Runtime, market: Market, cached: bool
) -> None:
    campaigns = _setup(runtime, market)
    cache = _campaigns(cached)
    with ThreadPoolExecutor(THREADS) as pool:
        served = list(pool.map(lambda i: _serve(runtime, 1 + i % 6, cache), range(VIEWS)))
    _assert_exhausted_within_budget(runtime, campaigns, served)
    assert served.count(None) > 0  # demand outran both budgets


@pytest.mark.parametrize("cached", [False, True], ids=["fresh", "cached"])
def test_sequential_views_stop_at_the_budget(
    runtime: Runtime, market: Market, cached: bool
) -> None:
    campaigns = _setup(runtime, market)
    cache = _campaigns(cached)
    served = [_serve(runtime, 1, cache) for _ in range(VIEWS)]
    _assert_exhausted_within_budget(runtime, campaigns, served)
    assert served[-1] is None


def test_a_paused_campaign_in_a_stale_cache_commits_nothing(
    runtime: Runtime, market: Market
) -> None:
    campaigns = _setup(runtime, market)
    cache = _campaigns(cached=True)
    assert _serve(runtime, 1, cache) in campaigns
    for campaign_id in campaigns:
        runtime.write(
            partial(
                set_campaign_status, principal=OPERATOR, campaign_id=campaign_id, status="paused"
            )
        )
    assert _serve(runtime, 1, cache) is None
    with runtime.sessions() as session:
        assert session.scalar(sa.select(sa.func.sum(Campaign.served_impressions))) == 1


def _assert_exhausted_within_budget(
    runtime: Runtime, campaigns: list[int], served: list[int | None]
) -> None:
    """Each campaign committed at most its budget, too little is left for one more
    impression, and every committed impression was an ad some view was given."""
    with runtime.sessions() as session:
        rows = session.execute(
            sa.select(Campaign.id, Campaign.reserved_millifen, Campaign.served_impressions)
        ).all()
    assert sorted(r[0] for r in rows) == sorted(campaigns)
    for campaign_id, reserved, impressions in rows:
        assert reserved <= BUDGET_FEN * 1_000
        assert BUDGET_FEN * 1_000 - reserved < BID_FEN
        assert impressions == served.count(campaign_id) > 0


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("preview", [False, True])
def test_a_committing_view_alone_skips_the_wal_flush_on_postgresql(
    runtime: Runtime, market: Market, preview: bool
) -> None:
    """The view that commits an impression does not wait for the disk; a preview, which
    writes nothing, leaves the setting alone, and the next transaction is durable again."""
    _setup(runtime, market)

    def view(session: sa.orm.Session) -> tuple[bool, str]:
        slot = decide_profile_slot(session, 1, now=dt.datetime.now(dt.UTC), preview=preview)
        return slot.ad is not None, session.scalar(sa.text("SHOW synchronous_commit"))

    # The suite's connections commit asynchronously (PGOPTIONS, tests/conftest.py): this test
    # connects with the server's durable default, which the view must change and restore.
    url = runtime.settings.database_url.replace(
        "synchronous_commit%3Doff", "synchronous_commit%3Don"
    )
    assert url != runtime.settings.database_url
    with Runtime(runtime.settings.model_copy(update={"database_url": url})) as durable:
        assert durable.write(view) == (True, "on" if preview else "off")
        with durable.sessions() as session:
            assert session.scalar(sa.text("SHOW synchronous_commit")) == "on"
