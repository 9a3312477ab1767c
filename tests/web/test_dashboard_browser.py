"""The dashboard in headless Chromium, against the real app served by Uvicorn on 127.0.0.1.

Needs the system browser at ``/usr/bin/chromium`` (``apt-get install chromium``). Set
``GUANGHE_SCREENSHOT=1`` to also write the operator dashboard to ``docs/dashboard.png``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import expect

from guanghe.access import create_token
from guanghe.app import create_app
from guanghe.runtime import Runtime
from guanghe.settings import Settings
from guanghe.store import Creator, Institution, Work, transaction
from tests.live import serve
from tests.web.browser import BrowserTab, sign_in
from tests.web.growth_sample import write_growth_snapshot

pytestmark = pytest.mark.browser

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
NOW = dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC)
#: id, handle, vertical id, stage, followers, institution id
CREATORS = [
    (1, "lin.cooks", 1, "growing", 184_000, 1),
    (2, "chef.mei", 1, "mature", 2_350_000, 1),
    (3, "noodle.novice", 1, "novice", 2_100, None),
    (4, "pixel.wu", 2, "mature", 980_000, 2),
    (5, "speedrun.jun", 2, "growing", 76_500, 2),
    (6, "math.with.an", 4, "growing", 310_000, None),
    (7, "farm.days", 6, "novice", 8_400, 1),
    (8, "hill.village", 6, "growing", 121_000, 2),
    (9, "court.side", 7, "novice", 950, None),
]
#: id -> tier, stage, quality, followers, works_28d, active_days_28d, continuous_months
TIERS = {
    1: ("rising", "growing", 52.0, 184_000, 8, 5, 2),
    2: ("elite", "mature", 88.0, 2_350_000, 24, 18, 7),
    3: ("starter", "novice", 12.0, 2_100, 1, 1, 0),
    4: ("star", "mature", 74.5, 980_000, 15, 11, 2),
    5: ("rising", "growing", 47.0, 76_500, 6, 4, 1),
    6: ("star", "growing", 61.0, 310_000, 10, 7, 3),
    7: ("starter", "novice", 30.0, 8_400, 2, 2, 1),
    8: ("starter", "growing", 38.0, 121_000, 3, 3, 1),
    9: ("starter", "novice", 5.0, 950, 0, 0, 0),
}


@dataclass(frozen=True)
class LiveServer:
    url: str
    operator_token: str
    creator_token: str


def _seed(runtime: Runtime) -> tuple[str, str]:
    """A small platform over two weeks, assessed; returns an operator and a creator (id 4)
    token."""
    write_growth_snapshot(runtime.settings.data_dir, NOW.date(), TIERS)
    with transaction(runtime.sessions) as session:
        session.add_all(
            Institution(id=i, name=name, founded_on=dt.date(2020, 1, 1))
            for i, name in ((1, "Starlight MCN"), (2, "Riverbank MCN"))
        )
        session.flush()
        session.add_all(
            Creator(
                id=cid,
                handle=handle,
                display_name=handle.replace(".", " ").title(),
                vertical_id=vertical,
                joined_on=dt.date(2025, 3, cid),
                follower_count=followers,
                stage=stage,
                institution_id=institution,
            )
            for cid, handle, vertical, stage, followers, institution in CREATORS
        )
        session.flush()
        session.add_all(
            Work(
                creator_id=CREATORS[n % len(CREATORS)][0],
                published_at=NOW - dt.timedelta(days=(n * 5) % 14, hours=n % 11),
                title=f"Work {n}",
                vertical_id=CREATORS[n % len(CREATORS)][2],
                duration_s=30 + n,
            )
            for n in range(60)
        )
        _, operator = create_token(
            session, role="operator", subject_id=None, name="browser operator", now=NOW
        )
        _, creator = create_token(
            session, role="creator", subject_id=4, name="browser creator", now=NOW
        )
    return operator, creator


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app over a seeded SQLite store, served by Uvicorn in a background thread."""
    data_dir = tmp_path_factory.mktemp("browser")
    runtime = Runtime(Settings(data_dir=data_dir, database_url=""))
    runtime.init()
    operator, creator = _seed(runtime)
    with serve(create_app(runtime)) as url:
        yield LiveServer(url, operator, creator)
    runtime.engine.dispose()


def test_bad_token_shows_an_error(live_server: LiveServer, tab: BrowserTab) -> None:
    page = tab.page
    page.goto(live_server.url + "/")
    assert page.url == f"{live_server.url}/login"
    page.fill("#token", "gh_this-is-not-a-token")
    with page.expect_response(f"{live_server.url}/login") as response:
        page.click("button[type=submit]")
    assert response.value.status == 401
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("unknown or revoked")
    tab.errors.clear()  # Chromium logs the 401 document load itself as a console error
    tab.assert_local_and_clean()


def test_operator_sees_totals_charts_and_filters(live_server: LiveServer, tab: BrowserTab) -> None:
    page = tab.page
    sign_in(page, live_server.url, live_server.operator_token)
    assert page.url == f"{live_server.url}/dashboard"
    expect(page.locator("#total-creators .stat-value")).to_have_text("9")
    expect(page.locator("#total-works .stat-value")).to_have_text("60")
    expect(page.locator("#total-institutions .stat-value")).to_have_text("2")
    for chart_id in ("chart-stages", "chart-works"):
        drawn = page.evaluate(
            """id => {
                const canvas = document.getElementById(id);
                const chart = window.Chart && window.Chart.getChart(canvas);
                return chart ? [chart.config.type, canvas.width, canvas.height] : null;
            }""",
            chart_id,
        )
        assert drawn is not None, f"{chart_id} has no Chart.js instance"
        assert min(drawn[1], drawn[2]) > 0, f"{chart_id} has no area"
    rows = page.locator("#creator-rows tr")
    expect(rows).to_have_count(len(CREATORS))
    if os.environ.get("GUANGHE_SCREENSHOT"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
    with page.expect_response(lambda r: "/dashboard/creators?" in r.url) as fragment:
        page.select_option("#filter-vertical", "gaming")
    assert fragment.value.request.headers.get("hx-request") == "true"
    expect(rows).to_have_count(2)
    expect(page.locator("#creator-rows")).to_contain_text("@pixel.wu")
    expect(page.locator("#creator-rows")).not_to_contain_text("@chef.mei")
    page.select_option("#filter-stage", "growing")
    expect(rows).to_have_count(1)
    expect(page.locator("#creator-rows")).to_contain_text("@speedrun.jun")
    assert page.url == f"{live_server.url}/dashboard"
    tab.assert_local_and_clean()


def test_creator_sees_only_itself(live_server: LiveServer, tab: BrowserTab) -> None:
    page = tab.page
    sign_in(page, live_server.url, live_server.creator_token)
    expect(page.locator("#profile")).to_contain_text("@pixel.wu")
    body = page.locator("body").inner_text()
    others = [handle for _, handle, *_ in CREATORS if handle != "pixel.wu"]
    assert not [handle for handle in others if handle in body]
    drawn = page.evaluate("() => !!window.Chart.getChart(document.getElementById('chart-works'))")
    assert drawn
    page.click("text=Sign out")
    page.wait_for_url(f"{live_server.url}/login")
    tab.assert_local_and_clean()


def test_operator_sees_creators_per_tier(live_server: LiveServer, tab: BrowserTab) -> None:
    page = tab.page
    sign_in(page, live_server.url, live_server.operator_token)
    rows = page.locator("#tier-counts tbody tr")
    expect(rows).to_have_count(4)
    counts = [row.split("\t") for row in rows.all_inner_texts()]
    assert counts == [["Starter", "4"], ["Rising", "2"], ["Star", "2"], ["Elite", "1"]]
    tab.assert_local_and_clean()


def test_creator_sees_tier_rights_and_the_path_to_the_next(
    live_server: LiveServer, tab: BrowserTab
) -> None:
    page = tab.page
    sign_in(page, live_server.url, live_server.creator_token)
    expect(page.locator("#growth-tier")).to_have_text("Star")
    expect(page.locator('#growth-rights [data-right="pre_diagnosis"]')).to_have_attribute(
        "data-status", "active"
    )
    coming = page.locator('#growth-rights [data-status="coming"]')
    expect(coming).to_have_count(1)
    expect(coming.first).to_contain_text("coming")
    expect(page.locator("#next-tier")).to_have_text("Elite")
    followers = page.locator('[data-requirement="min_followers"]')
    expect(followers).to_have_attribute("data-met", "no")
    expect(followers.locator("td.num")).to_have_text(["980,000", "1,000,000"])
    expect(page.locator('[data-requirement="min_continuous_months"] td.num')).to_have_text(
        ["2", "3"]
    )
    expect(page.locator('[data-requirement="min_quality"]')).to_have_attribute("data-met", "yes")
    assert page.locator("#growth progress").count() == 2
    tab.assert_local_and_clean()
