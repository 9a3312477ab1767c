"""Monetization in the dashboard, in headless Chromium against the app served by Uvicorn: the
creator's opt-in toggle, what their page shows and their earnings; the advertiser's and the
merchant's own dashboards; the operator's totals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from guanghe.access import Principal, create_token
from guanghe.app import create_app
from guanghe.monetize import (
    CampaignSpec,
    ProductSpec,
    create_campaign,
    create_product,
    deposit,
    register_party,
)
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import ProductPlacement, session_factory, transaction, writer_engine
from tests.conftest import insert_seed_platform
from tests.live import serve
from tests.web.browser import BrowserTab, sign_in

pytestmark = pytest.mark.browser

NOW = dt.datetime.now(dt.UTC)
OPERATOR = Principal(user_id=0, role="operator", subject_id=None)


@dataclass(frozen=True)
class MonetizedServer:
    url: str
    tokens: dict[str, str]


def _seed(runtime: Runtime) -> dict[str, str]:
    insert_seed_platform(runtime)
    with transaction(session_factory(writer_engine(runtime.engine))) as session:
        advertiser = register_party(session, "advertiser", "Acme Noodles", now=NOW).id
        merchant = register_party(session, "merchant", "Kitchen Shop", now=NOW).id
        deposit(session, advertiser, key="initial", amount_fen=50_000, now=NOW)
        spec = CampaignSpec(
            name="Noodle week",
            billing="cpm",
            bid_fen=3_000,
            budget_fen=20_000,
            starts_at=NOW - dt.timedelta(hours=1),
            ends_at=NOW + dt.timedelta(days=7),
            creative_title="Try Acme noodles",
            creative_url="https://acme.example/noodles",
        )
        create_campaign(session, OPERATOR, advertiser, spec, now=NOW)
        product = create_product(
            session,
            OPERATOR,
            merchant,
            ProductSpec("Cast iron wok", "kitchenware", 19_900, 1_500, 40),
            now=NOW,
        )
        session.add(
            ProductPlacement(
                creator_id=2, rank=1, product_id=product.id, score=1.0, as_of=NOW.date()
            )
        )
        subjects = {
            "operator": ("operator", None),
            "creator": ("creator", 2),
            "advertiser": ("advertiser", advertiser),
            "merchant": ("merchant", merchant),
        }
        return {
            who: create_token(session, role=role, subject_id=sid, name=who, now=NOW)[1]
            for who, (role, sid) in subjects.items()
        }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MonetizedServer]:
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("monetize"), database_url=""))
    runtime.init()
    tokens = _seed(runtime)
    with serve(create_app(runtime)) as url:
        yield MonetizedServer(url, tokens)
    runtime.engine.dispose()


def test_creator_opts_in_sees_the_ad_and_opts_out(server: MonetizedServer, tab: BrowserTab) -> None:
    page = tab.page
    page.on("requestfailed", lambda r: tab.errors.append("FAILED " + r.url))
    page.on(
        "response", lambda r: tab.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    sign_in(page, server.url, server.tokens["creator"])
    ads = page.locator("#authorisation-profile_ads .tag")
    expect(ads).to_have_attribute("data-state", "off")
    expect(page.locator("#profile-ad")).to_contain_text("Ads are off")
    expect(page.locator("#earnings")).to_contain_text("profile ads")

    with page.expect_navigation():
        page.click("#toggle-profile_ads")
    expect(ads).to_have_attribute("data-state", "on")
    expect(page.locator("#profile-ad")).to_contain_text("Try Acme noodles")

    with page.expect_navigation():
        page.click("#toggle-product_display")
    expect(page.locator("#profile-products")).to_contain_text("Cast iron wok")

    with page.expect_navigation():
        page.click("#toggle-profile_ads")
    expect(ads).to_have_attribute("data-state", "off")
    expect(page.locator("#profile-ad")).to_contain_text("Ads are off")
    tab.assert_local_and_clean()


def test_advertiser_and_merchant_see_their_own_dashboards(
    server: MonetizedServer, tab: BrowserTab
) -> None:
    page = tab.page
    sign_in(page, server.url, server.tokens["advertiser"])
    expect(page.locator("#campaigns")).to_contain_text("Noodle week")
    expect(page.locator("#capabilities")).to_be_visible()
    page.click("button:has-text('Sign out')")
    sign_in(page, server.url, server.tokens["merchant"])
    expect(page.locator("#products")).to_contain_text("Cast iron wok")
    expect(page.locator("#products")).to_contain_text("15.0%")
    tab.assert_local_and_clean()


def test_operator_sees_monetization_totals(server: MonetizedServer, tab: BrowserTab) -> None:
    page = tab.page
    sign_in(page, server.url, server.tokens["operator"])
    totals = page.locator("#monetization-totals")
    expect(totals).to_contain_text("Active campaigns")
    expect(totals).to_contain_text("20,000")
    tab.assert_local_and_clean()
