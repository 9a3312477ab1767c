"""The hotspots page in headless Chromium: a creator opens it from the menu, picks their
vertical and sees the burst's hotspot with its curve drawn, and the calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from guanghe import hotspots
from guanghe.access import Principal, create_token
from guanghe.app import create_app
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import transaction
from tests.conftest import insert_seed_platform
from tests.hotspots.conftest import BURST_TOPIC, add_works, count_and_detect
from tests.live import serve

pytestmark = pytest.mark.browser

OPERATOR = Principal(user_id=1, role="operator", subject_id=None)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("hotspots"), database_url=""))
    runtime.init()
    insert_seed_platform(runtime)
    add_works(runtime)
    count_and_detect(runtime)
    now = dt.datetime.now(dt.UTC)
    spec = hotspots.EventSpec("Food week", "campaign", now.date(), now.date(), ("food",))
    runtime.write(lambda s: hotspots.create_event(s, OPERATOR, spec, now=now))
    with transaction(runtime.sessions) as session:
        _, token = create_token(session, role="creator", subject_id=1, name="t", now=now)
    with serve(create_app(runtime)) as url:
        yield url, token
    runtime.engine.dispose()


def test_a_creator_sees_the_hotspots_of_their_vertical(site: tuple[str, str], page: Page) -> None:
    base, token = site
    page.goto(f"{base}/login")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("button[type=submit]")
    page.click("#nav-hotspots")
    with page.expect_navigation():
        page.click("#hotspot-verticals >> text=Food")
    card = page.locator("#hotspot-list article").first
    expect(card).to_contain_text(f"#{BURST_TOPIC}")
    expect(card).to_contain_text("rising")
    canvas = card.locator("canvas")
    expect(canvas).to_be_visible()
    assert canvas.bounding_box() is not None
    expect(page.locator("#calendar-events")).to_contain_text("Food week")
